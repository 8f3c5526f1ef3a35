// Package verify checks whether leaked secrets are live and revokes confirmed
// ones, by running the HTTP steps of rules' [rule.verify] and [rule.revoke]
// tables, safely: HTTPS only (plain http only to loopback hosts), no redirect to
// another host, a per-host rate limit and a global concurrency cap, a timeout per
// request, retries with jittered backoff that honour Retry-After, bodies read up
// to a cap, and secrets kept out of every log, error, output and audit record.
package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/internal/netx"
	"github.com/tokenward/tokenward/internal/textdist"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/verify/check"
)

// Options configure a Verifier. Zero values select the defaults.
type Options struct {
	// Endpoints overrides base URLs: rule id or family (case-insensitive) -> URL,
	// as given by --endpoint RULE_OR_FAMILY=URL. See ParseEndpoints.
	Endpoints map[string]string
	// Timeout bounds each HTTP attempt (default 10s).
	Timeout time.Duration
	// Concurrency caps requests in flight across all hosts (default 8).
	Concurrency int
	// PerHostRate is the most requests per second sent to one host (default 4).
	PerHostRate float64
	// MaxBody is the most response bytes read (default 1 MiB); a longer body
	// makes the result unknown.
	MaxBody int64
	// Retries after a network error, timeout, 429 or 5xx (default 2; negative: none).
	Retries int
	// BackoffBase is the first retry delay before jitter (default 500ms); it doubles.
	BackoffBase time.Duration
	// MaxRetryWait is the longest wait honoured, for Retry-After too (default 30s):
	// a provider asking for more yields unknown at once.
	MaxRetryWait time.Duration
	// ConfirmAttempts is how many times a revoked secret is re-verified before
	// the revocation counts as unconfirmed (default 3), ConfirmDelay the pause
	// before each re-check after the first (default 2s).
	ConfirmAttempts int
	ConfirmDelay    time.Duration
	// Client is the HTTP client to use (its redirect policy and cookie jar are
	// replaced; an *http.Transport is cloned and dials through the egress
	// guard; another RoundTripper is trusted to apply its own egress policy).
	// Default: a client on a clone of http.DefaultTransport.
	Client *http.Client
	// AllowInternal lets verification reach loopback, private, link-local and
	// metadata addresses (--allow-internal). Without it only the hosts named in
	// Endpoints (and configured proxies) may resolve to such addresses.
	AllowInternal bool
	// Logger receives request-level logs (never secrets). Default: discarded.
	Logger *slog.Logger
	// UserAgent is sent with every request (default "tokenward-verify").
	UserAgent string
	// Now is the clock for checked_at and audit records (default time.Now).
	Now func() time.Time
	// Checks are the Go verifiers rules may name (verifier = "NAME"); nil
	// means Builtin().
	Checks map[string]check.Check
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.PerHostRate <= 0 {
		o.PerHostRate = 4
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	switch {
	case o.Retries == 0:
		o.Retries = 2
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 500 * time.Millisecond
	}
	if o.MaxRetryWait <= 0 {
		o.MaxRetryWait = 30 * time.Second
	}
	if o.ConfirmAttempts <= 0 {
		o.ConfirmAttempts = 3
	}
	if o.ConfirmDelay <= 0 {
		o.ConfirmDelay = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.UserAgent == "" {
		o.UserAgent = "tokenward-verify"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Checks == nil {
		o.Checks = Builtin()
	}
}

// Verifier runs verify and revoke specs. It is safe for concurrent use.
type Verifier struct {
	opts    Options
	log     *slog.Logger
	client  *http.Client
	limiter *hostLimiter
	guard   *netx.Guard
	sem     chan struct{}
	verify  map[string]*spec // by rule id
	revoke  map[string]*spec
	// require holds the companions of composite rules, by rule id.
	require map[string][]rules.Require
}

// New compiles the verify and revoke specs of every rule in rs. It fails when a
// spec or an endpoint override is invalid, naming the rule.
func New(rs *rules.Set, opts Options) (*Verifier, error) {
	opts.defaults()
	eps := map[string]string{}
	guard := &netx.Guard{AllowInternal: opts.AllowInternal}
	guard.AllowProxies()
	for k, u := range opts.Endpoints {
		if err := rules.CheckBaseURL(u); err != nil {
			return nil, fmt.Errorf("--endpoint %s: %v", k, err)
		}
		eps[strings.ToLower(k)] = u
		guard.Allow(u) // the operator named this host: it may be internal
	}
	if err := checkEndpointKeys(rs, opts.Endpoints, opts.Checks); err != nil {
		return nil, err
	}
	v := &Verifier{
		opts:    opts,
		log:     opts.Logger,
		guard:   guard,
		client:  newClient(opts.Client, guard),
		limiter: &hostLimiter{interval: time.Duration(float64(time.Second) / opts.PerHostRate), next: map[string]time.Time{}},
		sem:     make(chan struct{}, opts.Concurrency),
		verify:  map[string]*spec{},
		revoke:  map[string]*spec{},
		require: map[string][]rules.Require{},
	}
	if rs == nil {
		return v, nil
	}
	for _, r := range rs.Rules {
		if len(r.Require) > 0 {
			v.require[r.ID] = r.Require
		}
		if r.Verify == nil && r.Revoke == nil {
			continue
		}
		where := fmt.Sprintf("rule %q", r.ID)
		if r.Origin.File != "" {
			where = fmt.Sprintf("%s:%d: rule %q", r.Origin.File, r.Origin.Line, r.ID)
		}
		if err := rules.ValidateHTTPSpecs(r); err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		if r.Verify != nil {
			sp, err := v.compile(r, (*rules.HTTPSpec)(r.Verify), false, eps)
			if err != nil {
				return nil, fmt.Errorf("%s: [rule.verify] %v", where, err)
			}
			v.verify[r.ID] = sp
		}
		if r.Revoke != nil {
			sp, err := v.compile(r, (*rules.HTTPSpec)(r.Revoke), true, eps)
			if err != nil {
				return nil, fmt.Errorf("%s: [rule.revoke] %v", where, err)
			}
			v.revoke[r.ID] = sp
		}
	}
	return v, nil
}

// compile compiles an HTTP spec, or binds one that names a Go verifier.
func (v *Verifier) compile(r *rules.Rule, hs *rules.HTTPSpec, revoke bool, eps map[string]string) (*spec, error) {
	if hs.Verifier != "" {
		return compileGoSpec(r, hs, revoke, eps, v.opts.Checks)
	}
	return compileSpec(r, hs, revoke, eps)
}

// checkEndpointKeys fails on an --endpoint key that names no rule id or family
// with a verify or revoke spec in rs: a typo (githb=…) would otherwise be
// ignored and the secret sent to the public provider.
func checkEndpointKeys(rs *rules.Set, endpoints map[string]string, checks map[string]check.Check) error {
	if rs == nil || len(endpoints) == 0 {
		return nil
	}
	known := map[string]bool{}
	famSet := map[string]bool{}
	for _, r := range rs.Rules {
		for _, hs := range []*rules.HTTPSpec{(*rules.HTTPSpec)(r.Verify), (*rules.HTTPSpec)(r.Revoke)} {
			if hs == nil {
				continue
			}
			known[strings.ToLower(r.ID)] = true
			fam := hs.Family
			if c, ok := checks[hs.Verifier]; ok && fam == "" && hs.Verifier != "" {
				fam = c.Family()
			}
			if fam != "" {
				known[strings.ToLower(fam)] = true
				famSet[fam] = true
			}
		}
	}
	keys := make([]string, 0, len(endpoints))
	for k := range endpoints {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if known[strings.ToLower(k)] {
			continue
		}
		fams := make([]string, 0, len(famSet))
		for f := range famSet {
			fams = append(fams, f)
		}
		sort.Strings(fams)
		var near []string
		for _, f := range fams {
			if textdist.Levenshtein(strings.ToLower(k), strings.ToLower(f)) <= 2 {
				near = append(near, f)
			}
		}
		hint := ""
		if len(near) > 0 {
			hint = "did you mean " + strings.Join(near, " or ") + "? "
		}
		list := "none"
		switch {
		case len(fams) > 12:
			list = fmt.Sprintf("%d, listed by tokenward rules list --format json", len(fams))
		case len(fams) > 0:
			list = strings.Join(fams, ", ")
		}
		return fmt.Errorf("--endpoint %s: no rule or family %q has a verify or revoke spec; %sfamilies: %s (a rule id with a spec works too)", k, k, hint, list)
	}
	return nil
}

// CanVerify reports whether the rule has a verify spec.
func (v *Verifier) CanVerify(ruleID string) bool { return v.verify[ruleID] != nil }

// CanRevoke reports whether the rule has a revoke spec.
func (v *Verifier) CanRevoke(ruleID string) bool { return v.revoke[ruleID] != nil }

// Verify checks every secret finding and returns a copy of fs with Verification
// filled in. Identical checks (same spec, same secret and groups) run once.
// Hygiene findings are returned unchanged. A finding whose rule has no verify
// spec, or that carries no secret, is marked not_checked with the reason.
func (v *Verifier) Verify(ctx context.Context, fs []finding.Finding) []finding.Finding {
	out := make([]finding.Finding, len(fs))
	copy(out, fs)
	type job struct {
		sp      *spec
		f       *finding.Finding
		indices []int
		res     finding.Verification
	}
	jobs := map[string]*job{}
	var order []*job
	for i := range out {
		f := &out[i]
		if f.Kind == finding.KindHygiene {
			continue
		}
		sp := v.verify[f.RuleID]
		if vr, skip := v.precheck(sp, f); skip {
			f.Verification = &vr
			continue
		}
		key := jobKey(sp, f)
		j := jobs[key]
		if j == nil {
			j = &job{sp: sp, f: f}
			jobs[key] = j
			order = append(order, j)
		}
		j.indices = append(j.indices, i)
	}
	work := make(chan *job)
	var wg sync.WaitGroup
	for range min(v.opts.Concurrency, len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				j.res = v.check(ctx, j.sp, j.f)
			}
		}()
	}
	for _, j := range order {
		work <- j
	}
	close(work)
	wg.Wait()
	for _, j := range order {
		for _, i := range j.indices {
			vr := j.res
			out[i].Verification = &vr
		}
	}
	return out
}

// precheck returns a not_checked verification when sp cannot run for f.
func (v *Verifier) precheck(sp *spec, f *finding.Finding) (finding.Verification, bool) {
	nc := func(detail string) (finding.Verification, bool) {
		return finding.Verification{Status: finding.StatusNotChecked, Detail: detail}, true
	}
	switch {
	case sp == nil:
		return nc("rule " + f.RuleID + " has no verify spec")
	case f.Secret == "":
		return nc("the secret is not in the input (write the report with --show-secrets to verify from it)")
	}
	if d := missingPart(v.require[f.RuleID], f); d != "" {
		return nc(d)
	}
	switch {
	case sp.missingBase():
		key := sp.ruleID
		if sp.family != "" {
			key = sp.family
		}
		return nc("no endpoint configured: pass --endpoint " + key + "=https://HOST")
	}
	return finding.Verification{}, false
}

// missingPart says which companion of a composite credential f lacks ("" when
// it has them all): a part the scan did not find nearby, or whose secret the
// input does not hold.
func missingPart(reqs []rules.Require, f *finding.Finding) string {
	for _, q := range reqs {
		i := slices.IndexFunc(f.Parts, func(p finding.Part) bool { return p.RuleID == q.ID })
		if q.Optional && i < 0 {
			continue
		}
		switch {
		case i < 0 && q.WithinLines == nil:
			return "companion " + q.ID + " not found in the file: the credential cannot be checked without it"
		case i < 0:
			return fmt.Sprintf("companion %s not found within %d lines: the credential cannot be checked without it", q.ID, *q.WithinLines)
		case f.Parts[i].Secret == "":
			return "the secret of companion " + q.ID + " is not in the input (write the report with --show-secrets to verify from it)"
		}
	}
	return ""
}

func jobKey(sp *spec, f *finding.Finding) string {
	h := sha256.New()
	h.Write([]byte(sp.hash))
	h.Write([]byte{0})
	h.Write([]byte(f.Secret))
	keys := make([]string, 0, len(f.Groups))
	for k := range f.Groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s=%s", k, f.Groups[k])
	}
	for _, p := range f.Parts {
		fmt.Fprintf(h, "\x01%s=%s", p.RuleID, p.Secret)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// check runs a verify spec for one finding.
func (v *Verifier) check(ctx context.Context, sp *spec, f *finding.Finding) finding.Verification {
	e := newEnv(f, sp)
	if e.baseErr != nil {
		return finding.Verification{Status: finding.StatusNotChecked, Detail: e.baseErr.Error()}
	}
	var rr runResult
	if sp.goCheck != nil {
		rr = v.runGo(ctx, sp, f, e)
	} else {
		rr = v.run(ctx, sp, e)
		if rr.result == rules.ResultLive && sp.access != nil {
			rr.access = sp.access.render(e)
		}
	}
	return finding.Verification{
		Status:     rr.result,
		HTTPStatus: rr.httpStatus,
		CheckedAt:  v.opts.Now().UTC().Format(time.RFC3339),
		Detail:     rr.detail,
		Access:     rr.access,
	}
}

// runResult is the outcome of running a spec.
type runResult struct {
	result     string // live|invalid|unknown, or accepted|rejected|unknown for revoke specs
	httpStatus int
	detail     string
	access     *finding.Access // verify specs, live results
}

// run executes sp's steps in order (see rules.HTTPSpec for the semantics).
func (v *Verifier) run(ctx context.Context, sp *spec, e *env) runResult {
	proceed := rules.ResultLive
	if sp.revoke {
		proceed = rules.ResultAccepted
	}
	var rr runResult
	for i, st := range sp.steps {
		prefix := ""
		if len(sp.steps) > 1 {
			prefix = fmt.Sprintf("step %d: ", st.n)
		}
		req, err := st.render(e)
		if err != nil {
			return runResult{result: rules.ResultUnknown, httpStatus: rr.httpStatus, detail: e.sanitize(prefix + err.Error())}
		}
		resp, err := v.send(ctx, req, e)
		if err != nil {
			return runResult{result: rules.ResultUnknown, httpStatus: rr.httpStatus, detail: e.sanitize(prefix + err.Error())}
		}
		res, detail := st.classify(resp, e, sp.revoke, v.opts.MaxBody)
		rr = runResult{result: res, httpStatus: resp.status, detail: e.sanitize(prefixed(prefix, detail))}
		if res != proceed || i == len(sp.steps)-1 {
			return rr
		}
	}
	return rr
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// classify maps a response to a result. Transient and suspicious answers are
// unknown whatever the matchers say.
func (st *step) classify(r *response, e *env, revoke bool, maxBody int64) (string, string) {
	switch {
	case r.status == http.StatusTooManyRequests:
		if r.retryAfter > 0 {
			return rules.ResultUnknown, fmt.Sprintf("rate limited (HTTP 429); provider asks to retry after %s", r.retryAfter)
		}
		return rules.ResultUnknown, "rate limited (HTTP 429)"
	case r.status >= 500:
		return rules.ResultUnknown, fmt.Sprintf("provider error (HTTP %d)", r.status)
	case r.truncated:
		return rules.ResultUnknown, fmt.Sprintf("HTTP %d with a body over %d bytes; not an API answer", r.status, maxBody)
	case r.isHTML() && !st.allowHTML:
		return rules.ResultUnknown, fmt.Sprintf("HTTP %d with an HTML page instead of an API answer (block page or captcha?)", r.status)
	}
	st.extractInto(r, e)
	e.status = r.status
	for _, m := range st.match {
		if m.holds(r) {
			de := e.displayEnv()
			de.detail = true
			d, err := m.detail.Render(de.lookup)
			if err != nil {
				d = ""
			}
			return m.result, strings.TrimSpace(d)
		}
	}
	if revoke && len(st.match) == 0 {
		if r.status >= 200 && r.status < 300 {
			return rules.ResultAccepted, ""
		}
		return rules.ResultRejected, fmt.Sprintf("HTTP %d", r.status)
	}
	return rules.ResultUnknown, fmt.Sprintf("HTTP %d matched no rule", r.status)
}

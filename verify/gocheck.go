package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/verify/check"
	"github.com/tokenward/tokenward/verify/check/alibaba"
	"github.com/tokenward/tokenward/verify/check/awscheck"
	"github.com/tokenward/tokenward/verify/check/azure"
	"github.com/tokenward/tokenward/verify/check/gcp"
	"github.com/tokenward/tokenward/verify/check/sqldb"
	"github.com/tokenward/tokenward/verify/check/tencent"
)

// Builtin lists the live checks written in Go, by the name a rule gives in
// [rule.verify] verifier = "NAME". It is the one list: a check that is not
// here cannot be named by a rule.
func Builtin() map[string]check.Check {
	return map[string]check.Check{
		"alibaba-sts":              alibaba.CallerIdentity{},
		"azure-client-credentials": azure.ClientSecret{},
		"gcp-service-account":      gcp.ServiceAccount{},
		"mongodb":                  sqldb.Mongo{},
		"postgres":                 sqldb.Postgres{},
		"mysql":                    sqldb.MySQL{},
		"redis":                    sqldb.Redis{},
		"tencent-sts":              tencent.CallerIdentity{},
		"aws-sts":                  awscheck.STS{}, // aws-access-key-id with its secret key
		"aws-iam":                  awscheck.IAM{}, // revokes: the key deactivates itself
	}
}

// goCheckNames lists the names of checks, sorted, for error messages.
func goCheckNames(cs map[string]check.Check) string {
	names := make([]string, 0, len(cs))
	for n := range cs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// compileGoSpec binds a spec that names a Go verifier.
func compileGoSpec(r *rules.Rule, hs *rules.HTTPSpec, revoke bool, endpoints map[string]string, cs map[string]check.Check) (*spec, error) {
	c, ok := cs[hs.Verifier]
	if !ok {
		return nil, fmt.Errorf("verifier %q is not a Go verifier tokenward has; known: %s", hs.Verifier, goCheckNames(cs))
	}
	if _, can := c.(check.Revoker); revoke && !can {
		return nil, fmt.Errorf("verifier %q cannot revoke", hs.Verifier)
	}
	fam := hs.Family
	if fam == "" {
		fam = c.Family()
	}
	sp := &spec{ruleID: r.ID, family: fam, revoke: revoke, goName: hs.Verifier, goCheck: c}
	if e, ok := endpoints[strings.ToLower(r.ID)]; ok {
		sp.base = e
	} else if e, ok := endpoints[strings.ToLower(fam)]; ok {
		sp.base = e
	}
	sp.hash = fmt.Sprintf("go\x00%s\x00%s\x00%v", hs.Verifier, sp.base, revoke)
	return sp, nil
}

// credential is what a Go check sees of f.
func credential(f *finding.Finding) check.Credential {
	c := check.Credential{RuleID: f.RuleID, Secret: f.Secret, Groups: f.Groups}
	if len(f.Parts) > 0 {
		c.Parts = map[string]string{}
		for _, p := range f.Parts {
			c.Parts[p.RuleID] = p.Secret
		}
	}
	return c
}

// checkEnv hands a Go check the verifier's guarded network.
func (v *Verifier) checkEnv(sp *spec) *check.Env {
	return &check.Env{
		HTTP:      &http.Client{Transport: guardedTransport{v: v}, CheckRedirect: v.client.CheckRedirect},
		Dial:      v.dial,
		Endpoint:  sp.base,
		Timeout:   v.opts.Timeout,
		MaxBody:   v.opts.MaxBody,
		UserAgent: v.opts.UserAgent,
		Now:       v.opts.Now,
	}
}

// dial connects through the egress guard, under the concurrency cap's
// accounting of hosts (the per-host rate limit applies to the connection).
func (v *Verifier) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if err := v.limiter.wait(ctx, host); err != nil {
		return nil, err
	}
	return v.guard.DialContext(&net.Dialer{Timeout: v.opts.Timeout})(ctx, network, addr)
}

// runGo runs a Go check for one finding.
func (v *Verifier) runGo(ctx context.Context, sp *spec, f *finding.Finding, e *env) runResult {
	c := credential(f)
	if sp.revoke {
		rv := sp.goCheck.(check.Revoker) // checked when compiled
		r := rv.Revoke(ctx, v.checkEnv(sp), c)
		switch r.Result {
		case check.Accepted, check.Rejected:
		default:
			r.Result = check.Unknown
		}
		return runResult{result: r.Result, httpStatus: r.HTTPStatus, detail: e.sanitize(r.Detail)}
	}
	r := sp.goCheck.Verify(ctx, v.checkEnv(sp), c)
	switch r.Status {
	case finding.StatusLive, finding.StatusInvalid:
	default:
		r.Status = finding.StatusUnknown
	}
	rr := runResult{result: r.Status, httpStatus: r.HTTPStatus, detail: e.sanitize(r.Detail)}
	if r.Status == finding.StatusLive {
		rr.access = sanitizeAccess(r.Access, e)
	}
	return rr
}

// sanitizeAccess scrubs every secret form from an access map.
func sanitizeAccess(a *finding.Access, e *env) *finding.Access {
	if a.Empty() {
		return nil
	}
	out := &finding.Access{Identity: e.sanitize(a.Identity), Account: e.sanitize(a.Account),
		ResourceKind: e.sanitize(a.ResourceKind), Resources: a.Resources}
	for _, s := range a.Scopes {
		out.Scopes = append(out.Scopes, e.sanitize(s))
	}
	if len(a.Properties) > 0 {
		out.Properties = map[string]string{}
		for k, p := range a.Properties {
			out.Properties[e.sanitize(k)] = e.sanitize(p)
		}
	}
	return out
}

// guardedTransport sends a Go check's requests the way spec requests are sent:
// proxy check, per-host rate limit, concurrency cap and per-attempt timeout,
// with the body read capped.
type guardedTransport struct{ v *Verifier }

func (t guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	v := t.v
	ctx := req.Context()
	if err := rules.CheckBaseURL(req.URL.Scheme + "://" + req.URL.Host); err != nil {
		return nil, &sendError{msg: err.Error(), final: true}
	}
	if err := v.proxyCheck(req); err != nil {
		return nil, err
	}
	release, err := v.acquire(ctx, req.URL.Host)
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, v.opts.Timeout)
	r2 := req.Clone(actx)
	if r2.Header.Get("User-Agent") == "" {
		r2.Header.Set("User-Agent", v.opts.UserAgent)
	}
	resp, err := v.client.Transport.RoundTrip(r2)
	release()
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: v.opts.MaxBody, cancel: cancel}
	return resp, nil
}

// errBodyTooLong is returned by a capped body read past the cap.
var errBodyTooLong = errors.New("response body over the verify cap; not an API answer")

type cappedBody struct {
	rc     io.ReadCloser
	left   int64
	cancel context.CancelFunc
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, err := b.rc.Read(one[:]); n == 0 && err != nil {
			return 0, err
		}
		return 0, errBodyTooLong
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}

package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

// providerCase fakes one provider's API for one built-in rule, from the
// provider's documented requests and responses. TestProviderSpecs runs every
// case three ways (live, invalid, rate-limited or failing = unknown) and,
// when the rule can revoke, the whole verify → revoke → re-verify loop.
//
// Files verify/providers_*_test.go add cases with
//
//	func init() { providerCases = append(providerCases, someCases...) }
type providerCase struct {
	rule string // built-in rule id
	docs string // the documentation the fake follows (URL)
	// endpoint is the --endpoint key pointed at the fake (default: the rule's
	// family, else its id); the fake serves the spec's {{base}}.
	endpoint string
	secret   string // a live credential; must match the rule's regex
	// sample, for rules whose regex needs context around the secret (a
	// variable name: COHERE_API_KEY=…), is a line the regex matches with
	// secret as its secret group; secret itself then need not match.
	sample string
	groups map[string]string // named groups the spec's templates use
	parts  map[string]string // composite companions: rule id -> secret

	// The verify request: method (default GET) and path after the base URL
	// (with "?query" when the spec sends one, compared as a set of values).
	// A path segment "*" matches any one segment (a token in the path).
	method, path string
	// token reads the credential from the request as the provider does
	// (bearerToken, headerToken("X-Api-Key"), basicUser, basicPassword,
	// queryToken("key"), formToken("token"), jsonToken("token")...).
	token   func(r *http.Request, body []byte) string
	live    reply // documented answer for a valid credential
	invalid reply // documented answer for an invalid or revoked one
	// failing is the documented rate-limit or error answer (default: 429 with
	// Retry-After: 1); it must make the result unknown.
	failing *reply

	wantDetail string                       // substring of the live detail
	wantAccess func(a *finding.Access) bool // checks the live access map, when the spec maps it

	// Revocation, when the rule has a revoke spec: the request (path after the
	// revoke base) and the documented answer to a successful one. The token is
	// read with revokeToken (default: token).
	revokeMethod, revokePath string
	revokeToken              func(r *http.Request, body []byte) string
	revoked                  reply
	// also answers further documented calls of a multi-step spec ("GET /path"
	// -> reply), such as looking up a key's id between verify and revoke.
	also map[string]reply
}

// reply is one HTTP answer of a fake.
type reply struct {
	status int // default 200
	body   string
	header map[string]string // Content-Type defaults to application/json
}

var providerCases []providerCase

// Token readers.
func bearerToken(r *http.Request, _ []byte) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func schemeToken(scheme string) func(*http.Request, []byte) string {
	return func(r *http.Request, _ []byte) string {
		v := r.Header.Get("Authorization")
		if !strings.HasPrefix(v, scheme+" ") {
			return ""
		}
		return strings.TrimPrefix(v, scheme+" ")
	}
}

func headerToken(name string) func(*http.Request, []byte) string {
	return func(r *http.Request, _ []byte) string { return r.Header.Get(name) }
}

func basicUser(r *http.Request, _ []byte) string {
	u, _, _ := r.BasicAuth()
	return u
}

func basicPassword(r *http.Request, _ []byte) string {
	_, p, _ := r.BasicAuth()
	return p
}

func queryToken(name string) func(*http.Request, []byte) string {
	return func(r *http.Request, _ []byte) string { return r.URL.Query().Get(name) }
}

func formToken(name string) func(*http.Request, []byte) string {
	return func(r *http.Request, body []byte) string {
		q, _ := url.ParseQuery(string(body))
		return q.Get(name)
	}
}

func jsonToken(path string) func(*http.Request, []byte) string {
	return func(r *http.Request, body []byte) string {
		var doc any
		if json.Unmarshal(body, &doc) != nil {
			return ""
		}
		v, _ := lookupJSON(doc, splitPath(path))
		s, _ := v.(string)
		return s
	}
}

// pathToken reads the credential from the last path segment.
func pathToken(r *http.Request, _ []byte) string {
	return r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
}

// deadVariant is a credential of the same shape that the fake does not know.
func deadVariant(s string) string {
	b := []byte(s)
	for i := len(b) - 1; i >= 0; i-- {
		switch c := b[i]; {
		case c >= 'a' && c < 'z', c >= 'A' && c < 'Z', c >= '0' && c < '9':
			b[i]++
			return string(b)
		case c == 'z', c == 'Z', c == '9':
			b[i] -= 1
			return string(b)
		}
	}
	return s + "x"
}

// providerFake serves one case.
type providerFake struct {
	t    *testing.T
	c    *providerCase
	mu   sync.Mutex
	live map[string]bool
	fail bool
	hits int
	bad  []string // requests the spec should not have sent
}

func (p *providerFake) write(w http.ResponseWriter, rp reply) {
	ct := "application/json"
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", ct)
	}
	st := rp.status
	if st == 0 {
		st = 200
	}
	w.WriteHeader(st)
	io.WriteString(w, rp.body)
}

func samePath(want string, r *http.Request) bool {
	wp, wq, _ := strings.Cut(want, "?")
	if r.URL.Path != wp && !wildPath(wp, r.URL.Path) {
		return false
	}
	if wq == "" {
		return true
	}
	want2, _ := url.ParseQuery(wq)
	got := r.URL.Query()
	for k, vs := range want2 {
		if strings.Join(got[k], ",") != strings.Join(vs, ",") && !strings.Contains(strings.Join(vs, ","), "*") {
			return false
		}
	}
	return true
}

// wildPath matches path against pattern, whose "*" segments match any one
// non-empty segment.
func wildPath(pattern, path string) bool {
	ps, gs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if !strings.Contains(pattern, "*") || len(ps) != len(gs) {
		return false
	}
	for i := range ps {
		if ps[i] != gs[i] && (ps[i] != "*" || gs[i] == "") {
			return false
		}
	}
	return true
}

func (p *providerFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hits++
	c := p.c
	method := c.method
	if method == "" {
		method = "GET"
	}
	rmethod := c.revokeMethod
	if rmethod == "" {
		rmethod = "POST"
	}
	switch {
	case r.Method == method && samePath(c.path, r):
		if p.fail {
			rp := reply{status: 429, header: map[string]string{"Retry-After": "1"}, body: `{"error":"rate limited"}`}
			if c.failing != nil {
				rp = *c.failing
			}
			p.write(w, rp)
			return
		}
		if tok := c.token(r, body); tok != "" && p.live[tok] {
			p.write(w, c.live)
			return
		}
		p.write(w, c.invalid)
	case c.revokePath != "" && r.Method == rmethod && samePath(c.revokePath, r):
		read := c.revokeToken
		if read == nil {
			read = c.token
		}
		tok := read(r, body)
		if tok == "" || !p.live[tok] {
			p.write(w, c.invalid)
			return
		}
		delete(p.live, tok)
		p.write(w, c.revoked)
	default:
		if rp, ok := c.also[r.Method+" "+r.URL.Path]; ok {
			p.write(w, rp)
			return
		}
		p.bad = append(p.bad, r.Method+" "+r.URL.String())
		http.NotFound(w, r)
	}
}

var (
	builtinOnceT sync.Once
	builtinSetT  *rules.Set
	builtinErrT  error
)

func builtinTOML(t *testing.T) *rules.Set {
	t.Helper()
	builtinOnceT.Do(func() { builtinSetT, builtinErrT = rules.LoadBuiltinTOML() })
	if builtinErrT != nil {
		t.Fatal(builtinErrT)
	}
	return builtinSetT
}

func ruleByID(set *rules.Set, id string) *rules.Rule {
	for _, r := range set.Rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func (c *providerCase) finding() finding.Finding {
	f := secretFinding(c.rule, c.secret)
	f.Groups = c.groups
	for id, s := range c.parts {
		f.Parts = append(f.Parts, finding.Part{RuleID: id, Secret: s, Redacted: finding.Redact(s)})
	}
	sort.Slice(f.Parts, func(i, j int) bool { return f.Parts[i].RuleID < f.Parts[j].RuleID })
	return f
}

func TestProviderSpecs(t *testing.T) {
	set := builtinTOML(t)
	seen := map[string]int{}
	for i := range providerCases {
		c := &providerCases[i]
		seen[c.rule]++
		name := c.rule
		if seen[c.rule] > 1 {
			name = fmt.Sprintf("%s#%d", c.rule, seen[c.rule])
		}
		t.Run(name, func(t *testing.T) { runProviderCase(t, set, c) })
	}
}

func runProviderCase(t *testing.T, set *rules.Set, c *providerCase) {
	r := ruleByID(set, c.rule)
	switch {
	case r == nil:
		t.Fatalf("no built-in rule %q", c.rule)
	case r.Verify == nil:
		t.Fatalf("rule %q has no verify spec", c.rule)
	case !strings.HasPrefix(c.docs, "https://"):
		t.Fatalf("case %q cites no documentation (docs)", c.rule)
	case c.token == nil || c.path == "":
		t.Fatalf("case %q: set path and token", c.rule)
	}
	if re := r.Regexp(); re != nil && c.sample != "" {
		g := r.SecretGroup
		if g == 0 {
			g = 1
		}
		if m := re.FindStringSubmatch(c.sample); m == nil || g >= len(m) || m[g] != c.secret {
			t.Fatalf("rule %q's regex does not find the case's secret in its sample", c.rule)
		}
	} else if re != nil && !re.MatchString(c.secret) {
		t.Fatalf("the case's secret does not match rule %q's regex", c.rule)
	}
	key := c.endpoint
	if key == "" {
		key = r.Verify.Family
	}
	if key == "" {
		key = c.rule
	}
	fake := &providerFake{t: t, c: c, live: map[string]bool{c.secret: true}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	log, logs := logBuffer()
	o := fastOpts("", log)
	o.Endpoints = map[string]string{key: srv.URL}
	o.ConfirmAttempts = 1
	v, err := New(&rules.Set{Rules: []*rules.Rule{r}}, o)
	if err != nil {
		t.Fatal(err)
	}
	live := c.finding()
	dead := c.finding()
	dead.Secret = deadVariant(c.secret)
	if len(c.groups) > 0 {
		// A group that ends the secret (a webhook's token) changes with it.
		dead.Groups = map[string]string{}
		for k, g := range c.groups {
			if g != "" && strings.HasSuffix(c.secret, g) {
				g = deadVariant(g)
			}
			dead.Groups[k] = g
		}
	}
	out := v.Verify(context.Background(), []finding.Finding{live, dead})
	if got := out[0].Verification; got.Status != finding.StatusLive || !strings.Contains(got.Detail, c.wantDetail) {
		t.Errorf("live credential: %+v, want live with detail ~%q", *got, c.wantDetail)
	} else if c.wantAccess != nil && (got.Access == nil || !c.wantAccess(got.Access)) {
		t.Errorf("live credential: access %+v not as expected", got.Access)
	}
	if got := out[1].Verification; got.Status != finding.StatusInvalid {
		t.Errorf("invalid credential: %+v, want invalid", *got)
	}
	fake.mu.Lock()
	fake.fail = true
	fake.mu.Unlock()
	if got := v.Verify(context.Background(), []finding.Finding{live})[0].Verification; got.Status != finding.StatusUnknown {
		t.Errorf("rate-limited or failing provider: %+v, want unknown", *got)
	}
	fake.mu.Lock()
	fake.fail = false
	fake.mu.Unlock()

	if r.Revoke != nil {
		if c.revokePath == "" {
			t.Fatalf("rule %q can revoke, but the case has no revokePath", c.rule)
		}
		audit, err := OpenAudit(filepath.Join(t.TempDir(), "audit.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		defer audit.Close()
		res, err := v.Revoke(context.Background(), live, RevokeOptions{Audit: audit})
		if err != nil || res.Status != finding.StatusRevoked || !res.Dead {
			t.Errorf("revoke: %+v %v, want revoked and confirmed dead", res, err)
		}
		if fake.live[c.secret] {
			t.Errorf("revoke: the fake still holds the credential live")
		}
	} else if c.revokePath != "" {
		t.Errorf("the case has a revokePath but rule %q has no revoke spec", c.rule)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.bad) > 0 {
		t.Errorf("requests the provider does not document: %v", fake.bad)
	}
	for _, s := range append([]string{c.secret, base64.StdEncoding.EncodeToString([]byte(c.secret))}, mapValues(c.parts)...) {
		assertNoSecret(t, "logs", logs.String(), s)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// legacyTested are the rules whose specs TestBuiltinSpecs covers with its own
// multi-provider fake.
var legacyTested = map[string]bool{
	"github-pat": true, "github-fine-grained-pat": true, "github-oauth": true, "github-user-to-server-token": true,
	"github-server-to-server-token": true, "gitlab-pat": true, "gitlab-pat-routable": true,
	"slack-bot-token": true, "slack-user-token": true, "slack-legacy-bot-token": true, "authorization-token-header": true,
}

// Every built-in rule with a live check has its fake-provider test.
func TestEveryBuiltinSpecHasProviderCase(t *testing.T) {
	have := map[string]bool{}
	for _, c := range providerCases {
		have[c.rule] = true
	}
	var missing []string
	for _, r := range builtinTOML(t).Rules {
		if r.Verify != nil && r.Verify.Verifier == "" && !have[r.ID] && !legacyTested[r.ID] {
			missing = append(missing, r.ID)
		}
	}
	if len(missing) > 0 {
		t.Errorf("built-in rules with a verify spec but no providerCase: %s", strings.Join(missing, ", "))
	}
}

// The token readers find the credential where providers put it.
func TestTokenReaders(t *testing.T) {
	mk := func(method, target, body string, h map[string]string) *http.Request {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		for k, v := range h {
			r.Header.Set(k, v)
		}
		return r
	}
	basic := mk("GET", "/", "", nil)
	basic.SetBasicAuth("user1", "pass1")
	for _, c := range []struct {
		name string
		read func(*http.Request, []byte) string
		r    *http.Request
		body string
		want string
	}{
		{"bearer", bearerToken, mk("GET", "/", "", map[string]string{"Authorization": "Bearer tok1"}), "", "tok1"},
		{"scheme", schemeToken("Token"), mk("GET", "/", "", map[string]string{"Authorization": "Token tok2"}), "", "tok2"},
		{"scheme-wrong", schemeToken("Token"), mk("GET", "/", "", map[string]string{"Authorization": "Bearer tok2"}), "", ""},
		{"header", headerToken("X-Api-Key"), mk("GET", "/", "", map[string]string{"X-Api-Key": "tok3"}), "", "tok3"},
		{"basic-user", basicUser, basic, "", "user1"},
		{"basic-password", basicPassword, basic, "", "pass1"},
		{"query", queryToken("key"), mk("GET", "/v1?key=tok4", "", nil), "", "tok4"},
		{"form", formToken("token"), mk("POST", "/", "", nil), "a=1&token=tok5", "tok5"},
		{"json", jsonToken("auth.token"), mk("POST", "/", "", nil), `{"auth":{"token":"tok6"}}`, "tok6"},
		{"path", pathToken, mk("GET", "/v1/keys/tok7", "", nil), "", "tok7"},
	} {
		if got := c.read(c.r, []byte(c.body)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		pattern, path string
		want          bool
	}{
		{"/webhooks/*/*", "/webhooks/123/tok", true},
		{"/webhooks/*/*", "/webhooks/123", false},
		{"/webhooks/*/*", "/webhooks//tok", false},
		{"/*/getMe", "/bot1:AA/getMe", true},
		{"/users/me", "/users/me", false}, // no wildcard: samePath compares exactly
	} {
		if got := wildPath(c.pattern, c.path); got != c.want {
			t.Errorf("wildPath(%q, %q) = %v, want %v", c.pattern, c.path, got, c.want)
		}
	}
	if d := deadVariant("abc9"); d == "abc9" || len(d) != 4 {
		t.Errorf("deadVariant %q", d)
	}
}

package verify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/verify/check"
)

// echoCheck is a Go check against a loopback service: GET /whoami with the
// secret (and a companion part) in headers; 200 live, 401 invalid; POST
// /deactivate revokes. Its detail and access echo the secret on purpose, so
// the verifier's scrubbing is tested.
type echoCheck struct{ host string }

func (echoCheck) Family() string { return "echo" }

func (c echoCheck) Host(endpoint string) string {
	if endpoint != "" {
		return strings.TrimPrefix(strings.TrimPrefix(endpoint, "http://"), "https://")
	}
	return c.host
}

func (c echoCheck) do(ctx context.Context, env *check.Env, method, path string, cr check.Credential) (*http.Response, error) {
	base := env.Endpoint
	if base == "" {
		base = "https://" + c.host
	}
	req, _ := http.NewRequestWithContext(ctx, method, base+path, nil)
	req.Header.Set("X-Key", cr.Secret)
	req.Header.Set("X-Part", cr.Parts["echo-part"])
	return env.HTTP.Do(req)
}

func (c echoCheck) Verify(ctx context.Context, env *check.Env, cr check.Credential) check.Result {
	resp, err := c.do(ctx, env, "GET", "/whoami", cr)
	if err != nil {
		return check.UnknownResult(err.Error())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return check.Result{Status: finding.StatusUnknown, HTTPStatus: resp.StatusCode, Detail: err.Error()}
	}
	switch resp.StatusCode {
	case 200:
		n := 3
		return check.Result{Status: finding.StatusLive, HTTPStatus: 200, Detail: "user " + string(body) + " key " + cr.Secret,
			Access: &finding.Access{Identity: string(body), Scopes: []string{"read", cr.Secret}, Resources: &n, ResourceKind: "buckets"}}
	case 401:
		return check.Result{Status: finding.StatusInvalid, HTTPStatus: 401}
	}
	return check.Result{Status: "maybe", HTTPStatus: resp.StatusCode}
}

func (c echoCheck) Revoke(ctx context.Context, env *check.Env, cr check.Credential) check.RevokeResult {
	resp, err := c.do(ctx, env, "POST", "/deactivate", cr)
	if err != nil {
		return check.RevokeResult{Result: check.Unknown, Detail: err.Error()}
	}
	resp.Body.Close()
	if resp.StatusCode == 204 {
		return check.RevokeResult{Result: check.Accepted, HTTPStatus: 204}
	}
	return check.RevokeResult{Result: check.Rejected, HTTPStatus: resp.StatusCode}
}

func (echoCheck) DescribeRevoke(cr check.Credential) string {
	return "POST /deactivate with X-Key " + cr.Secret
}

type echoServer struct {
	mu   sync.Mutex
	live map[string]bool
	seen []string
}

func (s *echoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Header.Get("X-Key")
	s.seen = append(s.seen, r.Method+" "+r.URL.Path+" part="+r.Header.Get("X-Part"))
	switch {
	case r.URL.Path == "/whoami" && s.live[key]:
		fmt.Fprint(w, "grace")
	case r.URL.Path == "/whoami" && key == "busy":
		w.WriteHeader(503)
	case r.URL.Path == "/whoami" && key == "huge":
		w.Write([]byte(strings.Repeat("x", 4096)))
	case r.URL.Path == "/deactivate" && s.live[key]:
		delete(s.live, key)
		w.WriteHeader(204)
	default:
		w.WriteHeader(401)
	}
}

const echoRules = `
[[rule]]
id = "echo-key"
regex = '''echo_[a-z0-9]{16}'''
[rule.verify]
verifier = "echo"
[rule.revoke]
verifier = "echo"
`

func TestGoCheck(t *testing.T) {
	const live = "echo_livekey0123456789"
	srv := &echoServer{live: map[string]bool{live: true}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	p, err := rules.Parse("echo.toml", []byte(echoRules))
	if err != nil {
		t.Fatal(err)
	}
	set := &rules.Set{Rules: p.Rules()}
	o := fastOpts("", nil)
	o.Endpoints = map[string]string{"echo": ts.URL}
	o.Checks = map[string]check.Check{"echo": echoCheck{host: "echo.example"}}
	o.MaxBody = 1024
	v, err := New(set, o)
	if err != nil {
		t.Fatal(err)
	}
	if !v.CanVerify("echo-key") || !v.CanRevoke("echo-key") {
		t.Fatal("echo-key: not verifiable or revocable")
	}
	mk := func(s string) finding.Finding {
		f := secretFinding("echo-key", s)
		f.Parts = []finding.Part{{RuleID: "echo-part", Secret: "partsecret-" + s}}
		return f
	}
	out := v.Verify(context.Background(), []finding.Finding{mk(live), mk("echo_deadkey012345678"), mk("busy"), mk("huge")})
	want := []string{finding.StatusLive, finding.StatusInvalid, finding.StatusUnknown, finding.StatusUnknown}
	for i, f := range out {
		if f.Verification.Status != want[i] {
			t.Errorf("%d: status %+v, want %s", i, f.Verification, want[i])
		}
	}
	got := out[0].Verification
	if got.Access == nil || got.Access.Identity != "grace" || got.Access.Resources == nil || *got.Access.Resources != 3 || got.Access.ResourceKind != "buckets" {
		t.Fatalf("access %+v", got.Access)
	}
	assertNoSecret(t, "detail", got.Detail, live)
	assertNoSecret(t, "access", got.Access.Summary(), live)
	if !strings.Contains(got.Detail, "user grace") {
		t.Errorf("detail %q", got.Detail)
	}
	srv.mu.Lock()
	if want := "GET /whoami part=partsecret-" + live; !slices.Contains(srv.seen, want) {
		t.Errorf("the check did not receive the companion part: %q", srv.seen)
	}
	srv.mu.Unlock()
	if out[3].Verification.Status != finding.StatusUnknown {
		t.Errorf("a body over the cap must be unknown: %+v", out[3].Verification)
	}

	// Revocation: dry run describes (redacted), then revoke, re-verify, audit.
	audit, err := OpenAudit(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer audit.Close()
	dry, err := v.Revoke(context.Background(), mk(live), RevokeOptions{DryRun: true, Audit: audit})
	if err != nil || dry.Action != ActionDryRun || len(dry.Requests) != 1 {
		t.Fatalf("dry run %+v %v", dry, err)
	}
	assertNoSecret(t, "dry run", dry.Requests[0], live)
	res, err := v.Revoke(context.Background(), mk(live), RevokeOptions{Audit: audit})
	if err != nil || res.Status != finding.StatusRevoked || !res.Dead || res.Host != strings.TrimPrefix(ts.URL, "http://") {
		t.Fatalf("revoke %+v %v", res, err)
	}
}

// A Go check's requests go through the egress guard: loopback that the
// operator did not name is refused, and the result is unknown.
func TestGoCheckEgressGuard(t *testing.T) {
	srv := &echoServer{live: map[string]bool{"echo_livekey0123456789": true}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	p, err := rules.Parse("echo.toml", []byte(echoRules))
	if err != nil {
		t.Fatal(err)
	}
	o := fastOpts("", nil)
	o.Endpoints = nil
	// The check's own default host is the loopback server, not named by the operator.
	o.Checks = map[string]check.Check{"echo": echoCheck{host: strings.TrimPrefix(ts.URL, "http://")}}
	v, err := New(&rules.Set{Rules: p.Rules()}, o)
	if err != nil {
		t.Fatal(err)
	}
	out := v.Verify(context.Background(), []finding.Finding{secretFinding("echo-key", "echo_livekey0123456789")})
	if st := out[0].Verification.Status; st != finding.StatusUnknown {
		t.Errorf("status %s, want unknown (refused)", st)
	}
	if len(srv.seen) != 0 {
		t.Errorf("the guard let requests through: %v", srv.seen)
	}
}

func TestGoCheckConfigErrors(t *testing.T) {
	for _, c := range []struct{ toml, want string }{
		{`[[rule]]
id = "x-key"
regex = 'xkey_[a-z]{8}'
[rule.verify]
verifier = "nope"`, `verifier "nope" is not a Go verifier tokenward has; known: echo`},
		{`[[rule]]
id = "x-key"
regex = 'xkey_[a-z]{8}'
[rule.verify]
verifier = "echo"
[[rule.verify.step]]
url = "https://x.example/"
[[rule.verify.step.match]]
result = "live"`, `exclude each other`},
	} {
		p, err := rules.Parse("x.toml", []byte(c.toml))
		if err == nil {
			o := fastOpts("", nil)
			o.Endpoints = nil
			o.Checks = map[string]check.Check{"echo": echoCheck{}}
			_, err = New(&rules.Set{Rules: p.Rules()}, o)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	// --endpoint accepts the Go check's family.
	p, _ := rules.Parse("echo.toml", []byte(echoRules))
	o := fastOpts("", nil)
	o.Endpoints = map[string]string{"echo": "https://echo.example"}
	o.Checks = map[string]check.Check{"echo": echoCheck{}}
	if _, err := New(&rules.Set{Rules: p.Rules()}, o); err != nil {
		t.Errorf("--endpoint echo=: %v", err)
	}
}

const accessRules = `
[[rule]]
id = "acc-key"
regex = '''acc_(?P<org>[a-z]+)_[a-z0-9]{16}'''
[rule.verify]
family = "acc"
[[rule.verify.step]]
url = "{{base}}/me"
headers = { Authorization = "Bearer {{secret}}" }
[[rule.verify.step.extract]]
name = "login"
json = "user.login"
[[rule.verify.step.extract]]
name = "scopes"
header = "X-Scopes"
[[rule.verify.step.extract]]
name = "repos"
json = "repos"
count = true
[[rule.verify.step.extract]]
name = "mode"
json = "livemode"
[[rule.verify.step.match]]
status = [200]
result = "live"
[[rule.verify.step.match]]
status = [401]
result = "invalid"
[rule.verify.access]
identity = "{{var.login}}"
account = "{{match.org}}"
scopes = "{{var.scopes}}"
resources = "{{var.repos}}"
resource_kind = "private repositories"
properties = { live_mode = "{{var.mode}}" }
`

func TestHTTPSpecAccess(t *testing.T) {
	const tok = "acc_acme_0123456789abcdef"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+tok {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Scopes", "repo, gist")
		fmt.Fprintf(w, `{"user":{"login":"octo %s"},"repos":[1,2,3,4],"livemode":true}`, tok)
	}))
	defer ts.Close()
	p, err := rules.Parse("acc.toml", []byte(accessRules))
	if err != nil {
		t.Fatal(err)
	}
	o := fastOpts("", nil)
	o.Endpoints = map[string]string{"acc": ts.URL}
	v, err := New(&rules.Set{Rules: p.Rules()}, o)
	if err != nil {
		t.Fatal(err)
	}
	f := secretFinding("acc-key", tok)
	f.Groups = map[string]string{"org": "acme"}
	out := v.Verify(context.Background(), []finding.Finding{f, secretFinding("acc-key", "acc_acme_ffffffffffffffff")})
	a := out[0].Verification.Access
	if out[0].Verification.Status != finding.StatusLive || a == nil {
		t.Fatalf("%+v", out[0].Verification)
	}
	if want := "octo " + finding.Redact(tok); a.Identity != want {
		t.Errorf("identity %q, want %q (the secret scrubbed)", a.Identity, want)
	}
	if a.Account != "****" || strings.Join(a.Scopes, "|") != "repo|gist" || a.Resources == nil || *a.Resources != 4 ||
		a.ResourceKind != "private repositories" || a.Properties["live_mode"] != "true" {
		t.Errorf("access %+v", a)
	}
	if out[1].Verification.Access != nil {
		t.Errorf("an invalid result has no access map: %+v", out[1].Verification.Access)
	}
	// The access table may not show the secret or a sensitive value.
	bad := strings.Replace(accessRules, `identity = "{{var.login}}"`, `identity = "{{secret}}"`, 1)
	if p, err := rules.Parse("acc.toml", []byte(bad)); err == nil {
		_, err = New(&rules.Set{Rules: p.Rules()}, o)
		if err == nil || !strings.Contains(err.Error(), "may not contain the secret") {
			t.Errorf("access with {{secret}}: %v", err)
		}
	}
}

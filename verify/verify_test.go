package verify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenward/tokenward/finding"
)

// fakeRule is a rule whose verify step GETs path on the "fake" endpoint and
// whose revoke step follows GitHub's public revocation API.
func fakeRule(id, path string) string {
	return fmt.Sprintf(`
[[rule]]
id = %q
description = "fake provider token"
regex = '''\b(fkt_[a-z0-9]{24})\b'''
keywords = ["fkt_"]
[rule.verify]
family = "fake"
[[rule.verify.step]]
url = "{{base}}%s"
headers = { Authorization = "Bearer {{secret}}", Accept = "application/json" }
[[rule.verify.step.extract]]
name = "login"
json = "login"
[[rule.verify.step.extract]]
name = "scopes"
header = "X-OAuth-Scopes"
[[rule.verify.step.match]]
status = [200]
json = [{ path = "login" }]
result = "live"
detail = "user {{var.login}}; scopes {{var.scopes}}"
[[rule.verify.step.match]]
status = [401]
result = "invalid"
detail = "bad credentials"
[[rule.verify.step.match]]
status = [403]
result = "live"
detail = "authenticated but out of scope (HTTP {{status}})"
[rule.revoke]
family = "fake"
[[rule.revoke.step]]
method = "POST"
url = "{{base}}/credentials/revoke"
headers = { Accept = "application/vnd.github+json" }
body = '{"credentials":["{{secret|json}}"]}'
[[rule.revoke.step.match]]
status = [202]
result = "accepted"
[[rule.revoke.step.match]]
status = [422]
result = "rejected"
detail = "validation failed"
`, id, path)
}

const (
	tokLive   = "fkt_live0000000000000000000001"
	tokScoped = "fkt_scoped000000000000000000001"
	tokDead   = "fkt_dead0000000000000000000001"
)

func TestVerifyStatuses(t *testing.T) {
	type tc struct {
		name       string
		path       string
		token      string
		setup      func(t *testing.T, p *fakeProvider, o *Options)
		want       string
		wantHTTP   int
		wantDetail string
		calls      int // requests expected at path
	}
	cases := []tc{
		{name: "live", path: "/user", token: tokLive, want: finding.StatusLive, wantHTTP: 200,
			wantDetail: "user octocat; scopes repo, read:org", calls: 1},
		{name: "invalid", path: "/user", token: tokDead, want: finding.StatusInvalid, wantHTTP: 401,
			wantDetail: "bad credentials", calls: 1},
		{name: "out of scope", path: "/user", token: tokScoped, want: finding.StatusLive, wantHTTP: 403,
			wantDetail: "out of scope (HTTP 403)", calls: 1},
		{name: "429 with a Retry-After beyond the limit", path: "/ratelimited?after=120", token: tokLive,
			setup: func(t *testing.T, p *fakeProvider, o *Options) { o.Retries = 3 },
			want:  finding.StatusUnknown, wantHTTP: 429, wantDetail: "retry after 2m0s", calls: 1},
		{name: "429 retried then given up", path: "/ratelimited?after=0", token: tokLive,
			setup: func(t *testing.T, p *fakeProvider, o *Options) { o.Retries = 2 },
			want:  finding.StatusUnknown, wantHTTP: 429, wantDetail: "rate limited (HTTP 429)", calls: 3},
		{name: "500", path: "/error", token: tokLive,
			setup: func(t *testing.T, p *fakeProvider, o *Options) { o.Retries = 1 },
			want:  finding.StatusUnknown, wantHTTP: 500, wantDetail: "provider error (HTTP 500)", calls: 2},
		{name: "hanging server", path: "/hang", token: tokLive,
			setup: func(t *testing.T, p *fakeProvider, o *Options) { o.Timeout = 150 * time.Millisecond; o.Retries = 1 },
			want:  finding.StatusUnknown, wantDetail: "no response within 150ms", calls: 2},
		{name: "redirect on the same host", path: "/redirect-same", token: tokLive,
			want: finding.StatusLive, wantHTTP: 200, wantDetail: "user octocat", calls: 1},
		{name: "50 MB body", path: "/huge", token: tokLive,
			setup: func(t *testing.T, p *fakeProvider, o *Options) { o.MaxBody = 64 << 10 },
			want:  finding.StatusUnknown, wantHTTP: 200, wantDetail: "body over 65536 bytes", calls: 1},
		{name: "HTML block page with 200", path: "/html", token: tokLive,
			want: finding.StatusUnknown, wantHTTP: 200, wantDetail: "HTML page", calls: 1},
		{name: "HTML sniffed without content type", path: "/html-sniff", token: tokLive,
			want: finding.StatusUnknown, wantHTTP: 200, wantDetail: "HTML page", calls: 1},
		{name: "no matcher applies", path: "/nowhere", token: tokLive,
			want: finding.StatusUnknown, wantHTTP: 404, wantDetail: "HTTP 404 matched no rule", calls: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newFake(t)
			p.set(tokLive, stLive)
			p.set(tokScoped, stOutOfScope)
			log, logs := logBuffer()
			o := fastOpts(p.srv.URL, log)
			if c.setup != nil {
				c.setup(t, p, &o)
			}
			v, err := New(testRules(t, fakeRule("fake-token", c.path)), o)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			out := v.Verify(context.Background(), []finding.Finding{secretFinding("fake-token", c.token)})
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("took %s", el)
			}
			got := out[0].Verification
			if got == nil {
				t.Fatal("no verification")
			}
			if got.Status != c.want || got.HTTPStatus != c.wantHTTP || !strings.Contains(got.Detail, c.wantDetail) {
				t.Errorf("got %+v, want status %s http %d detail ~%q", *got, c.want, c.wantHTTP, c.wantDetail)
			}
			if _, err := time.Parse(time.RFC3339, got.CheckedAt); err != nil {
				t.Errorf("checked_at %q: %v", got.CheckedAt, err)
			}
			path, _, _ := strings.Cut(c.path, "?")
			if n := p.count(path); n != c.calls {
				t.Errorf("%d requests to %s, want %d", n, path, c.calls)
			}
			assertNoSecret(t, "logs", logs.String(), c.token)
			assertNoSecret(t, "detail", got.Detail, c.token)
		})
	}
}

// TestRetryAfterHonoured: a 503 with Retry-After: 1 is retried no sooner than a
// second later, and the retry's answer counts.
func TestRetryAfterHonoured(t *testing.T) {
	p := newFake(t)
	p.set(tokLive, stLive)
	o := fastOpts(p.srv.URL, nil)
	o.Retries = 2
	v, err := New(testRules(t, fakeRule("fake-token", "/flaky")), o)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out := v.Verify(context.Background(), []finding.Finding{secretFinding("fake-token", tokLive)})
	if el := time.Since(start); el < time.Second {
		t.Errorf("retried after %s, before the Retry-After of 1s", el)
	}
	if got := out[0].Verification; got.Status != finding.StatusLive || got.HTTPStatus != 200 {
		t.Errorf("got %+v, want live 200", *got)
	}
	if n := p.count("/flaky"); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// TestRedirectToOtherHost: a provider redirecting elsewhere never gets the token
// delivered there, whatever header carries it.
func TestRedirectToOtherHost(t *testing.T) {
	var leaked atomic.Int32
	var seen strings.Builder
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Add(1)
		r.Header.Write(&seen)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"login":"attacker"}`)
	}))
	defer other.Close()
	for _, hdr := range []string{"Authorization", "X-Api-Key"} {
		t.Run(hdr, func(t *testing.T) {
			leaked.Store(0)
			p := newFake(t)
			// Same IP, other port: a different origin all the same.
			p.redirectTo = other.URL
			p.set(tokLive, stLive)
			src := strings.Replace(fakeRule("fake-token", "/redirect"), "Authorization = \"Bearer {{secret}}\"", hdr+" = \"Bearer {{secret}}\"", 1)
			log, logs := logBuffer()
			v, err := New(testRules(t, src), fastOpts(p.srv.URL, log))
			if err != nil {
				t.Fatal(err)
			}
			out := v.Verify(context.Background(), []finding.Finding{secretFinding("fake-token", tokLive)})
			got := out[0].Verification
			if got.Status != finding.StatusUnknown || !strings.Contains(got.Detail, "refused redirect to "+other.URL) {
				t.Errorf("got %+v, want unknown with refused redirect", *got)
			}
			if n := leaked.Load(); n != 0 {
				t.Errorf("the other host received %d requests:\n%s", n, seen.String())
			}
			assertNoSecret(t, "logs", logs.String(), tokLive)
		})
	}
}

func TestVerifyDeduplicatesAndSkips(t *testing.T) {
	p := newFake(t)
	p.set(tokLive, stLive)
	src := fakeRule("fake-token", "/user") + `
[[rule]]
id = "no-spec"
description = "no verify spec"
regex = '''nsp_[a-z]{10}'''
[[rule]]
id = "needs-endpoint"
description = "verify spec without a base URL"
regex = '''nep_[a-z]{10}'''
[rule.verify]
family = "selfhosted"
[[rule.verify.step]]
url = "{{base}}/user"
headers = { Authorization = "Token {{secret}}" }
[[rule.verify.step.match]]
status = [200]
result = "live"
`
	v, err := New(testRules(t, src), fastOpts(p.srv.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	var fs []finding.Finding
	for i := range 5 {
		f := secretFinding("fake-token", tokLive)
		f.File = fmt.Sprintf("f%d.txt", i)
		fs = append(fs, f)
	}
	fs = append(fs, secretFinding("fake-token", tokDead))
	noSecret := secretFinding("fake-token", tokLive)
	noSecret.Secret = ""
	fs = append(fs, noSecret,
		secretFinding("no-spec", "nsp_abcdefghij"),
		secretFinding("needs-endpoint", "nep_abcdefghij"),
		finding.Finding{RuleID: "hygiene-token-in-url", Kind: finding.KindHygiene})
	out := v.Verify(context.Background(), fs)
	if n := p.count("/user"); n != 2 {
		t.Errorf("%d requests for 2 distinct secrets", n)
	}
	for i := range 5 {
		if s := out[i].Verification.Status; s != finding.StatusLive {
			t.Errorf("finding %d: %s", i, s)
		}
	}
	want := []struct{ status, detail string }{
		{finding.StatusInvalid, ""},
		{finding.StatusNotChecked, "--show-secrets"},
		{finding.StatusNotChecked, "has no verify spec"},
		{finding.StatusNotChecked, "--endpoint selfhosted=https://HOST"},
	}
	for i, w := range want {
		got := out[5+i].Verification
		if got == nil || got.Status != w.status || !strings.Contains(got.Detail, w.detail) {
			t.Errorf("finding %d: got %+v, want %s ~%q", 5+i, got, w.status, w.detail)
		}
	}
	if out[9].Verification != nil {
		t.Errorf("hygiene finding got a verification: %+v", out[9].Verification)
	}
	if fs[0].Verification != nil {
		t.Error("Verify modified its input")
	}
}

func TestConcurrencyAndRateLimits(t *testing.T) {
	p := newFake(t)
	var fs []finding.Finding
	for i := range 8 {
		tok := fmt.Sprintf("fkt_conc%020d", i)
		p.set(tok, stLive)
		fs = append(fs, secretFinding("fake-token", tok))
	}
	o := fastOpts(p.srv.URL, nil)
	o.Concurrency = 2
	v, err := New(testRules(t, fakeRule("fake-token", "/slow")), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range v.Verify(context.Background(), fs) {
		if f.Verification.Status != finding.StatusLive {
			t.Fatalf("%+v", f.Verification)
		}
	}
	if p.maxInflight > 2 || p.maxInflight < 1 {
		t.Errorf("max requests in flight %d, cap 2", p.maxInflight)
	}

	// 20 requests/s per host: 5 requests take at least 4 intervals of 50ms.
	o = fastOpts(p.srv.URL, nil)
	o.PerHostRate = 20
	v, err = New(testRules(t, fakeRule("fake-token", "/user")), o)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	v.Verify(context.Background(), fs[:5])
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Errorf("5 requests at 20/s took %s", el)
	}
}

func TestMultiStepExtraction(t *testing.T) {
	p := newFake(t)
	p.set(tokLive, stLive)
	src := `
[[rule]]
id = "two-step"
description = "key traded for a session"
regex = '''\b(fkt_[a-z0-9]{24})\b'''
[rule.verify]
family = "fake"
[[rule.verify.step]]
name = "login"
method = "POST"
url = "{{base}}/session"
headers = { Authorization = "Bearer {{secret}}" }
body = '{"key":"{{secret|json}}"}'
[[rule.verify.step.extract]]
name = "session"
json = "data.session"
sensitive = true
[[rule.verify.step.match]]
status = [200]
json = [{ path = "data.session" }]
result = "live"
[[rule.verify.step.match]]
status = [401]
result = "invalid"
[[rule.verify.step]]
name = "whoami"
url = "{{base}}/whoami"
headers = { X-Session = "{{var.session}}" }
[[rule.verify.step.extract]]
name = "account"
regex = '"name":"([a-z]+)"'
[[rule.verify.step.match]]
status = [200]
result = "live"
detail = "account {{var.account}}"
`
	log, logs := logBuffer()
	v, err := New(testRules(t, src), fastOpts(p.srv.URL, log))
	if err != nil {
		t.Fatal(err)
	}
	out := v.Verify(context.Background(), []finding.Finding{secretFinding("two-step", tokLive), secretFinding("two-step", tokDead)})
	if got := out[0].Verification; got.Status != finding.StatusLive || got.Detail != "step 2: account acme" {
		t.Errorf("live: got %+v", *got)
	}
	if got := out[1].Verification; got.Status != finding.StatusInvalid || got.HTTPStatus != 401 {
		t.Errorf("dead: got %+v", *got)
	}
	if n := p.count("/whoami"); n != 1 {
		t.Errorf("step 2 ran %d times, want once (only for the live key)", n)
	}
	assertNoSecret(t, "logs", logs.String(), tokLive)
	assertNoSecret(t, "logs", logs.String(), "sess-1-abcdefghijkl")
}

func TestEndpointsAndTargets(t *testing.T) {
	if _, err := ParseEndpoints([]string{"github=http://example.com"}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("plain http to a public host accepted: %v", err)
	}
	if _, err := ParseEndpoints([]string{"nourl"}); err == nil {
		t.Error("missing URL accepted")
	}
	m, err := ParseEndpoints([]string{"GitHub=https://ghe.example.com/api/v3", "x=http://127.0.0.1:8080"})
	if err != nil || m["github"] != "https://ghe.example.com/api/v3" || m["x"] != "http://127.0.0.1:8080" {
		t.Errorf("got %v, %v", m, err)
	}
	// A value substituted into the URL is escaped: it cannot add path segments,
	// a query, or another host.
	src := `
[[rule]]
id = "path-secret"
description = "secret in the path"
regex = '''\b(pth_[^ ]{10,})'''
keywords = ["pth_"]
[rule.verify]
base_url = "https://api.example.com"
[[rule.verify.step]]
url = "{{base}}/check/{{secret}}?t={{secret}}"
[[rule.verify.step.match]]
status = [200]
result = "live"
`
	p := newFake(t)
	o := fastOpts(p.srv.URL, nil)
	o.Endpoints = map[string]string{"path-secret": p.srv.URL + "/prefix/"}
	v, err := New(testRules(t, src), o)
	if err != nil {
		t.Fatal(err)
	}
	v.Verify(context.Background(), []finding.Finding{secretFinding("path-secret", "pth_a/../@evil.com?x=#y")})
	got := p.received()
	if !strings.Contains(got, "GET /prefix/check/pth_a%2F..%2F@evil.com%3Fx=%23y?t=pth_a%2F..%2F%40evil.com%3Fx%3D%23y") {
		t.Errorf("request not escaped as expected:\n%s", got)
	}
}

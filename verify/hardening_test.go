package verify

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

// TestEndpointTypo: an --endpoint key that names no rule or family with a spec
// is an error naming the valid families, not silently ignored (which would send
// the secret to the public provider instead of the intended host).
func TestEndpointTypo(t *testing.T) {
	set := testRules(t, fakeRule("fake-token", "/user"))
	for _, c := range []struct {
		key     string
		wantErr string
	}{
		{"fake", ""},
		{"FAKE", ""},
		{"fake-token", ""},
		{"fak", `--endpoint fak: no rule or family "fak" has a verify or revoke spec; did you mean fake? families: fake`},
		{"githb", `--endpoint githb: no rule or family "githb"`},
	} {
		o := fastOpts("", nil)
		o.Endpoints = map[string]string{c.key: "https://ghe.example.com/api/v3"}
		_, err := New(set, o)
		if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("--endpoint %s: error %v, want %q", c.key, err, c.wantErr)
		}
	}
}

// guardRule is a rule whose literal base URL is the loopback server at base:
// what a hostile repository configuration could name to reach an internal
// service.
func guardRule(base string) string {
	return fmt.Sprintf(`
[[rule]]
id = "guard-test"
description = "internal host"
regex = '''\b(fkt_[a-z0-9]{24})\b'''
[rule.verify]
base_url = %q
[[rule.verify.step]]
url = "{{base}}/user"
headers = { Authorization = "Bearer {{secret}}" }
[[rule.verify.step.match]]
status = [200]
result = "live"
[[rule.verify.step.match]]
status = [401]
result = "invalid"
`, base)
}

// TestEgressGuardRefusesInternal: a rule naming a loopback (internal) host is
// refused at dial time, nothing reaches the server, and the result is unknown
// naming the refusal; by IP and by a name that resolves to loopback alike.
func TestEgressGuardRefusesInternal(t *testing.T) {
	p := newFake(t)
	p.set(tokLive, stLive)
	u, _ := url.Parse(p.srv.URL)
	for _, base := range []string{p.srv.URL, "http://localhost:" + u.Port()} {
		t.Run(base, func(t *testing.T) {
			o := fastOpts("", nil)
			o.Endpoints = nil
			v, err := New(testRules(t, guardRule(base)), o)
			if err != nil {
				t.Fatal(err)
			}
			got := v.Verify(context.Background(), []finding.Finding{secretFinding("guard-test", tokLive)})[0].Verification
			if got.Status != finding.StatusUnknown || !strings.Contains(got.Detail, "refused to connect") || !strings.Contains(got.Detail, "loopback address") {
				t.Errorf("got %+v, want unknown: refused to connect to a loopback address", *got)
			}
			if n := p.count("/user"); n != 0 {
				t.Errorf("the internal server received %d requests", n)
			}
		})
	}
}

// TestEgressGuardAllowance: the operator may let verification reach an
// internal host by naming it with --endpoint (that origin only) or by passing
// --allow-internal.
func TestEgressGuardAllowance(t *testing.T) {
	p := newFake(t)
	p.set(tokLive, stLive)
	other := newFake(t) // another loopback origin, not named
	other.set(tokLive, stLive)
	for _, c := range []struct {
		name      string
		base      string
		endpoints map[string]string
		allow     bool
		want      string
	}{
		{"named with --endpoint", "https://api.example.com", map[string]string{"guard-test": p.srv.URL}, false, finding.StatusLive},
		{"--allow-internal", p.srv.URL, nil, true, finding.StatusLive},
		{"naming one internal host does not open another", other.srv.URL, map[string]string{"fake": p.srv.URL}, false, finding.StatusUnknown},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := fastOpts("", nil)
			o.Endpoints, o.AllowInternal = c.endpoints, c.allow
			v, err := New(testRules(t, guardRule(c.base)+fakeRule("fake-token", "/user")), o)
			if err != nil {
				t.Fatal(err)
			}
			got := v.Verify(context.Background(), []finding.Finding{secretFinding("guard-test", tokLive)})[0].Verification
			if got.Status != c.want {
				t.Errorf("got %+v, want %s", *got, c.want)
			}
		})
	}
	if n := other.count("/user"); n != 0 {
		t.Errorf("the origin nobody named received %d requests", n)
	}
}

// TestTransformedSecretsRedacted: a secret sent transformed ({{secret|upper}},
// lower, base64, json…) never appears in logs or details in any form, also
// when the provider echoes it back.
func TestTransformedSecretsRedacted(t *testing.T) {
	const tok = "fkt_mixedcase0abcdef0123456"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// An echo of the key as the provider normalises it.
		fmt.Fprintf(w, `{"login":"octocat","key":%q,"hex":%q}`, strings.ToUpper(tok), hex.EncodeToString([]byte(tok)))
	}))
	defer srv.Close()
	forms := []string{tok, strings.ToUpper(tok), strings.ToLower(tok),
		base64.StdEncoding.EncodeToString([]byte(tok)), base64.RawURLEncoding.EncodeToString([]byte(tok)),
		strings.ToUpper(base64.StdEncoding.EncodeToString([]byte(tok))), strings.ToLower(base64.StdEncoding.EncodeToString([]byte(tok))),
		hex.EncodeToString([]byte(tok)), strings.ToUpper(hex.EncodeToString([]byte(tok))),
		url.QueryEscape(strings.ToUpper(tok))}
	for _, filter := range []string{"upper", "lower", "base64|upper", "base64|lower", "base64url", "upper|base64", "url|upper"} {
		t.Run(filter, func(t *testing.T) {
			src := fmt.Sprintf(`
[[rule]]
id = "xform"
description = "transformed"
regex = '''\b(fkt_[a-z0-9]{24})\b'''
[rule.verify]
family = "fake"
[[rule.verify.step]]
url = "{{base}}/check/{{secret|%[1]s}}?k={{secret|%[1]s}}"
headers = { X-Key = "{{secret|%[1]s}}" }
[[rule.verify.step.extract]]
name = "key"
json = "key"
[[rule.verify.step.extract]]
name = "hex"
json = "hex"
[[rule.verify.step.match]]
status = [200]
result = "live"
detail = "provider says key {{var.key}} hex {{var.hex}}"
`, filter)
			log, logs := logBuffer()
			v, err := New(testRules(t, src), fastOpts(srv.URL, log))
			if err != nil {
				t.Fatal(err)
			}
			got := v.Verify(context.Background(), []finding.Finding{secretFinding("xform", tok)})[0].Verification
			if got.Status != finding.StatusLive {
				t.Fatalf("got %+v", *got)
			}
			if !strings.Contains(logs.String(), "/check/") {
				t.Fatalf("no request logged:\n%s", logs.String())
			}
			for _, f := range forms {
				if strings.Contains(logs.String(), f) {
					t.Errorf("logs hold %q:\n%s", f, logs.String())
				}
				if strings.Contains(got.Detail, f) {
					t.Errorf("detail holds %q: %s", f, got.Detail)
				}
			}
		})
	}
}

// TestRedirectLoopBounded: a provider redirecting to itself forever gets at
// most 4 requests (the first and 3 redirects), not retried, and the result is
// unknown naming the loop.
func TestRedirectLoopBounded(t *testing.T) {
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		http.Redirect(w, r, "/user", http.StatusFound)
	}))
	defer srv.Close()
	o := fastOpts(srv.URL, nil)
	o.Retries = 2
	v, err := New(testRules(t, fakeRule("fake-token", "/user")), o)
	if err != nil {
		t.Fatal(err)
	}
	got := v.Verify(context.Background(), []finding.Finding{secretFinding("fake-token", tokLive)})[0].Verification
	if got.Status != finding.StatusUnknown || !strings.Contains(got.Detail, "more than 3 redirects") {
		t.Errorf("got %+v", *got)
	}
	mu.Lock()
	defer mu.Unlock()
	if n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

// BenchmarkSanitize measures scrubbing one log line against every form of a
// secret and two match groups (the cost of redacting transformed forms).
func BenchmarkSanitize(b *testing.B) {
	f := secretFinding("fake-token", tokLive)
	f.Groups = map[string]string{"user": "octocat-admin", "org": "acme-platform"}
	sp := &spec{chains: [][]string{{"upper"}, {"base64", "lower"}}}
	line := "GET https://api.example.com/check/" + strings.ToUpper(tokLive) + "?k=x status=200 bytes=118"
	e := newEnv(&f, sp)
	b.ReportAllocs()
	for b.Loop() {
		e.sanitize(line)
	}
	b.ReportMetric(float64(len(e.secrets())), "forms")
}

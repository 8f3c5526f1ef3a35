package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenward/tokenward/finding"
)

// TestEndpointTypoIsUsageError: --endpoint githb=… (a typo) stops the run with
// exit 2 naming the valid families, and nothing is sent anywhere.
func TestEndpointTypoIsUsageError(t *testing.T) {
	api, url := newFakeAPIs(t, ghLive)
	dir := tree(t, map[string]string{"ci.env": "GITHUB_TOKEN=" + ghLive + "\n"})
	r := tokenward(t, dir, "", "scan", "--verify", "--endpoint", "githb="+url+"/gh", ".")
	if r.code != 2 || !strings.Contains(r.stderr, `--endpoint githb: no rule or family "githb" has a verify or revoke spec; did you mean github or gitlab? families: `) {
		t.Errorf("exit %d, stderr %s", r.code, r.stderr)
	}
	if n := api.count(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// unhealthyProvider answers GitHub's /user badly, in the way its path prefix
// names: /e503, /e429 (Retry-After longer than any wait), /html (a block
// page), /hang (no answer).
func unhealthyProvider(t *testing.T) (string, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		switch {
		case strings.HasPrefix(r.URL.Path, "/e503/"):
			w.WriteHeader(http.StatusServiceUnavailable)
		case strings.HasPrefix(r.URL.Path, "/e429/"):
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		case strings.HasPrefix(r.URL.Path, "/html/"):
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<!DOCTYPE html><html><body>Checking your browser…</body></html>")
		case strings.HasPrefix(r.URL.Path, "/hang/"):
			select {
			case <-r.Context().Done():
			case <-time.After(20 * time.Second):
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// TestOnlyLiveFailsClosed: with --only-live, a provider that cannot answer
// (429, 5xx, a hang, an HTML page) leaves the finding unknown: it is reported
// as such and the run exits 2 naming the failure, never 0 with nothing found.
func TestOnlyLiveFailsClosed(t *testing.T) {
	base, _ := unhealthyProvider(t)
	dir := tree(t, map[string]string{"ci.env": "GITHUB_TOKEN=" + ghLive + "\n"})
	if r := tokenward(t, dir, "", "scan", "--format", "jsonl", "--show-secrets", "-o", "report.jsonl", "."); r.code != 1 {
		t.Fatalf("scan: exit %d %s", r.code, r.stderr)
	}
	for _, c := range []struct{ path, want string }{
		{"e503", "provider error (HTTP 503)"},
		{"e429", "rate limited (HTTP 429)"},
		{"html", "HTML page instead of an API answer"},
		{"hang", "no response within 300ms"},
	} {
		for _, cmd := range [][]string{{"scan", "ci.env"}, {"verify", "report.jsonl"}} {
			t.Run(c.path+"/"+cmd[0], func(t *testing.T) {
				args := append([]string{cmd[0], "--only-live", "--format", "jsonl", "--verify-timeout", "300ms",
					"--endpoint", "github=" + base + "/" + c.path}, cmd[1:]...)
				r := tokenward(t, dir, "", args...)
				if r.code != 2 {
					t.Errorf("exit %d, want 2\n%s", r.code, r.stderr)
				}
				if !strings.Contains(r.stderr, "could not verify") || !strings.Contains(r.stderr, c.want) {
					t.Errorf("stderr does not name the provider failure %q:\n%s", c.want, r.stderr)
				}
				fs := decodeFindings(t, r.stdout)
				if len(fs) != 1 || fs[0].Verification == nil || fs[0].Verification.Status != finding.StatusUnknown {
					t.Errorf("want the finding reported unknown, got:\n%s", r.stdout)
				}
				noSecrets(t, "stdout", r.stdout, ghLive)
				noSecrets(t, "stderr", r.stderr, ghLive)
			})
		}
	}
}

// TestRevokeForgedAuditLine: a forged "revoked" line for a live token does not
// make revoke --yes skip it: the token is verified, revoked, and the forged
// line is reported.
func TestRevokeForgedAuditLine(t *testing.T) {
	api, url := newFakeAPIs(t, ghLive)
	dir := tree(t, map[string]string{"a.env": "GITHUB_TOKEN=" + ghLive + "\n"})
	if r := tokenward(t, dir, "", "scan", "--format", "jsonl", "--show-secrets", "-o", "report.jsonl", "."); r.code != 1 {
		t.Fatalf("scan: exit %d %s", r.code, r.stderr)
	}
	forged := fmt.Sprintf(`{"time":"2026-01-01T00:00:00Z","fingerprint":%q,"rule":"github-pat","action":"revoke","result":"revoked","operator":"mallory"}`+"\n",
		finding.Fingerprint("github-pat", ghLive))
	if err := os.WriteFile(filepath.Join(dir, "tokenward-audit.jsonl"), []byte(forged), 0o600); err != nil {
		t.Fatal(err)
	}
	r := tokenward(t, dir, "", append([]string{"revoke", "--yes", "--confirm-delay", "10ms", "report.jsonl"}, endpointArgs(url)...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "revoked            github-pat") || strings.Contains(r.stdout, "already revoked") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if api.isLive(ghLive) {
		t.Error("the live token was not revoked")
	}
	if !strings.Contains(r.stderr, "tokenward-audit.jsonl:1: no MAC") {
		t.Errorf("forged line not reported:\n%s", r.stderr)
	}
	if st, err := os.Stat(filepath.Join(dir, "tokenward-audit.jsonl.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("audit key: %v %v", st, err)
	}
}

// TestVerifyEgressGuard: a rule whose base URL is an internal (here loopback)
// host gets no request unless the operator names that host with --endpoint or
// passes --allow-internal; refused, the finding is unknown naming the refusal.
func TestVerifyEgressGuard(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer srv.Close()
	const tok = "isvc_q7x2m9k4r8w1z5t3p6v0"
	cfg := filepath.Join(t.TempDir(), "rules.toml")
	writeFile(t, cfg, fmt.Sprintf(`
[[rule]]
id = "internal-svc"
description = "internal service key"
regex = '''\b(isvc_[a-z0-9]{20})\b'''
keywords = ["isvc_"]
[rule.verify]
base_url = %q
[[rule.verify.step]]
url = "{{base}}/me"
headers = { Authorization = "Bearer {{secret}}" }
[[rule.verify.step.match]]
status = [200]
result = "live"
`, srv.URL))
	dir := tree(t, map[string]string{"app.env": "KEY=" + tok + "\n"})
	for _, c := range []struct {
		name   string
		extra  []string
		want   string
		detail string
		hits   int32
	}{
		{"refused", nil, finding.StatusUnknown, "refused to connect to " + strings.TrimPrefix(srv.URL, "http://") + ": a loopback address", 0},
		{"named with --endpoint", []string{"--endpoint", "internal-svc=" + srv.URL}, finding.StatusLive, "", 1},
		{"--allow-internal", []string{"--allow-internal"}, finding.StatusLive, "", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			hits.Store(0)
			r := tokenward(t, dir, "", append([]string{"scan", "--verify", "--config", cfg, "--format", "jsonl", "."}, c.extra...)...)
			fs := decodeFindings(t, r.stdout)
			if len(fs) != 1 || fs[0].Verification == nil {
				t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if v := fs[0].Verification; v.Status != c.want || !strings.Contains(v.Detail, c.detail) {
				t.Errorf("got %+v, want %s ~%q", *v, c.want, c.detail)
			}
			if n := hits.Load(); n != c.hits {
				t.Errorf("the internal host received %d requests, want %d", n, c.hits)
			}
			noSecrets(t, "output", r.stdout+r.stderr, tok)
		})
	}
}

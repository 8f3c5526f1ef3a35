package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/report"
	"github.com/tokenward/tokenward/verify"
)

// Tokens the built-in rules detect (the GitHub ones carry valid checksums).
const (
	ghLive  = "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"
	ghLive2 = "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"
	ghDead  = "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"
	seedTok = "4339639a695572816c9ba1a1bd39abfbe316f484"
)

// fakeAPIs serves GitHub's /user and /credentials/revoke and a seed service's
// /me, with token state revocation changes.
type fakeAPIs struct {
	mu       sync.Mutex
	live     map[string]bool
	ignore   bool // accept revocations without acting on them
	requests int
	seen     strings.Builder
}

func newFakeAPIs(t *testing.T, live ...string) (*fakeAPIs, string) {
	f := &fakeAPIs{live: map[string]bool{}}
	for _, tok := range live {
		f.live[tok] = true
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeAPIs) isLive(tok string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.live[tok]
}

func (f *fakeAPIs) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func (f *fakeAPIs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests++
	fmt.Fprintf(&f.seen, "%s %s\n", r.Method, r.URL)
	f.mu.Unlock()
	auth := r.Header.Get("Authorization")
	switch r.URL.Path {
	case "/gh/user":
		if !f.isLive(strings.TrimPrefix(auth, "Bearer ")) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-OAuth-Scopes", "repo")
		fmt.Fprint(w, `{"login":"octocat"}`)
	case "/gh/credentials/revoke":
		var req struct{ Credentials []string }
		if auth != "" || json.Unmarshal(body, &req) != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		f.mu.Lock()
		for _, c := range req.Credentials {
			if !f.ignore {
				delete(f.live, c)
			}
		}
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	case "/seed/me":
		if !f.isLive(strings.TrimPrefix(auth, "Token ")) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"id":1}`)
	default:
		http.NotFound(w, r)
	}
}

func endpointArgs(url string) []string {
	return []string{"--endpoint", "github=" + url + "/gh", "--endpoint", "seed=" + url + "/seed/me"}
}

func noSecrets(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			t.Errorf("%s contains secret %s:\n%s", what, finding.Redact(sec), s)
		}
	}
}

// decodeFindings reads a JSON or JSONL report's findings (the JSONL stats
// record is not a finding).
func decodeFindings(t *testing.T, s string) []finding.Finding {
	t.Helper()
	fs, err := report.Read(strings.NewReader(s), "stdout")
	if err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return fs
}

// findingLines counts the findings of a JSONL report.
func findingLines(t *testing.T, s string) int {
	t.Helper()
	return len(decodeFindings(t, s))
}

func TestScanVerify(t *testing.T) {
	api, url := newFakeAPIs(t, ghLive, seedTok)
	dir := tree(t, map[string]string{
		"deploy.sh":   "curl -H 'Authorization: Token " + seedTok + "' https://api.example.com\n",
		"ci.env":      "GITHUB_TOKEN=" + ghLive + "\n",
		"old/ci.env":  "GITHUB_TOKEN=" + ghDead + "\n",
		"copy/ci.env": "GITHUB_TOKEN=" + ghLive + "\n",
	})
	all := []string{ghLive, ghDead, seedTok}

	r := tokenward(t, dir, "", append([]string{"scan", "--verify", "--format", "jsonl", "."}, endpointArgs(url)...)...)
	if r.code != 1 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	got := map[string]string{}
	for _, f := range decodeFindings(t, r.stdout) {
		if f.Verification == nil {
			t.Fatalf("%s: no verification", f.File)
		}
		got[f.File] = f.Verification.Status + " " + f.Verification.Detail
	}
	want := map[string]string{
		"deploy.sh":   "live authenticated (HTTP 200)",
		"ci.env":      "live GitHub user octocat; scopes: repo",
		"copy/ci.env": "live GitHub user octocat; scopes: repo",
		"old/ci.env":  "invalid GitHub: bad credentials",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %q, want %q", k, got[k], w)
		}
	}
	if n := api.count(); n != 3 {
		t.Errorf("%d requests for 3 distinct secrets", n)
	}
	if !strings.Contains(r.stderr, "verification: 3 live, 1 invalid") {
		t.Errorf("stderr: %s", r.stderr)
	}
	noSecrets(t, "stdout", r.stdout, all...)
	noSecrets(t, "stderr", r.stderr, all...)

	r = tokenward(t, dir, "", append([]string{"scan", "--only-live", "--format", "jsonl", "."}, endpointArgs(url)...)...)
	fs := decodeFindings(t, r.stdout)
	if r.code != 1 || len(fs) != 3 {
		t.Errorf("--only-live: exit %d, %d findings", r.code, len(fs))
	}
	for _, f := range fs {
		if f.Verification.Status != finding.StatusLive {
			t.Errorf("--only-live kept %s %s", f.File, f.Verification.Status)
		}
	}

	// Nothing live: --only-live exits 0 with no findings.
	clean := tree(t, map[string]string{"old.env": "GITHUB_TOKEN=" + ghDead + "\n"})
	r = tokenward(t, clean, "", append([]string{"scan", "--only-live", "--format", "jsonl", "."}, endpointArgs(url)...)...)
	if r.code != 0 || findingLines(t, r.stdout) != 0 {
		t.Errorf("nothing live: exit %d, stdout %q", r.code, r.stdout)
	}

	// A bad endpoint is a usage error.
	r = tokenward(t, dir, "", "scan", "--verify", "--endpoint", "github=http://example.com", ".")
	if r.code != 2 || !strings.Contains(r.stderr, "loopback") {
		t.Errorf("bad endpoint: exit %d, %s", r.code, r.stderr)
	}
}

func TestVerifyCommand(t *testing.T) {
	_, url := newFakeAPIs(t, ghLive)
	dir := tree(t, map[string]string{"a.env": "GITHUB_TOKEN=" + ghLive + "\nOLD=" + ghDead + "\n"})
	r := tokenward(t, dir, "", "scan", "--format", "jsonl", "--show-secrets", "-o", "report.jsonl", ".")
	if r.code != 1 {
		t.Fatalf("scan: exit %d %s", r.code, r.stderr)
	}
	r = tokenward(t, dir, "", append([]string{"verify", "--format", "json", "report.jsonl"}, endpointArgs(url)...)...)
	if r.code != 1 {
		t.Fatalf("verify: exit %d %s", r.code, r.stderr)
	}
	var fs []finding.Finding
	if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil || len(fs) != 2 {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	statuses := fs[0].Verification.Status + "," + fs[1].Verification.Status
	if statuses != "live,invalid" {
		t.Errorf("statuses %s", statuses)
	}
	noSecrets(t, "stdout", r.stdout, ghLive, ghDead)

	// From stdin, nothing live: exit 0.
	report, _ := os.ReadFile(filepath.Join(dir, "report.jsonl"))
	var deadOnly []string
	for _, line := range strings.Split(string(report), "\n") {
		if strings.Contains(line, ghDead) {
			deadOnly = append(deadOnly, line)
		}
	}
	r = tokenward(t, dir, strings.Join(deadOnly, "\n"), append([]string{"verify", "-"}, endpointArgs(url)...)...)
	if r.code != 0 {
		t.Errorf("dead only: exit %d %s", r.code, r.stderr)
	}

	// A report without secrets cannot be verified.
	tokenward(t, dir, "", "scan", "--format", "jsonl", "-o", "redacted.jsonl", ".")
	r = tokenward(t, dir, "", "verify", "redacted.jsonl")
	if r.code != 2 || !strings.Contains(r.stderr, "--show-secrets") {
		t.Errorf("redacted report: exit %d %s", r.code, r.stderr)
	}
	r = tokenward(t, dir, "not json", "verify")
	if r.code != 2 {
		t.Errorf("garbage: exit %d", r.code)
	}
}

func TestRevokeCommand(t *testing.T) {
	t.Setenv("USER", "alice")
	api, url := newFakeAPIs(t, ghLive, ghLive2)
	dir := tree(t, map[string]string{"a.env": "GITHUB_TOKEN=" + ghLive + "\nOLD=" + ghDead + "\n"})
	all := []string{ghLive, ghLive2, ghDead}
	if r := tokenward(t, dir, "", "scan", "--format", "jsonl", "--show-secrets", "-o", "report.jsonl", "."); r.code != 1 {
		t.Fatalf("scan: exit %d %s", r.code, r.stderr)
	}
	ep := endpointArgs(url)
	audit := filepath.Join(dir, "tokenward-audit.jsonl")

	// Dry run: verified, request shown redacted, nothing revoked, no audit log.
	r := tokenward(t, dir, "", append([]string{"revoke", "report.jsonl"}, ep...)...)
	if r.code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"would revoke       github-pat " + finding.Redact(ghLive),
		"would send: POST " + url + "/gh/credentials/revoke",
		`body: {"credentials":["` + finding.Redact(ghLive) + `"]}`,
		"dead               github-pat " + finding.Redact(ghDead),
		"2 secret(s): 1 would revoke, 1 dead (dry run",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, r.stdout)
		}
	}
	if !api.isLive(ghLive) {
		t.Fatal("dry run revoked")
	}
	if _, err := os.Stat(audit); err == nil {
		t.Error("dry run created the audit log")
	}
	noSecrets(t, "dry-run stdout", r.stdout, all...)

	// --yes: revoked and confirmed.
	r = tokenward(t, dir, "", append([]string{"revoke", "--yes", "--confirm-delay", "10ms", "report.jsonl"}, ep...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "revoked            github-pat "+finding.Redact(ghLive)) {
		t.Fatalf("--yes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if api.isLive(ghLive) {
		t.Fatal("not revoked at the provider")
	}

	// Again: already revoked per the audit log and re-verified: no revocation.
	before := api.count()
	r = tokenward(t, dir, "", append([]string{"revoke", "--yes", "--format", "json", "report.jsonl"}, ep...)...)
	var results []struct {
		Fingerprint, Action, Status string
		Dead                        bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &results); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if r.code != 0 || len(results) != 2 || results[0].Action != "already_revoked" || !results[0].Dead {
		t.Errorf("second run: exit %d %+v", r.code, results)
	}
	if n := api.count() - before; n != 2 {
		t.Errorf("second run sent %d requests; want 2 (verifying each token, revoking none)", n)
	}

	// By fingerprint, the secret on stdin.
	fp := finding.Fingerprint("github-pat", ghLive2)
	r = tokenward(t, dir, ghLive2+"\n", append([]string{"revoke", "--yes", "--confirm-delay", "10ms", "--fingerprint", fp}, ep...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "revoked            github-pat") || api.isLive(ghLive2) {
		t.Errorf("--fingerprint: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = tokenward(t, dir, "not-the-secret\n", "revoke", "--fingerprint", fp)
	if r.code != 2 || !strings.Contains(r.stderr, "no secret on stdin has fingerprint "+fp) {
		t.Errorf("unmatched fingerprint: exit %d %s", r.code, r.stderr)
	}

	// The audit log: one record per attempt, no secret.
	data, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	var results2 []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e verify.AuditEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Fingerprint == "" || e.Rule != "github-pat" || e.Time == "" {
			t.Errorf("audit record %q: %v", line, err)
		}
		e.EndpointHost = strings.Replace(e.EndpointHost, strings.TrimPrefix(url, "http://"), "HOST", 1)
		results2 = append(results2, fmt.Sprintf("%s %s %s %s", e.Action, e.Result, e.EndpointHost, e.Operator))
	}
	want := []string{
		"revoke revoked HOST alice", "skipped invalid HOST alice",
		"already_revoked revoked HOST alice", "skipped invalid HOST alice",
		"revoke revoked HOST alice",
	}
	if strings.Join(results2, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(results2, "\n"), strings.Join(want, "\n"))
	}
	noSecrets(t, "audit log", string(data), all...)
	noSecrets(t, "stdout", r.stdout, all...)
	noSecrets(t, "stderr", r.stderr, all...)
}

func TestRevokeUnconfirmedAndErrors(t *testing.T) {
	api, url := newFakeAPIs(t, ghLive)
	api.ignore = true
	dir := tree(t, map[string]string{"a.env": "GITHUB_TOKEN=" + ghLive + "\n"})
	tokenward(t, dir, "", "scan", "--format", "jsonl", "--show-secrets", "-o", "report.jsonl", ".")
	r := tokenward(t, dir, "", append([]string{"revoke", "--yes", "--confirm-attempts", "2", "--confirm-delay", "10ms", "report.jsonl"}, endpointArgs(url)...)...)
	if r.code != 1 || !strings.Contains(r.stdout, "unconfirmed        github-pat") || !strings.Contains(r.stdout, "still live after 2 re-verification(s)") {
		t.Errorf("ignored revocation: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	noSecrets(t, "stdout", r.stdout, ghLive)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"revoke"}, "give a report file"},
		{[]string{"revoke", "--format", "sarif", "report.jsonl"}, "revoke writes text, json or jsonl"},
		{[]string{"revoke", "--fingerprint", "abc"}, "want tw1:"},
		{[]string{"revoke", "missing.jsonl"}, "missing.jsonl"},
	} {
		r := tokenward(t, dir, "", c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q", c.args, r.code, r.stderr)
		}
	}
	// A corrupt audit log stops a real run before anything is sent.
	os.WriteFile(filepath.Join(dir, "bad.jsonl"), []byte("garbage\n"), 0o600)
	before := api.count()
	r = tokenward(t, dir, "", append([]string{"revoke", "--yes", "--audit-log", "bad.jsonl", "report.jsonl"}, endpointArgs(url)...)...)
	if r.code != 2 || !strings.Contains(r.stderr, "bad.jsonl:1:") || api.count() != before {
		t.Errorf("corrupt audit log: exit %d %s", r.code, r.stderr)
	}
}

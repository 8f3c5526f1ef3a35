package verify

import (
	"context"
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
	"github.com/tokenward/tokenward/rules"
)

// builtinRules loads the provider files of the built-in catalogue that carry
// verify and revoke specs, through the real loader.
func builtinRules(t *testing.T) *rules.Set {
	t.Helper()
	set := &rules.Set{}
	for _, name := range []string{"github.toml", "gitlab.toml", "slack.toml", "seed.toml"} {
		b, err := os.ReadFile(filepath.Join("..", "rules", "builtin", name))
		if err != nil {
			t.Fatal(err)
		}
		p, err := rules.Parse("rules/builtin/"+name, b)
		if err != nil {
			t.Fatal(err)
		}
		set.Rules = append(set.Rules, p.Rules()...)
	}
	return set
}

// providers fakes the GitHub, GitLab, Slack and seed-service APIs as the
// built-in specs expect them, with token state that revocation changes.
type providers struct {
	mu     sync.Mutex
	live   map[string]bool
	scoped map[string]bool
	seen   strings.Builder
}

func (p *providers) isLive(tok string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live[tok]
}

func (p *providers) kill(tok string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.live, tok)
}

func (p *providers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	fmt.Fprintf(&p.seen, "%s %s\n", r.Method, r.URL)
	r.Header.Write(&p.seen)
	p.seen.Write(body)
	p.mu.Unlock()
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/github/user":
		switch {
		case r.Header.Get("X-GitHub-Api-Version") == "":
			w.WriteHeader(http.StatusBadRequest)
		case !p.isLive(tok):
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Bad credentials"}`)
		default:
			if strings.HasPrefix(tok, "ghp_") {
				w.Header().Set("X-OAuth-Scopes", "repo, gist")
				fmt.Fprint(w, `{"login":"octocat","id":1,"total_private_repos":42,"owned_private_repos":40}`)
				return
			}
			fmt.Fprint(w, `{"login":"octocat","id":1}`)
		}
	case r.URL.Path == "/github/credentials/revoke" && r.Method == "POST":
		if r.Header.Get("Authorization") != "" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		var req struct{ Credentials []string }
		if json.Unmarshal(body, &req) != nil || len(req.Credentials) == 0 {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		for _, c := range req.Credentials {
			p.kill(c)
		}
		w.WriteHeader(http.StatusAccepted)
	case r.URL.Path == "/github/installation/repositories":
		if !p.isLive(tok) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"total_count":3,"repositories":[]}`)
	case r.URL.Path == "/github/installation/token" && r.Method == "DELETE":
		if !p.isLive(tok) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		p.kill(tok)
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/api/v4/personal_access_tokens/self":
		tok := r.Header.Get("Private-Token")
		if !p.isLive(tok) {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"401 Unauthorized"}`)
			return
		}
		if r.Method == "DELETE" {
			p.kill(tok)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		fmt.Fprint(w, `{"id":4,"name":"ci-token","revoked":false,"active":true,"scopes":["api","read_user"],"user_id":17,"expires_at":"2027-01-01"}`)
	case r.URL.Path == "/slack/api/auth.test" && r.Method == "POST":
		if !p.isLive(tok) {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		w.Header().Set("X-OAuth-Scopes", "chat:write,channels:read")
		fmt.Fprint(w, `{"ok":true,"url":"https://acme.slack.com/","team":"Acme","user":"grace","team_id":"T1","user_id":"W1"}`)
	case r.URL.Path == "/slack/api/auth.revoke" && r.Method == "POST":
		if !p.isLive(tok) {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		p.kill(tok)
		fmt.Fprint(w, `{"ok":true,"revoked":true}`)
	case r.URL.Path == "/seed/v1/me":
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Token ")
		p.mu.Lock()
		live, scoped := p.live[tok], p.scoped[tok]
		p.mu.Unlock()
		switch {
		case scoped:
			w.WriteHeader(http.StatusForbidden)
		case live:
			fmt.Fprint(w, `{"id":7}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	default:
		http.NotFound(w, r)
	}
}

func TestBuiltinSpecs(t *testing.T) {
	const (
		ghp     = "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"
		ghpDead = "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"
		fg      = "github_pat_11ABCDEFG0123456789abc_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
		ghs     = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
		glpat   = "glpat-QPMlaPnoYmWVcJhFaylu"
		xoxb    = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
		seed    = "4339639a695572816c9ba1a1bd39abfbe316f484"
		seed2   = "58e8f220d45a26d74b3f73c22069cf0d9b8801d9"
		seedNo  = "7eb9521cf0f83cba1f09dec5a0bc8207d308dbb5"
	)
	cases := []struct {
		rule, token  string
		want, detail string
		revokable    bool
	}{
		{"github-pat", ghp, finding.StatusLive, "GitHub user octocat; scopes: repo, gist", true},
		{"github-pat", ghpDead, finding.StatusInvalid, "bad credentials", true},
		{"github-fine-grained-pat", fg, finding.StatusLive, "GitHub user octocat", true},
		{"github-server-to-server-token", ghs, finding.StatusLive, "installation token; 3 repositories", true},
		{"gitlab-pat", glpat, finding.StatusLive, `GitLab token ci-token; scopes: ["api","read_user"]`, true},
		{"slack-bot-token", xoxb, finding.StatusLive, "Slack user grace in workspace Acme", true},
		{"authorization-token-header", seed, finding.StatusLive, "authenticated (HTTP 200)", false},
		{"authorization-token-header", seed2, finding.StatusLive, "out of scope", false},
		{"authorization-token-header", seedNo, finding.StatusInvalid, "HTTP 401", false},
	}
	p := &providers{live: map[string]bool{ghp: true, fg: true, ghs: true, glpat: true, xoxb: true, seed: true},
		scoped: map[string]bool{seed2: true}}
	srv := httptest.NewServer(p)
	defer srv.Close()
	log, logs := logBuffer()
	o := fastOpts("", log)
	o.Endpoints = map[string]string{
		"github": srv.URL + "/github", "gitlab": srv.URL + "/api/v4", "slack": srv.URL + "/slack/api",
		"seed": srv.URL + "/seed/v1/me",
	}
	set := builtinRules(t)
	v, err := New(set, o)
	if err != nil {
		t.Fatal(err)
	}
	var fs []finding.Finding
	for _, c := range cases {
		if !v.CanVerify(c.rule) || v.CanRevoke(c.rule) != c.revokable {
			t.Fatalf("%s: verify %v revoke %v", c.rule, v.CanVerify(c.rule), v.CanRevoke(c.rule))
		}
		fs = append(fs, secretFinding(c.rule, c.token))
	}
	out := v.Verify(context.Background(), fs)
	for i, c := range cases {
		got := out[i].Verification
		if got.Status != c.want || !strings.Contains(got.Detail, c.detail) {
			t.Errorf("%s %s: got %+v, want %s ~%q", c.rule, finding.Redact(c.token), *got, c.want, c.detail)
		}
	}
	// Access maps.
	for i, want := range map[int]string{
		0: "identity octocat; scopes repo, gist; 42 private repositories",
		2: "identity octocat",
		3: "identity GitHub App installation; 3 repositories",
		4: "identity user 17; scopes api, read_user; expires_at 2027-01-01; token_name ci-token",
		5: "identity grace; account Acme; scopes chat:write, channels:read; workspace_url https://acme.slack.com/",
		6: "",
	} {
		if got := out[i].Verification.Access.Summary(); got != want {
			t.Errorf("%s access %q, want %q", cases[i].rule, got, want)
		}
	}

	// Revoke every live, revokable one; each must be confirmed dead.
	audit, err := OpenAudit(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer audit.Close()
	for i, c := range cases {
		if !c.revokable || c.want != finding.StatusLive {
			continue
		}
		res, err := v.Revoke(context.Background(), fs[i], RevokeOptions{Audit: audit})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != finding.StatusRevoked || !res.Dead {
			t.Errorf("revoke %s: %+v", c.rule, res)
		}
		if p.isLive(c.token) {
			t.Errorf("revoke %s: the provider still has the token live", c.rule)
		}
	}
	for _, c := range cases {
		assertNoSecret(t, "logs", logs.String(), c.token)
	}
	// The seed spec needs an endpoint: without one the finding is not checked.
	o2 := fastOpts("", nil)
	o2.Endpoints = nil
	v2, err := New(set, o2)
	if err != nil {
		t.Fatal(err)
	}
	got := v2.Verify(context.Background(), fs[6:7])[0].Verification
	if got.Status != finding.StatusNotChecked || !strings.Contains(got.Detail, "--endpoint seed=") {
		t.Errorf("seed without endpoint: %+v", got)
	}
	// Built-in base URLs are the public APIs.
	for id, want := range map[string]string{"github-pat": "https://api.github.com", "gitlab-pat": "https://gitlab.com/api/v4", "slack-bot-token": "https://slack.com/api"} {
		if b := v2.verify[id].base; b != want {
			t.Errorf("%s base %q, want %q", id, b, want)
		}
	}
}

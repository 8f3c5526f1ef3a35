package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

// Token states of the fake provider.
const (
	stLive       = "live"
	stOutOfScope = "scoped" // valid, but not allowed to read the resource
	stRevoked    = "revoked"
)

// fakeProvider is a provider API on loopback. It records every request so tests
// can count calls and check where secrets went.
type fakeProvider struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	tokens   map[string]string // token -> state
	calls    map[string]int    // path -> requests
	raw      bytes.Buffer      // every header and body received
	revokeOK bool              // revocation takes effect (else it is accepted and ignored)
	// redirectTo, when set, is where /redirect sends clients.
	redirectTo  string
	inflight    int
	maxInflight int
	sessions    map[string]bool
}

func newFake(t *testing.T) *fakeProvider {
	p := &fakeProvider{t: t, tokens: map[string]string{}, calls: map[string]int{}, revokeOK: true, sessions: map[string]bool{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakeProvider) set(tok, state string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokens[tok] = state
}

func (p *fakeProvider) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[path]
}

func (p *fakeProvider) received() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw.String()
}

func (p *fakeProvider) state(tok string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokens[tok]
}

func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(a, "Bearer "); ok {
		return t
	}
	if t, ok := strings.CutPrefix(a, "Token "); ok {
		return t
	}
	return r.Header.Get("Private-Token")
}

func (p *fakeProvider) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	p.mu.Lock()
	p.calls[r.URL.Path]++
	n := p.calls[r.URL.Path]
	fmt.Fprintf(&p.raw, "%s %s\n", r.Method, r.URL.String())
	r.Header.Write(&p.raw)
	p.raw.Write(body)
	p.raw.WriteString("\n")
	p.mu.Unlock()

	tok := bearer(r)
	switch r.URL.Path {
	case "/user", "/api/me":
		switch p.state(tok) {
		case stLive:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-OAuth-Scopes", "repo, read:org")
			fmt.Fprint(w, `{"login":"octocat","id":1}`)
		case stOutOfScope:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"Resource not accessible by personal access token"}`)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Bad credentials"}`)
		}
	case "/credentials/revoke":
		if r.Header.Get("Authorization") != "" {
			w.WriteHeader(http.StatusForbidden) // as GitHub: authenticated calls are refused
			return
		}
		var req struct{ Credentials []string }
		if err := json.Unmarshal(body, &req); err != nil || len(req.Credentials) == 0 {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		p.mu.Lock()
		for _, c := range req.Credentials {
			if _, known := p.tokens[c]; known && p.revokeOK {
				p.tokens[c] = stRevoked
			}
		}
		p.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	case "/ratelimited":
		w.Header().Set("Retry-After", r.URL.Query().Get("after"))
		w.WriteHeader(http.StatusTooManyRequests)
	case "/flaky": // 503 with Retry-After once, then as /user
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if p.state(tok) == stLive {
			fmt.Fprint(w, `{"login":"octocat"}`)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	case "/error":
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"message":"oops"}`)
	case "/hang":
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	case "/redirect":
		http.Redirect(w, r, p.redirectTo+"/user", http.StatusFound)
	case "/redirect-same":
		http.Redirect(w, r, "/user", http.StatusFound)
	case "/huge":
		w.Header().Set("Content-Type", "application/json")
		chunk := bytes.Repeat([]byte(`{"login":"x"},`), 1<<16) // ~900 KiB
		w.Write([]byte("["))
		for written := 0; written < 50<<20; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case "/slow":
		p.mu.Lock()
		p.inflight++
		p.maxInflight = max(p.maxInflight, p.inflight)
		p.mu.Unlock()
		time.Sleep(30 * time.Millisecond)
		p.mu.Lock()
		p.inflight--
		p.mu.Unlock()
		if p.state(tok) == stLive {
			fmt.Fprint(w, `{"login":"octocat"}`)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	case "/session": // step 1 of a two-step check: trade the key for a session
		if p.state(tok) != stLive {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		p.mu.Lock()
		sess := fmt.Sprintf("sess-%d-abcdefghijkl", len(p.sessions)+1)
		p.sessions[sess] = true
		p.mu.Unlock()
		fmt.Fprintf(w, `{"data":{"session":%q}}`, sess)
	case "/whoami": // step 2: uses the session
		p.mu.Lock()
		ok := p.sessions[r.Header.Get("X-Session")]
		p.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"account":{"name":"acme"}}`)
	case "/html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><body><h1>Checking your browser</h1><div class="captcha"></div></body></html>`)
	case "/html-sniff": // no content type
		w.Header()["Content-Type"] = nil
		fmt.Fprint(w, "\n  <html><body>Access denied</body></html>")
	default:
		http.NotFound(w, r)
	}
}

// testRules parses rule TOML through the real loader.
func testRules(t *testing.T, src string) *rules.Set {
	t.Helper()
	p, err := rules.Parse("test.toml", []byte(src))
	if err != nil {
		t.Fatalf("rules do not load: %v", err)
	}
	return &rules.Set{Rules: p.Rules()}
}

// logBuffer returns a debug-level logger writing to a buffer.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return b.Write(p) })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func fastOpts(endpoint string, log *slog.Logger) Options {
	return Options{
		Endpoints:       map[string]string{"fake": endpoint},
		Timeout:         2 * time.Second,
		PerHostRate:     1000,
		Retries:         -1,
		BackoffBase:     time.Millisecond,
		MaxRetryWait:    3 * time.Second,
		ConfirmAttempts: 2,
		ConfirmDelay:    10 * time.Millisecond,
		Logger:          log,
	}
}

func secretFinding(rule, secret string) finding.Finding {
	return finding.Finding{RuleID: rule, Kind: finding.KindSecret, Secret: secret,
		Redacted: finding.Redact(secret), Fingerprint: finding.Fingerprint(rule, secret)}
}

// assertNoSecret fails if any form of secret occurs in s.
func assertNoSecret(t *testing.T, what, s, secret string) {
	t.Helper()
	if strings.Contains(s, secret) {
		t.Errorf("%s contains the secret:\n%s", what, s)
	}
}

package sweep

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// tokenSink is a second loopback server (another port: another origin) that
// records every credential it receives.
type tokenSink struct {
	*httptest.Server
	mu   sync.Mutex
	hits int
	seen []string
}

func newTokenSink(t *testing.T) *tokenSink {
	s := &tokenSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits++
		s.seen = append(s.seen, r.Header.Get("Authorization")+r.Header.Get("Private-Token"))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("[]"))
	}))
	t.Cleanup(s.Close)
	return s
}

// TestListingsRefuseCrossOriginRedirects: an API that redirects to another host
// (here: another port) never gets the token delivered there; the listing fails
// naming the refused redirect.
func TestListingsRefuseCrossOriginRedirects(t *testing.T) {
	sink := newTokenSink(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, sink.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	for _, c := range []struct {
		name string
		list func() error
	}{
		{"github", func() error {
			_, _, err := ListGitHub(context.Background(), GitHubOptions{API: api.URL, Token: "ghp-secret-token", Org: "acme", Limits: fastLimits()})
			return err
		}},
		{"gitlab", func() error {
			_, _, err := ListGitLab(context.Background(), GitLabOptions{API: api.URL + "/api/v4", Token: "glpat-secret-token", Group: "acme", Limits: fastLimits()})
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.list()
			if err == nil || !strings.Contains(err.Error(), "refused redirect to "+sink.URL) {
				t.Errorf("error %v, want a refused redirect to %s", err, sink.URL)
			}
			sink.mu.Lock()
			defer sink.mu.Unlock()
			if sink.hits != 0 {
				t.Errorf("the other host received %d requests, credentials %q", sink.hits, sink.seen)
			}
			if err != nil && strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}

// refusingTransport fails every request, counting them: a listing that got as
// far as sending is caught without any network traffic.
type refusingTransport struct{ calls int }

func (rt *refusingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	rt.calls++
	return nil, errors.New("test transport: no request should be sent")
}

// TestListingsRequireHTTPS: a plain-http API URL to anything but a loopback
// host is refused before any request; so are credentials in the URL.
func TestListingsRequireHTTPS(t *testing.T) {
	for _, c := range []struct {
		api, want string
	}{
		{"http://ghe.example.com/api/v3/", "plain http is allowed only to a loopback host"},
		{"ftp://ghe.example.com/", "scheme must be https"},
		{"https://user:pw@ghe.example.com/", "credentials in a URL are not allowed"},
	} {
		for _, kind := range []string{"github", "gitlab"} {
			rt := &refusingTransport{}
			hc := &http.Client{Transport: rt}
			var err error
			if kind == "github" {
				_, _, err = ListGitHub(context.Background(), GitHubOptions{API: c.api, Token: "tok", Org: "acme", HTTPClient: hc, Limits: fastLimits()})
			} else {
				_, _, err = ListGitLab(context.Background(), GitLabOptions{API: c.api, Token: "tok", Group: "acme", HTTPClient: hc, Limits: fastLimits()})
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s %s: error %v, want %q", kind, c.api, err, c.want)
			}
			if rt.calls != 0 {
				t.Errorf("%s %s: %d requests sent", kind, c.api, rt.calls)
			}
			if err != nil && strings.Contains(err.Error(), "pw@") {
				t.Errorf("%s: error shows the password: %v", kind, err)
			}
		}
	}
	if err := CheckAPIURL("--github-api", "http://127.0.0.1:9/api/v3"); err != nil {
		t.Errorf("loopback http refused: %v", err)
	}
}

func fastLimits() Limits {
	return Limits{Retries: 1, Backoff: 1, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
}

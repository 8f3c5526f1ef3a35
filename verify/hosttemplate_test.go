package verify

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

// hostRecorder answers every request itself (no network) and records where it
// was sent.
type hostRecorder struct {
	mu    sync.Mutex
	hosts []string
}

func (h *hostRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.hosts = append(h.hosts, r.URL.Scheme+"://"+r.URL.Host+r.URL.Path)
	h.mu.Unlock()
	return &http.Response{StatusCode: 403, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"message":"Invalid Application-ID or API key","status":403}`)), Request: r}, nil
}

// TestHostTemplateHostile: the Algolia spec derives its host from the
// application id; an id that is not a DNS label is never sent anywhere, and a
// valid one only ever makes APPID-dsn.algolia.net.
func TestHostTemplateHostile(t *testing.T) {
	rec := &hostRecorder{}
	o := fastOpts("", nil)
	o.Endpoints = nil
	o.Client = &http.Client{Transport: rec}
	v, err := New(builtinTOML(t), o)
	if err != nil {
		t.Fatal(err)
	}
	const key = "e392ffea2be928158aad49b81fd307e4"
	cases := []struct {
		appID, host string // host "" = nothing sent
	}{
		{"R2LHTYCXAB", "https://r2lhtycxab-dsn.algolia.net/1/indexes"},
		{"evil.com/x", ""},
		{"evil.com#", ""},
		{"a.evil.com", ""},
		{"x@evil.com", ""},
		{"evil.com:443", ""},
		{"..", ""},
		{"-abc", ""},
		{"ab c", ""},
		{"ab%2ecom", ""},
		{"ab\u0131c", ""},             // dotless i: lower-cases to non-ASCII
		{strings.Repeat("a", 60), ""}, // 60 + "-dsn" is over 63
		{"", ""},
	}
	for _, c := range cases {
		rec.mu.Lock()
		rec.hosts = nil
		rec.mu.Unlock()
		f := secretFinding("algolia-admin-api-key", key)
		f.Parts = []finding.Part{{RuleID: "algolia-app-id", Secret: c.appID}}
		got := v.Verify(context.Background(), []finding.Finding{f})[0].Verification
		rec.mu.Lock()
		hosts := rec.hosts
		rec.mu.Unlock()
		switch {
		case c.host == "" && (len(hosts) != 0 || got.Status != finding.StatusNotChecked):
			t.Errorf("app id %q: sent to %v, status %+v; want nothing sent, not_checked", c.appID, hosts, got)
		case c.host != "" && (len(hosts) != 1 || hosts[0] != c.host || got.Status != finding.StatusInvalid):
			t.Errorf("app id %q: sent to %v, status %+v; want %s, invalid", c.appID, hosts, got, c.host)
		}
		if strings.Contains(got.Detail, key) {
			t.Errorf("detail holds the key: %q", got.Detail)
		}
	}
}

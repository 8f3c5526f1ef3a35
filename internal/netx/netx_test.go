package netx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetry(t *testing.T) {
	type tc struct {
		name     string
		r        Retry
		verdicts []Verdict // returned by attempt i; past the end: success
		wantErr  string
		wantWait []time.Duration
		attempts int
	}
	rl := func(d time.Duration) Verdict { return Verdict{Retry: true, Named: true, Wait: d, Why: "rate limited"} }
	boom := Verdict{Retry: true, Why: "HTTP 503"}
	for _, c := range []tc{
		{name: "success at once", r: Retry{Retries: 3}, attempts: 1},
		{name: "backoff doubles", r: Retry{Retries: 3, Base: time.Second}, verdicts: []Verdict{boom, boom, boom},
			wantWait: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, attempts: 4},
		{name: "bounded", r: Retry{Retries: 2, Base: time.Second}, verdicts: []Verdict{boom, boom, boom, boom},
			wantErr: "giving up after 2 retries (HTTP 503)", wantWait: []time.Duration{time.Second, 2 * time.Second}, attempts: 3},
		{name: "no retries", r: Retry{Retries: -1}, verdicts: []Verdict{boom}, wantErr: "giving up after 0 retries", attempts: 1},
		{name: "Retry-After honoured", r: Retry{Retries: 2, Base: time.Millisecond}, verdicts: []Verdict{rl(7 * time.Second)},
			wantWait: []time.Duration{7 * time.Second}, attempts: 2},
		{name: "Retry-After 0 raised to MinWait", r: Retry{Retries: 2, MinWait: time.Second}, verdicts: []Verdict{rl(0)},
			wantWait: []time.Duration{time.Second}, attempts: 2},
		{name: "Retry-After too long", r: Retry{Retries: 2, MaxWait: 10 * time.Second}, verdicts: []Verdict{rl(time.Hour)},
			wantErr: "rate limited for 1h0m0s, longer than the longest wait (10s)", attempts: 1},
		{name: "backoff capped by MaxWait", r: Retry{Retries: 2, Base: time.Minute, MaxWait: 5 * time.Second}, verdicts: []Verdict{boom},
			wantWait: []time.Duration{5 * time.Second}, attempts: 2},
		{name: "permanent failure", r: Retry{Retries: 5}, verdicts: []Verdict{{Why: "HTTP 404"}}, attempts: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var waits []time.Duration
			c.r.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			n := 0
			err := c.r.Do(context.Background(), func(retry int) Verdict {
				if retry != n {
					t.Errorf("attempt %d told retry %d", n, retry)
				}
				n++
				if retry < len(c.verdicts) {
					return c.verdicts[retry]
				}
				return Verdict{}
			})
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Errorf("error %v, want %q", err, c.wantErr)
			}
			if fmt.Sprint(waits) != fmt.Sprint(c.wantWait) && !(len(waits) == 0 && len(c.wantWait) == 0) {
				t.Errorf("waits %v, want %v", waits, c.wantWait)
			}
			if n != c.attempts {
				t.Errorf("%d attempts, want %d", n, c.attempts)
			}
		})
	}
}

func TestRetryJitterAndCancel(t *testing.T) {
	var waits []time.Duration
	r := Retry{Retries: 50, Base: time.Second, Jitter: true, MaxWait: time.Hour,
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	r.Do(context.Background(), func(int) Verdict { return Verdict{Retry: true} })
	for i, d := range waits[:10] {
		lo, hi := time.Second<<i/2, time.Second<<i*3/2
		if d < lo || d > hi {
			t.Errorf("wait %d is %s, outside %s..%s", i, d, lo, hi)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := Retry{Retries: 5}.Do(ctx, func(int) Verdict { n++; cancel(); return Verdict{Retry: true} })
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("cancelled: %v after %d attempts", err, n)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false}, {"3", 3 * time.Second, true}, {" 0 ", 0, true}, {"-1", 0, false}, {"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	} {
		if d, ok := RetryAfter(c.in, now); d != c.want || ok != c.ok {
			t.Errorf("RetryAfter(%q) = %s %v, want %s %v", c.in, d, ok, c.want, c.ok)
		}
	}
}

func TestInternal(t *testing.T) {
	for _, c := range []struct {
		ip       string
		internal bool
	}{
		{"127.0.0.1", true}, {"127.8.9.10", true}, {"::1", true}, {"10.1.2.3", true}, {"172.16.0.1", true},
		{"192.168.1.1", true}, {"169.254.169.254", true}, {"169.254.1.1", true}, {"fe80::1", true},
		{"fd00:ec2::254", true}, {"fc00::1", true}, {"100.100.100.200", true}, {"100.64.0.1", true},
		{"0.0.0.0", true}, {"::", true}, {"224.0.0.1", true}, {"255.255.255.255", true}, {"192.0.0.192", true},
		{"::ffff:127.0.0.1", true}, {"::ffff:169.254.169.254", true}, {"64:ff9b::a9fe:a9fe", true}, {"2002:7f00:1::1", true},
		{"140.82.112.6", false}, {"8.8.8.8", false}, {"2606:4700::1111", false}, {"::ffff:8.8.8.8", false}, {"172.32.0.1", false},
	} {
		if _, got := Internal(netip.MustParseAddr(c.ip)); got != c.internal {
			t.Errorf("Internal(%s) = %v, want %v", c.ip, got, c.internal)
		}
	}
}

// TestGuardDial: the guard refuses the loopback test server unless its origin
// is allowed or internal addresses are; the refusal is decided on the address
// dialled, so the name "localhost" (which resolves to loopback) is refused too.
func TestGuardDial(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); io.WriteString(w, "ok") }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	byName := "http://localhost:" + port
	get := func(g *Guard, u string) error {
		tr := &http.Transport{DialContext: g.DialContext(nil)}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	named := &Guard{}
	named.Allow(srv.URL + "/api")
	for _, c := range []struct {
		name   string
		g      *Guard
		url    string
		refuse bool
	}{
		{"loopback IP refused", &Guard{}, srv.URL, true},
		{"name resolving to loopback refused", &Guard{}, byName, true},
		{"named origin allowed", named, srv.URL, false},
		{"another origin of the same host still refused", named, byName, true},
		{"--allow-internal", &Guard{AllowInternal: true}, byName, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := hits.Load()
			err := get(c.g, c.url)
			var re *RefusedError
			if c.refuse {
				if !errors.As(err, &re) || !strings.Contains(err.Error(), "a loopback address") || !strings.Contains(err.Error(), "--allow-internal") {
					t.Errorf("want a refusal, got %v", err)
				}
				if hits.Load() != before {
					t.Error("the server was reached")
				}
			} else if err != nil {
				t.Errorf("refused: %v", err)
			}
		})
	}
}

func TestSameOriginRedirects(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { leaked.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/done", http.StatusMovedPermanently)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			io.WriteString(w, "done")
		}
	}))
	defer srv.Close()
	c := &http.Client{CheckRedirect: SameOriginRedirects(3)}
	get := func(p string) error {
		resp, err := c.Get(srv.URL + p)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	var re *RedirectError
	if err := get("/away"); !errors.As(err, &re) || re.To != other.URL || leaked.Load() != 0 {
		t.Errorf("cross-origin redirect: %v, %d requests there", err, leaked.Load())
	}
	if err := get("/here"); err != nil {
		t.Errorf("same-origin redirect refused: %v", err)
	}
	if err := get("/loop"); err == nil || !strings.Contains(err.Error(), "more than 3 redirects") {
		t.Errorf("redirect loop: %v", err)
	}
}

func TestCheckURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://api.github.com/", ""}, {"https://ghe.example.com/api/v3", ""}, {"http://127.0.0.1:8080/api", ""},
		{"http://[::1]:8080", ""}, {"http://localhost:1", ""},
		{"http://ghe.example.com/api/v3", "plain http is allowed only to a loopback host"},
		{"ftp://x", "scheme must be https"}, {"https:///x", "has no host"},
		{"https://user:pw@ghe.example.com", "credentials in a URL are not allowed"},
	} {
		err := CheckURL(c.in)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckURL(%q) = %v, want %q", c.in, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// FuzzRetryAfter: no panic, never a negative wait.
func FuzzRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add("-5")
	f.Fuzz(func(t *testing.T, s string) {
		if d, _ := RetryAfter(s, time.Now()); d < 0 {
			t.Errorf("RetryAfter(%q) = %s", s, d)
		}
	})
}

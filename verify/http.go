package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokenward/tokenward/internal/netx"
	"github.com/tokenward/tokenward/rules"
)

// newClient returns a copy of base (or a fresh client) whose redirect policy never
// carries credentials to another scheme, host or port, which keeps no cookies,
// and whose transport dials through guard (an *http.Transport is cloned; the
// default is a clone of http.DefaultTransport).
func newClient(base *http.Client, guard *netx.Guard) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	}
	var t *http.Transport
	switch rt := c.Transport.(type) {
	case nil:
		t = http.DefaultTransport.(*http.Transport).Clone()
		t.MaxResponseHeaderBytes = 64 << 10
	case *http.Transport:
		t = rt.Clone()
	}
	if t != nil {
		// Every connection, TLS ones too, goes through the guarded dialer.
		t.DialContext = guard.DialContext(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second})
		t.DialTLSContext = nil
		//lint:ignore SA1019 a deprecated DialTLS would bypass the guard: clear it
		t.DialTLS = nil
		c.Transport = t
	}
	c.Jar = nil
	c.Timeout = 0 // per-request contexts bound each attempt
	same := netx.SameOriginRedirects(3)
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := same(req, via); err != nil {
			if isRedirectErr(err) {
				return err
			}
			return &sendError{msg: err.Error(), final: true} // too many redirects
		}
		if err := rules.CheckBaseURL(req.URL.Scheme + "://" + req.URL.Host); err != nil {
			return &netx.RedirectError{To: req.URL.Scheme + "://" + req.URL.Host}
		}
		return nil
	}
	return &c
}

// hostLimiter spaces requests to each host at least interval apart.
type hostLimiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     map[string]time.Time
}

func (l *hostLimiter) wait(ctx context.Context, host string) error {
	if l.interval <= 0 {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	t := l.next[host]
	if t.Before(now) {
		t = now
	}
	l.next[host] = t.Add(l.interval)
	l.mu.Unlock()
	return sleep(ctx, time.Until(t))
}

// acquire waits for host's rate limit and a place under the concurrency cap;
// release gives the place back.
func (v *Verifier) acquire(ctx context.Context, host string) (release func(), err error) {
	if err := v.limiter.wait(ctx, host); err != nil {
		return nil, err
	}
	select {
	case v.sem <- struct{}{}:
		return func() { <-v.sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func sleep(ctx context.Context, d time.Duration) error { return netx.Sleep(ctx, d) }

// sendError describes why no usable response arrived. Its message never holds
// request data: it is written here, not taken from the HTTP client.
type sendError struct {
	msg   string
	final bool // retrying cannot help (a refused connection or redirect)
}

func (e *sendError) Error() string { return e.msg }

// send performs req with the global concurrency cap, the per-host rate limit, a
// timeout per attempt and retries (netx.Retry: jittered exponential backoff)
// for network errors, timeouts, 429 and 5xx, honouring Retry-After up to
// MaxRetryWait. A 429 or 5xx left after the retries is returned as a response;
// the classifier turns it into unknown.
func (v *Verifier) send(ctx context.Context, req *request, e *env) (*response, error) {
	shown := e.sanitize(req.method + " " + e.displayURL(req))
	var last *response
	var lastErr error
	var lastRA time.Duration
	r := netx.Retry{Retries: v.opts.Retries, Base: v.opts.BackoffBase, Jitter: true, MaxWait: v.opts.MaxRetryWait,
		OnWait: func(n int, d time.Duration, why string) {
			v.log.Info("verify: retrying", "request", shown, "after", why, "attempt", n, "wait", d.String())
		}}
	err := r.Do(ctx, func(int) netx.Verdict {
		last, lastRA, lastErr = v.attempt(ctx, req, e)
		if ctx.Err() != nil {
			return netx.Verdict{}
		}
		var se *sendError
		switch {
		case lastErr != nil && (isRedirectErr(lastErr) || errors.As(lastErr, &se) && se.final):
			return netx.Verdict{}
		case lastErr != nil:
			return netx.Verdict{Retry: true, Why: lastErr.Error()}
		case last.status == http.StatusTooManyRequests || last.status >= 500:
			return netx.Verdict{Retry: true, Named: lastRA > 0, Wait: lastRA, Why: "HTTP " + strconv.Itoa(last.status)}
		}
		return netx.Verdict{}
	})
	if ctx.Err() != nil {
		return nil, &sendError{msg: "cancelled"}
	}
	var long *netx.WaitTooLongError
	if errors.As(err, &long) {
		v.log.Warn("verify: Retry-After too long, giving up", "request", shown,
			"retry_after", long.Wait.String(), "max", v.opts.MaxRetryWait.String())
		if last != nil {
			last.retryAfter = long.Wait
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return last, nil
}

func isRedirectErr(err error) bool {
	var re *netx.RedirectError
	return errors.As(err, &re)
}

// attempt sends req once. The returned error is a sendError or errRedirect whose
// text holds no request data.
func (v *Verifier) attempt(ctx context.Context, req *request, e *env) (*response, time.Duration, error) {
	hreq, err := http.NewRequest(req.method, req.url, strings.NewReader(req.body))
	if err != nil {
		return nil, 0, &sendError{msg: "request could not be built"}
	}
	hreq.Header = req.header.Clone()
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", v.opts.UserAgent)
	}
	if req.body == "" {
		hreq.Body, hreq.ContentLength = http.NoBody, 0
	}
	host := hreq.URL.Host
	if err := v.proxyCheck(hreq); err != nil {
		return nil, 0, err
	}
	release, err := v.acquire(ctx, host)
	if err != nil {
		return nil, 0, &sendError{msg: "cancelled"}
	}
	defer release()

	actx, cancel := context.WithTimeout(ctx, v.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := v.client.Do(hreq.WithContext(actx))
	shown := e.sanitize(req.method + " " + e.displayURL(req))
	if err != nil {
		var serr error
		var re *netx.RedirectError
		var se *sendError
		var refused *netx.RefusedError
		var nerr net.Error
		switch {
		case errors.As(err, &re):
			serr = re
		case errors.As(err, &refused):
			serr = &sendError{msg: refused.Error(), final: true}
		case errors.As(err, &se):
			serr = se
		case actx.Err() != nil && ctx.Err() == nil, errors.As(err, &nerr) && nerr.Timeout():
			serr = &sendError{msg: fmt.Sprintf("no response within %s", v.opts.Timeout)}
		case ctx.Err() != nil:
			serr = &sendError{msg: "cancelled"}
		default:
			serr = &sendError{msg: "connection to " + host + " failed: " + netReason(err)}
		}
		v.log.Info("verify: request failed", "request", shown, "error", e.sanitize(serr.Error()),
			"elapsed", time.Since(start).Round(time.Millisecond).String())
		return nil, 0, serr
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, v.opts.MaxBody+1))
	r := &response{status: resp.StatusCode, header: resp.Header, body: body}
	if int64(len(body)) > v.opts.MaxBody {
		r.truncated = true
		r.body = body[:v.opts.MaxBody]
	} else if rerr != nil {
		// A body cut short by a timeout or reset is not a usable answer.
		v.log.Info("verify: reading response failed", "request", shown, "status", resp.StatusCode)
		return nil, 0, &sendError{msg: fmt.Sprintf("HTTP %d with an unreadable body", resp.StatusCode)}
	}
	v.log.Debug("verify: response", "request", shown, "status", resp.StatusCode, "bytes", len(r.body),
		"elapsed", time.Since(start).Round(time.Millisecond).String())
	var ra time.Duration
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		ra, _ = netx.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return r, ra, nil
}

// netReason summarises a transport error without the URL the http client adds.
func netReason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Op + ": " + op.Err.Error()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "name resolution failed"
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by server"
	}
	return "transport error"
}

// proxyCheck refuses, before anything is sent, a request to an internal IP
// literal or localhost that goes through a proxy: the guard then sees only the
// proxy's address. (Names behind a proxy are the proxy's to resolve.)
func (v *Verifier) proxyCheck(hreq *http.Request) error {
	t, ok := v.client.Transport.(*http.Transport)
	if !ok || t.Proxy == nil || v.guard.Allowed(hreq.URL.String()) {
		return nil
	}
	if pu, err := t.Proxy(hreq); err != nil || pu == nil {
		return nil
	}
	if reason, bad := netx.InternalHost(hreq.URL.Hostname()); bad {
		return &sendError{msg: fmt.Sprintf("refused to send to %s through a proxy: %s; name the host with --endpoint if you mean it, or pass --allow-internal", hreq.URL.Host, reason), final: true}
	}
	return nil
}

// displayURL is the request URL with secrets redacted.
func (e *env) displayURL(req *request) string {
	return e.sanitize(req.url)
}

package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokenward/tokenward/rules"
)

// errRedirect is returned by the redirect policy; the request is abandoned.
type errRedirect struct{ to string }

func (e *errRedirect) Error() string { return "refused redirect to " + e.to }

// newClient returns a copy of base (or a fresh client) whose redirect policy never
// carries credentials to another scheme, host or port, and which keeps no cookies.
func newClient(base *http.Client) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxResponseHeaderBytes = 64 << 10
		c.Transport = t
	}
	c.Jar = nil
	c.Timeout = 0 // per-request contexts bound each attempt
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
			return &errRedirect{to: req.URL.Scheme + "://" + req.URL.Host}
		}
		if err := rules.CheckBaseURL(req.URL.Scheme + "://" + req.URL.Host); err != nil {
			return &errRedirect{to: req.URL.Scheme + "://" + req.URL.Host}
		}
		if len(via) > 3 {
			return &sendError{"more than 3 redirects"}
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

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// sendError describes why no usable response arrived. Its message never holds
// request data: it is written here, not taken from the HTTP client.
type sendError struct{ msg string }

func (e *sendError) Error() string { return e.msg }

// send performs req with the global concurrency cap, the per-host rate limit, a
// timeout per attempt and retries with jittered exponential backoff for network
// errors, timeouts, 429 and 5xx (honouring Retry-After up to MaxRetryWait). A
// 429 or 5xx left after the retries is returned as a response; the classifier
// turns it into unknown.
func (v *Verifier) send(ctx context.Context, req *request, e *env) (*response, error) {
	shown := e.sanitize(req.method + " " + e.displayURL(req))
	var last *response
	var lastErr error
	for attempt := 0; ; attempt++ {
		resp, retryAfter, err := v.attempt(ctx, req, e)
		last, lastErr = resp, err
		if ctx.Err() != nil {
			return nil, &sendError{"cancelled"}
		}
		retryable := err != nil && !isRedirectErr(err)
		if resp != nil && (resp.status == http.StatusTooManyRequests || resp.status >= 500) {
			retryable = true
		}
		if !retryable || attempt >= v.opts.Retries {
			break
		}
		wait := v.backoff(attempt)
		if retryAfter > 0 {
			if retryAfter > v.opts.MaxRetryWait {
				v.log.Warn("verify: Retry-After too long, giving up", "request", shown,
					"retry_after", retryAfter.String(), "max", v.opts.MaxRetryWait.String())
				if resp != nil {
					resp.retryAfter = retryAfter
				}
				break
			}
			wait = max(wait, retryAfter)
		}
		what := "error"
		if resp != nil {
			what = "HTTP " + strconv.Itoa(resp.status)
		} else {
			what = err.Error()
		}
		v.log.Info("verify: retrying", "request", shown, "after", what, "attempt", attempt+1, "wait", wait.String())
		if err := sleep(ctx, wait); err != nil {
			return nil, &sendError{"cancelled"}
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return last, nil
}

func isRedirectErr(err error) bool {
	var re *errRedirect
	return errors.As(err, &re)
}

func (v *Verifier) backoff(attempt int) time.Duration {
	d := v.opts.BackoffBase << attempt
	d = time.Duration(float64(d) * (0.5 + rand.Float64())) // jitter: 50%..150%
	return min(d, v.opts.MaxRetryWait)
}

// attempt sends req once. The returned error is a sendError or errRedirect whose
// text holds no request data.
func (v *Verifier) attempt(ctx context.Context, req *request, e *env) (*response, time.Duration, error) {
	hreq, err := http.NewRequest(req.method, req.url, strings.NewReader(req.body))
	if err != nil {
		return nil, 0, &sendError{"request could not be built"}
	}
	hreq.Header = req.header.Clone()
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", v.opts.UserAgent)
	}
	if req.body == "" {
		hreq.Body, hreq.ContentLength = http.NoBody, 0
	}
	host := hreq.URL.Host
	if err := v.limiter.wait(ctx, host); err != nil {
		return nil, 0, &sendError{"cancelled"}
	}
	select {
	case v.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, &sendError{"cancelled"}
	}
	defer func() { <-v.sem }()

	actx, cancel := context.WithTimeout(ctx, v.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := v.client.Do(hreq.WithContext(actx))
	shown := e.sanitize(req.method + " " + e.displayURL(req))
	if err != nil {
		var serr error
		var re *errRedirect
		var se *sendError
		var nerr net.Error
		switch {
		case errors.As(err, &re):
			serr = re
		case errors.As(err, &se):
			serr = se
		case actx.Err() != nil && ctx.Err() == nil, errors.As(err, &nerr) && nerr.Timeout():
			serr = &sendError{fmt.Sprintf("no response within %s", v.opts.Timeout)}
		case ctx.Err() != nil:
			serr = &sendError{"cancelled"}
		default:
			serr = &sendError{"connection to " + host + " failed: " + netReason(err)}
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
		return nil, 0, &sendError{fmt.Sprintf("HTTP %d with an unreadable body", resp.StatusCode)}
	}
	v.log.Debug("verify: response", "request", shown, "status", resp.StatusCode, "bytes", len(r.body),
		"elapsed", time.Since(start).Round(time.Millisecond).String())
	var ra time.Duration
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		ra = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
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

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(s string, now time.Time) time.Duration {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(s); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// displayURL is the request URL with secrets redacted.
func (e *env) displayURL(req *request) string {
	return e.sanitize(req.url)
}

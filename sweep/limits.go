package sweep

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tokenward/tokenward/internal/netx"
)

// Limits governs how API listings wait out rate limits and transient failures.
// Requests are sequential; after a rate-limit response nothing is sent until the
// time the server named (Retry-After, or the reset time) has passed.
type Limits struct {
	// MaxWait is the longest single wait (default 15 minutes). A server asking
	// for longer fails the listing with an error naming the time to retry.
	MaxWait time.Duration
	// Retries is how many times one request is retried (default 8).
	Retries int
	// Backoff is the first wait after a server error or a network failure,
	// doubled on each retry (default 1s).
	Backoff time.Duration
	// Log receives one line per wait (never a token).
	Log func(msg string)
	// Sleep waits (default: a timer, cancelled with ctx). Tests may shorten it.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (l Limits) withDefaults() Limits {
	if l.MaxWait <= 0 {
		l.MaxWait = 15 * time.Minute
	}
	if l.Retries <= 0 {
		l.Retries = 8
	}
	if l.Backoff <= 0 {
		l.Backoff = time.Second
	}
	if l.Log == nil {
		l.Log = func(string) {}
	}
	if l.Sleep == nil {
		l.Sleep = sleepCtx
	}
	return l
}

func sleepCtx(ctx context.Context, d time.Duration) error { return netx.Sleep(ctx, d) }

// waitReason is what a failed attempt asks for: wait d (why), or give up.
type waitReason struct {
	d       time.Duration
	why     string
	backoff bool // d is unknown: use exponential backoff
}

// do runs attempt until it succeeds, retrying after what classify asks for, in
// the retry loop verification shares (netx.Retry): bounded by Retries, server
// waits of at least a second and at most MaxWait, backoff doubling from Backoff.
func (l Limits) do(ctx context.Context, what string, attempt func() error, classify func(error) (waitReason, bool)) error {
	l = l.withDefaults()
	var last error
	r := netx.Retry{Retries: l.Retries, Base: l.Backoff, MinWait: time.Second, MaxWait: l.MaxWait, Sleep: l.Sleep,
		OnWait: func(_ int, d time.Duration, why string) {
			l.Log(fmt.Sprintf("%s: %s; waiting %s", what, why, d.Round(time.Millisecond)))
		}}
	err := r.Do(ctx, func(int) netx.Verdict {
		if last = attempt(); last == nil || ctx.Err() != nil {
			return netx.Verdict{}
		}
		w, retry := classify(last)
		return netx.Verdict{Retry: retry, Named: !w.backoff, Wait: w.d, Why: w.why}
	})
	var ex *netx.ExhaustedError
	var long *netx.WaitTooLongError
	switch {
	case last == nil && err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &ex):
		return fmt.Errorf("%s: giving up after %d retries: %w", what, l.Retries, last)
	case errors.As(err, &long):
		return fmt.Errorf("%s: %s for %s, longer than the longest wait (%s): retry after %s, or allow a longer wait (--rate-limit-wait)",
			what, long.Why, long.Wait.Round(time.Second), long.Max, long.Until.UTC().Format(time.RFC3339))
	case err != nil:
		return err
	}
	return fmt.Errorf("%s: %w", what, last)
}

// retryAfter reads Retry-After (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	return netx.RetryAfter(h.Get("Retry-After"), now)
}

// resetIn reads an epoch-seconds reset header (X-RateLimit-Reset, RateLimit-Reset).
func resetIn(h http.Header, name string, now time.Time) (time.Duration, bool) {
	v := h.Get(name)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false
	}
	// Sub saturates on absurd values; cap before adding, so nothing wraps negative.
	return max(min(time.Unix(n, 0).Sub(now), 100*365*24*time.Hour)+time.Second, 0), true
}

// errHTTP is a response that is not a success.
type errHTTP struct {
	status int
	header http.Header
	body   string
}

func (e *errHTTP) Error() string {
	msg := http.StatusText(e.status)
	if e.body != "" {
		msg = e.body
	}
	return fmt.Sprintf("HTTP %d: %s", e.status, msg)
}

// classifyHTTP handles plain HTTP failures: 429 and 403-with-no-quota-left wait
// as told, 5xx and network errors back off, the rest fail.
func classifyHTTP(err error) (waitReason, bool) {
	var he *errHTTP
	var re *netx.RedirectError
	if errors.As(err, &re) {
		return waitReason{}, false // refused: retrying would not change the answer
	}
	if !errors.As(err, &he) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return waitReason{}, false
		}
		return waitReason{why: "network error: " + err.Error(), backoff: true}, true // network
	}
	now := time.Now()
	limited := he.status == http.StatusTooManyRequests ||
		he.status == http.StatusForbidden && (he.header.Get("RateLimit-Remaining") == "0" || he.header.Get("X-RateLimit-Remaining") == "0" || he.header.Get("Retry-After") != "")
	if limited {
		if d, ok := retryAfter(he.header, now); ok {
			return waitReason{d: d, why: fmt.Sprintf("rate limited (HTTP %d, Retry-After)", he.status)}, true
		}
		for _, name := range []string{"RateLimit-Reset", "X-RateLimit-Reset"} {
			if d, ok := resetIn(he.header, name, now); ok {
				return waitReason{d: d, why: fmt.Sprintf("rate limited (HTTP %d, %s)", he.status, name)}, true
			}
		}
		return waitReason{d: time.Minute, why: fmt.Sprintf("rate limited (HTTP %d, no reset time given)", he.status)}, true
	}
	if he.status >= 500 {
		return waitReason{why: fmt.Sprintf("server error (HTTP %d)", he.status), backoff: true}, true
	}
	return waitReason{}, false
}

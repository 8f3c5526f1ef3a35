// Package netx holds the network safety helpers shared by verification and
// sweep listings: one bounded retry loop that honours Retry-After, a redirect
// policy that never carries credentials to another origin, a URL check (https,
// or plain http to loopback only) and an egress guard that refuses to dial
// private, loopback, link-local and metadata addresses.
package netx

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry is a bounded retry loop: at most Retries retries after the first
// attempt, waits of Base doubling on each backoff (with ±50% jitter when Jitter
// is set), server-named waits (Retry-After, reset headers) honoured up to
// MaxWait. It stops by itself: it never loops more than Retries+1 times.
type Retry struct {
	Retries int           // retries after the first attempt (negative or 0: none)
	Base    time.Duration // first backoff wait (default 500ms)
	Jitter  bool          // spread backoff waits over 50%..150%
	MinWait time.Duration // server-named waits shorter than this are raised to it
	MaxWait time.Duration // longest wait (default 30s): a longer one stops the loop
	// Sleep waits d or until ctx ends (default: a timer). Tests may shorten it.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnWait is told about each wait before it starts (never a secret: why is
	// written by the caller).
	OnWait func(retry int, d time.Duration, why string)
}

// Verdict is what one attempt asks of the loop.
type Verdict struct {
	Retry bool          // the failure is transient: try again
	Named bool          // the server named the wait (Retry-After, a reset time): Wait, not a backoff
	Wait  time.Duration // the wait the server named
	Why   string        // for logs and errors, e.g. "rate limited (HTTP 429, Retry-After)"
}

// ExhaustedError: the attempt still asked for a retry after Retries retries.
type ExhaustedError struct {
	Retries int
	Why     string
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("giving up after %d retries (%s)", e.Retries, e.Why)
}

// WaitTooLongError: the server asked for a wait longer than MaxWait.
type WaitTooLongError struct {
	Wait, Max time.Duration
	Why       string
	Until     time.Time // when the wait would end
}

func (e *WaitTooLongError) Error() string {
	return fmt.Sprintf("%s for %s, longer than the longest wait (%s)", e.Why, e.Wait.Round(time.Second), e.Max)
}

// Do runs attempt until it returns a verdict without Retry (nil), the retries
// are used up (*ExhaustedError), the server asks for too long a wait
// (*WaitTooLongError) or ctx ends (ctx.Err()). attempt gets the retry number,
// 0 for the first attempt; the caller keeps the attempt's result itself.
func (r Retry) Do(ctx context.Context, attempt func(retry int) Verdict) error {
	base, maxWait := r.Base, r.MaxWait
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	sleep := r.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	backoff := base
	for try := 0; ; try++ {
		v := attempt(try)
		if !v.Retry {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if try >= max(r.Retries, 0) {
			return &ExhaustedError{Retries: max(r.Retries, 0), Why: v.Why}
		}
		var d time.Duration
		if v.Named {
			d = max(v.Wait, r.MinWait)
			if d > maxWait {
				return &WaitTooLongError{Wait: d, Max: maxWait, Why: v.Why, Until: time.Now().Add(d)}
			}
		} else {
			d = backoff
			if r.Jitter {
				d = time.Duration(float64(d) * (0.5 + rand.Float64()))
			}
			d = min(d, maxWait)
			backoff *= 2
		}
		if r.OnWait != nil {
			r.OnWait(try+1, d, v.Why)
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// Sleep waits d, or until ctx ends (then it returns ctx.Err()).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

const forever = 100 * 365 * 24 * time.Hour

// RetryAfter reads a Retry-After header value: delay seconds or an HTTP date.
// ok is false when the value is absent or unreadable.
func RetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		// A value past any sane wait (it would overflow a Duration) is a
		// century: longer than every MaxWait, so the loop stops.
		return time.Duration(min(n, int64(forever/time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

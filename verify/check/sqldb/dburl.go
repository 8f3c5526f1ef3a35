// Package sqldb checks database URLs (PostgreSQL, MySQL, Redis) by logging in
// with a pure-Go driver through the verifier's guarded dialer, running nothing
// that changes state.
package sqldb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
)

// URLGroup is the named group of a database rule's regex that holds the whole
// URL; the rule's secret is the password inside it.
const URLGroup = "url"

// target is what a database URL names.
type target struct {
	scheme   string // lower case
	user     string // percent-decoded
	password string // percent-decoded
	host     string // host name or IP, without brackets
	port     int
	db       string
	query    url.Values
}

// addr is host:port for dialling.
func (t *target) addr() string { return net.JoinHostPort(t.host, strconv.Itoa(t.port)) }

// identity is user@host[:port]/db for the access map.
func (t *target) identity(defaultPort int) string {
	h := t.host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if t.port != defaultPort {
		h += ":" + strconv.Itoa(t.port)
	}
	s := t.user + "@" + h
	if t.db != "" {
		s += "/" + t.db
	}
	return s
}

// parseTarget splits a database URL matched by a built-in rule. The password
// may hold characters a URL parser would take for delimiters (/ ? # :), so the
// URL is split by hand around the secret the rule captured: scheme://user:SECRET@hosts[/db][?query].
func parseTarget(c check.Credential, defaultPort int) (*target, error) {
	raw := c.Groups[URLGroup]
	if raw == "" {
		return nil, fmt.Errorf("rule %s gives no %q group with the whole URL; the check cannot tell where to log in", c.RuleID, URLGroup)
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, errors.New("the URL has no scheme")
	}
	user, rest, ok := strings.Cut(rest, ":")
	if !ok || !strings.HasPrefix(rest, c.Secret+"@") || c.Secret == "" {
		return nil, errors.New("the URL's password is not the finding's secret")
	}
	rest = rest[len(c.Secret)+1:]
	t := &target{scheme: strings.ToLower(scheme), user: unescape(user), password: unescape(c.Secret), port: defaultPort}
	hostport := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		hostport, rest = rest[:i], rest[i:]
	} else {
		rest = ""
	}
	if i := strings.IndexByte(hostport, ','); i >= 0 {
		hostport = hostport[:i] // several hosts (a replica set): the first is enough
	}
	if strings.HasPrefix(rest, "/") {
		db := rest[1:]
		if i := strings.IndexByte(db, '?'); i >= 0 {
			db, rest = db[:i], db[i:]
		} else {
			rest = ""
		}
		t.db = unescape(db)
	}
	if strings.HasPrefix(rest, "?") {
		q, err := url.ParseQuery(rest[1:])
		if err != nil {
			return nil, fmt.Errorf("the URL's query: %v", err)
		}
		t.query = q
	}
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		h, p = strings.Trim(hostport, "[]"), ""
	}
	if h == "" || strings.ContainsAny(h, "/@?#%") {
		return nil, fmt.Errorf("the URL's host %q is not a host name", hostport)
	}
	t.host = h
	if p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("the URL's port %q is not a port", p)
		}
		t.port = n
	}
	return t, nil
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// dialer wraps the verifier's guarded dialer: it remembers the first refusal
// or failure, so the result can say why nothing was checked.
type dialer struct {
	env *check.Env
	mu  sync.Mutex // drivers dial from their own goroutines
	err error
	// onFail, if set, runs after the first failed dial (to stop a driver
	// that would wait out its server-selection timeout).
	onFail func()
}

func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.env.Dial == nil {
		return nil, errors.New("no guarded dialer: the verifier gave the check no network")
	}
	if err := d.failed(); err != nil {
		return nil, err // one failed dial is the answer: drivers' retries do not dial again
	}
	c, err := d.env.Dial(ctx, network, addr)
	if err != nil {
		d.mu.Lock()
		first := d.err == nil
		if first {
			d.err = err
		}
		onFail := d.onFail
		d.mu.Unlock()
		if first && onFail != nil {
			onFail()
		}
	}
	return c, err
}

// failed is the first failed dial's error, or nil.
func (d *dialer) failed() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// failure is the unknown result of a login that did not get an answer: the
// guard's refusal (an internal host not named by the operator) said plainly.
func (d *dialer) failure(family string, t *target, err error) check.Result {
	if derr := d.failed(); derr != nil {
		msg := derr.Error()
		if strings.Contains(msg, "refused to connect") {
			return check.UnknownResult(fmt.Sprintf("not checked: %s (a database host is named with --endpoint %s=https://%s)", msg, family, t.addr()))
		}
		return check.UnknownResult("could not connect to " + t.addr() + ": " + msg)
	}
	return check.UnknownResult(scrub(err.Error(), t))
}

// scrub hides the password in s (drivers do not print it, but a server's
// message may echo what it was sent).
func scrub(s string, t *target) string {
	for _, p := range []string{t.password, url.QueryEscape(t.password), url.PathEscape(t.password)} {
		if p != "" {
			s = strings.ReplaceAll(s, p, finding.Redact(p))
		}
	}
	return s
}

// timeout bounds a whole login by the verify timeout.
func timeout(ctx context.Context, env *check.Env) (context.Context, context.CancelFunc) {
	d := env.Timeout
	if d <= 0 {
		d = 10 * time.Second
	}
	return context.WithTimeout(ctx, d)
}

func live(detail string, a *finding.Access) check.Result {
	return check.Result{Status: finding.StatusLive, Detail: detail, Access: a}
}

func invalid(detail string) check.Result {
	return check.Result{Status: finding.StatusInvalid, Detail: detail}
}

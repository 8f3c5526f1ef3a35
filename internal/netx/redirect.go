package netx

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// RedirectError is a redirect the policy refused; nothing was sent there.
type RedirectError struct{ To string }

func (e *RedirectError) Error() string { return "refused redirect to " + e.To }

// Origin is scheme://host:port of u, lower-case, with the default port filled in.
func Origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// SameOriginRedirects is an http.Client CheckRedirect policy: it follows at most
// limit redirects, and only to the scheme, host and port of the first request.
// Go's client drops Authorization on a redirect to another domain, but not on
// one to another port of the same host, and it forwards custom headers
// (PRIVATE-TOKEN, X-Api-Key) everywhere: so any other origin is refused before
// a request is sent there.
func SameOriginRedirects(limit int) func(req *http.Request, via []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if Origin(req.URL) != Origin(via[0].URL) {
			return &RedirectError{To: req.URL.Scheme + "://" + req.URL.Host}
		}
		if len(via) > limit {
			return fmt.Errorf("more than %d redirects", limit)
		}
		return nil
	}
}

// IsLoopbackHost reports whether host names the local machine: localhost or a
// loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// CheckURL accepts an https URL with a host and no credentials; plain http only
// to a loopback host (local test servers).
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	if u.User != nil {
		return fmt.Errorf("%q: credentials in a URL are not allowed (use the token environment variable)", u.Redacted())
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopbackHost(u.Hostname()) {
			return fmt.Errorf("%q: plain http is allowed only to a loopback host (127.0.0.1, ::1, localhost); use https", raw)
		}
	default:
		return fmt.Errorf("%q: scheme must be https", raw)
	}
	return nil
}

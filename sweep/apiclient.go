package sweep

import (
	"fmt"
	"net/http"
	"time"

	"github.com/tokenward/tokenward/internal/netx"
)

// CheckAPIURL validates an API base URL given with flag (--github-api,
// --gitlab-api): https, or plain http to a loopback host only, and no
// credentials in the URL (the token comes from the environment). "" is the
// public default and passes.
func CheckAPIURL(flag, u string) error {
	if u == "" {
		return nil
	}
	if err := netx.CheckURL(u); err != nil {
		return fmt.Errorf("%s: %v", flag, err)
	}
	return nil
}

// apiClient returns a copy of hc (default: a 60 s timeout) that follows at most
// 5 redirects, all within the origin of the first request, so the API token is
// never carried to another host or port; and that keeps no cookies.
func apiClient(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Timeout = 60 * time.Second
	}
	c.Jar = nil
	c.CheckRedirect = netx.SameOriginRedirects(5)
	return &c
}

package urlcred

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

func build(base, token, key, page string) {
	_ = base + "/items?token=" + token                           // want `url-credential-query-dynamic: credential token is put into a URL query string`
	_ = base + "/items?page=" + page + "&api_key=" + key         // want `credential api_key`
	_ = fmt.Sprintf("%s/items?access_token=%s", base, token)     // want `credential access_token`
	_ = base + "/items?page=" + (page + "&private_token=" + key) // want `credential private_token`

	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("api_key", key) // want `credential api_key`
	q.Set("page", page)
	u.RawQuery = q.Encode()

	v := url.Values{"token": {token}, "q": {"x"}} // want `credential token`
	_ = base + "?" + v.Encode()

	// A literal encoded in place is followed as a named one is.
	_ = "https://api.vendor.io/items?" + url.Values{"token": {token}}.Encode() // want `credential token`
	u.RawQuery = url.Values{"page": {page}, "access_token": {key}}.Encode()    // want `credential access_token`
	_ = base + "?" + url.Values{"page": {page}}.Encode()

	// Not a URL query: nothing to report.
	_ = base + "/items?page=" + page
	_ = base + "/items?token=" + "constant-in-docs"
	_ = fmt.Sprintf("%s/items?page=%d", base, 2)
	form := url.Values{"client_secret": {key}, "grant_type": {"client_credentials"}}
	_, _ = http.PostForm(base, form)
	body := url.Values{}
	body.Set("password", token)
	_ = strings.NewReader(body.Encode())
	sig := url.Values{}
	sig.Set("X-Amz-Signature", key)
	u.RawQuery = sig.Encode()
}

package hygiene

import (
	"bytes"
	"net/url"
	"path"
	"strings"

	"github.com/tokenward/tokenward/shape"
)

// Query parameter names (lower-case, without - _ .) that carry credentials.
var credParams = map[string]bool{
	"token": true, "accesstoken": true, "authtoken": true, "idtoken": true, "refreshtoken": true,
	"apikey": true, "apitoken": true, "privatetoken": true, "password": true, "passwd": true, "pwd": true,
	"secret": true, "clientsecret": true, "apisecret": true, "sessiontoken": true, "securitytoken": true,
	"oauthtoken": true, "jwt": true, "bearer": true, "xamzsignature": true, "xamzsecuritytoken": true,
	"xgoogsignature": true, "accesskey": true, "secretkey": true, "authkey": true, "privatekey": true,
	"apppassword": true, "personaltoken": true, "accesskeysecret": true, "webhooksecret": true,
}

// Generic parameter names: a credential only when the value looks like one.
// "key" alone names too many document and object ids; it counts only for
// Google-style API keys (AIza…).
var genericParams = map[string]bool{"key": true, "sig": true, "signature": true, "auth": true, "appkey": true}

// signatureParams mark pre-signed URLs.
var signatureParams = map[string]bool{"xamzsignature": true, "xgoogsignature": true, "sig": true, "signature": true}

// CredentialParam reports whether a URL query parameter name carries a
// credential by name alone (token, access_token, api_key, password, ...).
// Signature parameters of pre-signed URLs are not included: code that builds
// them at run time is doing the right thing.
func CredentialParam(name string) bool {
	n := normParam(name)
	return credParams[n] && !signatureParams[n]
}

// paramPunct is dropped from parameter names before lookup (a Replacer is safe
// for concurrent use; building one per call cost more than the lookup).
var paramPunct = strings.NewReplacer("_", "", "-", "", ".", "", "[", "", "]", "")

func normParam(s string) string {
	return paramPunct.Replace(strings.ToLower(s))
}

// docHost reports hosts reserved for documentation (RFC 2606 / 6761).
func docHost(h string) bool {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	for _, d := range []string{"example.com", "example.org", "example.net"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	for _, tld := range []string{".example", ".test", ".invalid"} {
		if strings.HasSuffix(h, tld) {
			return true
		}
	}
	for _, label := range strings.Split(h, ".") {
		switch label {
		case "example", "dummy", "fake", "faketld", "placeholder", "your-domain", "yourdomain", "mydomain":
			return true
		}
	}
	return h == "host" || h == "hostname" || h == "domain"
}

func localHost(h string) bool {
	h = strings.ToLower(h)
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "[::1]" || h == "0.0.0.0" || strings.HasSuffix(h, ".localhost")
}

// urlStop ends a URL in free text.
func urlStop(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '"', '\'', '`', '<', '>', '\\', '|', '^':
		return true
	}
	return false
}

// codeFile reports source files, where URL building shows a practice rather than
// documentation of someone else's API.
func codeFile(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".go", ".js", ".mjs", ".cjs", ".ts", ".jsx", ".tsx", ".py", ".rb", ".php", ".java", ".kt", ".kts",
		".scala", ".cs", ".swift", ".rs", ".sh", ".bash", ".zsh", ".ps1", ".pl", ".lua", ".dart", ".groovy",
		".vue", ".svelte", ".c", ".cc", ".cpp", ".h", ".hpp", ".m", ".ex", ".exs", ".r", ".jl", ".fs", ".clj":
		return true
	}
	return false
}

func (c *Checker) checkURLs(d *doc) {
	if c.cfg.On("url-userinfo-credential") {
		c.checkUserinfo(d)
	}
	if c.cfg.On("url-credential-query") || c.cfg.On("url-credential-query-dynamic") {
		c.checkQuery(d)
	}
}

// checkUserinfo finds scheme://user:password@host in any text.
func (c *Checker) checkUserinfo(d *doc) {
	data := d.data
	gitConfig := classify(d.path) == kindGitConfig
	for at := 0; ; {
		i := bytes.Index(data[at:], []byte("://"))
		if i < 0 {
			return
		}
		i += at
		at = i + 3
		// scheme
		s := i
		for s > 0 && (isAlnum(data[s-1]) || data[s-1] == '+' || data[s-1] == '.' || data[s-1] == '-') {
			s--
		}
		if i-s < 2 || !isAlpha(data[s]) {
			continue
		}
		scheme := strings.ToLower(string(data[s:i]))
		// authority
		a := i + 3
		e := a
		for e < len(data) && !urlStop(data[e]) && data[e] != '/' && data[e] != '?' && data[e] != '#' {
			e++
		}
		auth := data[a:e]
		atSign := bytes.LastIndexByte(auth, '@')
		if atSign <= 0 {
			continue
		}
		host := string(auth[atSign+1:])
		if host == "" || !(isAlnum(host[0]) || host[0] == '[') || docHost(host) {
			continue
		}
		userinfo := auth[:atSign]
		var secret string
		var so int
		if colon := bytes.IndexByte(userinfo, ':'); colon >= 0 {
			secret, so = string(userinfo[colon+1:]), a+colon+1
			if secret == "" || weakURLPassword(secret) || standIn(string(userinfo[:colon]), secret) {
				continue
			}
		} else {
			// A token as the user name: https://ghp_…@github.com
			secret, so = string(userinfo), a
			if !tokenish(secret) || Placeholder(secret) {
				continue
			}
		}
		sev := ""
		if localHost(host) {
			sev = "medium"
		}
		msg := "URL " + scheme + "://…@" + host + " carries a credential in its userinfo; URLs are logged, cached and shown " +
			"in process lists and error messages — pass the credential separately (environment variable, credential helper, " +
			"connection option) and rotate this one"
		if gitConfig {
			msg = "git remote URL …@" + host + " stores a credential in plain text in git config; remove it from the URL " +
				"(git remote set-url), use a credential helper, and rotate it"
		}
		d.add(issue{rule: "url-userinfo-credential", start: so, end: so + len(secret), secret: secret, msg: msg, severity: sev})
		at = e
	}
}

// weakURLPassword reports userinfo passwords that are documentation, not credentials.
// standIn reports a userinfo password that stands for one rather than is one:
// the user name repeated (admin:admin), fewer than four characters (a:a, dev:xyz),
// an environment variable's name (POSTGRES_USER:POSTGRES_PASSWORD), a value that
// spells a credential word (my_password, pwd1), words or a weak value (guest,
// 123123), judged as the engine judges a generic value.
func standIn(user, p string) bool {
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	l := strings.ToLower(p)
	for _, w := range []string{"passw", "pwd", "secret", "token"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return strings.EqualFold(user, p) || len(p) < 4 || envName(p) || shape.Dummy(p) || shape.Weak(p)
}

func weakURLPassword(p string) bool {
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	l := strings.ToLower(p)
	switch l {
	case "pass", "password", "passwd", "pwd", "secret", "user", "username", "token", "x", "xxx", "***", "changeme":
		return true
	}
	if strings.HasPrefix(l, "$") || strings.HasPrefix(l, "%") && !isHexPair(l[1:]) || strings.HasPrefix(l, "{") ||
		strings.HasPrefix(l, ":") || strings.HasPrefix(l, "<") || strings.HasPrefix(l, "[") {
		return true
	}
	return Placeholder(p)
}

func isHexPair(s string) bool {
	return len(s) >= 2 && isHex(s[0]) && isHex(s[1])
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// checkQuery finds credential parameters after ?, &, # or ; followed by NAME=.
func (c *Checker) checkQuery(d *doc) {
	data := d.data
	code := codeFile(d.path)
	for at := 0; ; {
		i := bytes.IndexByte(data[at:], '=')
		if i < 0 {
			return
		}
		i += at
		at = i + 1
		n := i
		for n > 0 && (isAlnum(data[n-1]) || data[n-1] == '_' || data[n-1] == '-' || data[n-1] == '.' || data[n-1] == '[' || data[n-1] == ']') {
			n--
		}
		if n == i || n == 0 {
			continue
		}
		delim := data[n-1]
		if delim != '?' && delim != '&' && delim != '#' && delim != ';' {
			continue
		}
		if delim == '#' && (n < 2 || data[n-2] == '\n' || data[n-2] == ' ') {
			continue // a comment or heading, not a fragment
		}
		name := string(data[n:i])
		np := normParam(name)
		specific, generic := credParams[np], genericParams[np]
		if !specific && !generic {
			continue
		}
		// Is this inside a URL? Look back on the line for scheme://host.
		lo, _ := d.lineAt(n)
		host, inURL := urlHostBefore(data[max(lo, n-2048):n])
		if inURL && docHost(host) {
			continue
		}
		if delim == ';' && !inURL && !(n >= 5 && bytes.HasSuffix(bytes.ToLower(data[n-5:n]), []byte("&amp;"))) {
			continue // `;name=` outside a URL is code, not a query
		}
		v := i + 1
		e := v
		for e < len(data) && !urlStop(data[e]) && data[e] != '&' && data[e] != '#' && data[e] != ')' && data[e] != ',' && data[e] != ';' {
			e++
		}
		val := string(data[v:e])
		if val == "" || dynamicStart(data[v:]) {
			if code && specific && (inURL || delim == '?' || delim == '&') && dynamicStart(data[v:]) {
				d.add(issue{rule: "url-credential-query-dynamic", start: n, end: i + 1,
					msg: "code puts a credential into the URL query parameter " + name + "; URLs end up in server, proxy and " +
						"browser logs and Referer headers — send it in the Authorization header instead " +
						"(e.g. Authorization: Bearer <token>)"})
			}
			continue
		}
		if strings.HasSuffix(val, "}") && strings.ContainsAny(val, "{") || Placeholder(val) {
			continue
		}
		if unq, err := url.QueryUnescape(val); err == nil && Placeholder(unq) {
			continue
		}
		if standIn("", val) || shape.Dummy(val) && !strings.ContainsAny(val, "0123456789") {
			continue // ?access_token=secret-access-token, &password=testMemberPass
		}
		if generic && !tokenish(val) || specific && (len(val) < 8 || shape.Entropy(val) < 2.5) {
			continue
		}
		if np == "key" && !strings.HasPrefix(val, "AIza") {
			continue
		}
		if inURL && badgeURL(data[max(lo, n-2048):n]) {
			continue // status badges embed read-only graph tokens by design
		}
		msg := "URL query parameter " + name + " carries a credential; URLs end up in server, proxy and browser logs and " +
			"Referer headers — send it in the Authorization header instead and rotate this one"
		if signatureParams[np] {
			msg = "URL carries a request signature (" + name + "): a committed pre-signed URL grants access to anyone " +
				"who reads it until it expires — do not commit pre-signed URLs; generate them at run time with a short expiry"
		}
		sev := ""
		if inURL && localHost(host) {
			sev = "medium"
		}
		d.add(issue{rule: "url-credential-query", start: v, end: e, secret: val, msg: msg, severity: sev})
	}
}

// urlHostBefore finds the nearest scheme://host that the text before a query
// parameter belongs to (no whitespace in between).
func urlHostBefore(b []byte) (string, bool) {
	k := bytes.LastIndex(b, []byte("://"))
	if k < 0 {
		return "", false
	}
	rest := b[k+3:]
	for _, c := range rest {
		if urlStop(c) {
			return "", false
		}
	}
	e := 0
	for e < len(rest) && rest[e] != '/' && rest[e] != '?' && rest[e] != '#' {
		e++
	}
	h := string(rest[:e])
	if at := strings.LastIndexByte(h, '@'); at >= 0 {
		h = h[at+1:]
	}
	return h, true
}

// badgeURL reports whether the URL path before a query is an image (a README
// status badge).
func badgeURL(before []byte) bool {
	k := bytes.LastIndex(before, []byte("://"))
	if k < 0 {
		return false
	}
	p := strings.ToLower(string(before[k:]))
	if q := strings.IndexByte(p, '?'); q >= 0 {
		p = p[:q]
	}
	for _, ext := range []string{".svg", ".png", ".gif", "/badge"} {
		if strings.HasSuffix(p, ext) {
			return true
		}
	}
	return false
}

// dynamicStart reports text that starts an interpolation or ends a literal to
// be concatenated: ${x}, {x}, %s, #{x}, {{x}}, " + x, ' . $x, `+x.
func dynamicStart(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch b[0] {
	case '$', '{':
		return true
	case '%':
		return len(b) > 1 && (b[1] == 's' || b[1] == 'v' || b[1] == 'd' || b[1] == '(')
	case '#':
		return len(b) > 1 && b[1] == '{'
	case '"', '\'', '`':
		j := 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		if j < len(b) && (b[j] == '+' || b[j] == '.' || b[j] == '&') {
			return true
		}
		return j+1 < len(b) && b[j] == '|' && b[j+1] == '|' // SQL-ish concatenation
	}
	return false
}

// tokenish reports strings that look like a generated credential.
func tokenish(s string) bool {
	if len(s) < 16 || strings.ContainsAny(s, " \t") {
		return false
	}
	var digit, upper, lower bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		}
	}
	return (digit || upper && lower) && shape.Entropy(s) >= 3.0
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }

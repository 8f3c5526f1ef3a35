package hygiene

import (
	"bytes"
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// knownSchemes are Authorization scheme words (lower case): the IANA registry
// and common vendor schemes.
var knownSchemes = map[string]bool{
	"bearer": true, "token": true, "basic": true, "digest": true, "negotiate": true, "ntlm": true, "hoba": true,
	"mutual": true, "oauth": true, "dpop": true, "aws4-hmac-sha256": true, "apikey": true, "api-key": true,
	"key": true, "sso-key": true, "ssws": true, "splunk": true, "bot": true, "jwt": true, "signature": true,
	"hawk": true, "googlelogin": true, "vapid": true, "privatetoken": true, "klaviyo-api-key": true,
	"geniekey": true, "zoho-oauthtoken": true, "discogs": true, "client-id": true, "sharedkey": true,
	"sharedkeylite": true, "sharedaccesssignature": true, "scram-sha-1": true, "scram-sha-256": true,
	"gsskeys": true, "pat": true, "token-auth": true, "mac": true, "ecdsa-p256-sha256": true,
}

// typoTargets are the schemes a misspelling is compared with.
var typoTargets = []string{"bearer", "token", "basic", "digest"}

// hvalue is an Authorization value as written in code or text: the literal text
// up to the first dynamic part (an interpolation or a concatenated expression).
type hvalue struct {
	segs  []seg  // literal pieces, in order, with their offsets
	dyn   bool   // a dynamic part follows the literal prefix
	dynID string // the last identifier of that dynamic part
	start int    // span of the whole value expression
	end   int
}

type seg struct {
	off  int
	text string
}

func (h *hvalue) text() string {
	var b strings.Builder
	for _, s := range h.segs {
		b.WriteString(s.text)
	}
	return b.String()
}

// off maps an index into text() to a byte offset in the document.
func (h *hvalue) off(k int) int {
	for _, s := range h.segs {
		if k <= len(s.text) {
			return s.off + k
		}
		k -= len(s.text)
	}
	if len(h.segs) == 0 {
		return h.start
	}
	last := h.segs[len(h.segs)-1]
	return last.off + len(last.text)
}

func (c *Checker) checkHeaders(d *doc) {
	data := d.data
	code := codeFile(d.path)
	concatLines := map[int]bool{}
	lowerA, upperA := seeker{data: data, pat: []byte("a")}, seeker{data: data, pat: []byte("A")}
	for i := 0; ; i++ {
		if i = first(lowerA.from(i), upperA.from(i)); i < 0 {
			break
		}
		if i > 0 && (isAlnum(data[i-1]) || data[i-1] == '_') {
			continue
		}
		j := i
		for j < len(data) && (isAlpha(data[j]) || data[j] == '-') {
			j++
		}
		if j-i < 11 || j-i > 16 || j < len(data) && (isAlnum(data[j]) || data[j] == '_') {
			i = j
			continue
		}
		var lower [16]byte // the name in lower case, without allocating: [A-Za-z-] | 0x20
		name := lower[:j-i]
		for k, ch := range data[i:j] {
			name[k] = ch | 0x20
		}
		nameStart := i
		if i >= 6 && strings.EqualFold(string(data[i-6:i]), "proxy-") {
			nameStart = i - 6
		}
		exact := string(name) == "authorization"
		typo := headerNameTypo(string(name))
		authn := string(name) == "authentication"
		i = j - 1
		if !exact && !typo && !authn {
			continue
		}
		v, inLit, ok := headerValueStart(data, nameStart, j)
		if !ok {
			continue
		}
		_, hi := d.lineAt(v)
		hv := parseValue(data, v, hi, inLit, code)
		if hv == nil {
			continue
		}
		word := firstWord(strings.TrimLeft(hv.text(), " \t"))
		hasScheme := knownSchemes[strings.ToLower(word)]
		if typo || authn {
			credLike := hasScheme || hv.dyn && len(hv.segs) == 0 && rawTokenIdent(hv.dynID)
			if authn {
				credLike = hasScheme && (strings.EqualFold(word, "bearer") || strings.EqualFold(word, "basic") || strings.EqualFold(word, "token"))
			}
			if !credLike {
				continue
			}
			shown := string(data[nameStart:j])
			d.add(issue{rule: "auth-header-name-typo", start: nameStart, end: j,
				msg: "header name " + quote(shown) + " is not \"Authorization\": servers ignore it, so the request goes " +
					"out unauthenticated and the credential lands in logs under an unknown header — spell it Authorization"})
		}
		if c.judgeValue(d, hv) {
			concatLines[lineOf(d, v)] = true
		}
	}
	if code && d.c.cfg.On("auth-header-concatenated") {
		c.checkBareConcat(d, concatLines)
	}
}

// seeker finds the successive occurrences of pat in data with bytes.Index
// (vectorised), remembering the next one across queries.
type seeker struct {
	data, pat []byte
	next      int  // the first occurrence at or after the last query (-1: none)
	searched  bool // next is valid
}

// from returns the offset of the first occurrence at or after at, or -1.
func (s *seeker) from(at int) int {
	if !s.searched || s.next >= 0 && s.next < at {
		s.searched = true
		s.next = -1
		if at <= len(s.data) {
			if i := bytes.Index(s.data[at:], s.pat); i >= 0 {
				s.next = at + i
			}
		}
	}
	return s.next
}

// first returns the smaller of two offsets, ignoring -1.
func first(a, b int) int {
	if a < 0 || b >= 0 && b < a {
		return b
	}
	return a
}

func lineOf(d *doc, off int) int {
	l, _ := d.pos(off)
	return l
}

// headerValueStart finds where the value after a header name begins:
//
//	"Authorization": v   'Authorization' => v   "Authorization", v   ["Authorization"] = v
//	Authorization: v     "Authorization: v"   (a name inside a literal; inLit is the quote)
func headerValueStart(data []byte, ns, ne int) (v int, inLit byte, ok bool) {
	var q byte
	if ns > 0 && (data[ns-1] == '"' || data[ns-1] == '\'' || data[ns-1] == '`') {
		q = data[ns-1]
	}
	k := ne
	if q != 0 && k < len(data) && data[k] == q {
		k++ // closed quoted name
		k = skipBlank(data, k)
		if k < len(data) && data[k] == ']' {
			k = skipBlank(data, k+1)
		}
		switch {
		case bytes.HasPrefix(data[k:], []byte("=>")):
			k += 2
		case k < len(data) && (data[k] == ':' || data[k] == ',' || data[k] == '='):
			if data[k] == '=' && k+1 < len(data) && data[k+1] == '=' {
				return 0, 0, false // comparison
			}
			k++
		default:
			return 0, 0, false
		}
		return skipBlank(data, k), 0, true
	}
	if k < len(data) && data[k] == ':' {
		k++
		if k < len(data) && data[k] == ':' {
			return 0, 0, false // Go/C++ scope, not a header
		}
		return skipBlank(data, k), q, true
	}
	if q == 0 {
		k = skipBlank(data, k)
		if k < len(data) && data[k] == '=' && (k+1 >= len(data) || data[k+1] != '=' && data[k+1] != '>') {
			return skipBlank(data, k+1), 0, true
		}
	}
	return 0, 0, false
}

func skipBlank(data []byte, k int) int {
	for k < len(data) && (data[k] == ' ' || data[k] == '\t') {
		k++
	}
	return k
}

// parseValue reads a header value at v up to the line end hi. inLit is the
// quote of the literal the value sits in (0 if none).
func parseValue(data []byte, v, hi int, inLit byte, code bool) *hvalue {
	h := &hvalue{start: v, end: v}
	if v >= hi {
		return nil
	}
	if inLit != 0 {
		end, stop := scanLiteral(data, v, hi, inLit, inLit == '`', h)
		h.end = end
		if !stop {
			h.concat(data, end, hi)
		}
		return h
	}
	c := data[v]
	prefixed := false
	if (c == 'f' || c == 'F' || c == '$' || c == '@' || c == 'r' || c == 'b' || c == 'u' || c == 'L') && v+1 < hi &&
		(data[v+1] == '"' || data[v+1] == '\'') {
		prefixed = c == 'f' || c == 'F' || c == '$'
		v++
		c = data[v]
	}
	switch {
	case c == '"' || c == '\'' || c == '`':
		end, stop := scanLiteral(data, v+1, hi, c, prefixed || c == '`', h)
		if end >= hi || data[end] != c {
			if !code {
				h.end = end
				return h // unterminated: text such as YAML "Authorization: 'Token" – judge what is there
			}
			return nil
		}
		h.end = end + 1
		if !stop {
			h.concat(data, end+1, hi)
		}
		return h
	case isAlpha(c) || c == '_' || c == '$' && code:
		rest := strings.TrimRight(string(data[v:hi]), " \t,;)}")
		if code && !strings.ContainsAny(rest, " \t") || code && c == '$' {
			h.dyn = true
			h.dynID = lastIdent(rest)
			h.end = v + len(rest)
			return h
		}
		// Text (HTTP, YAML, Markdown): the rest of the line, with $VAR/${x} as dynamic parts.
		end, _ := scanLiteral(data, v, hi, 0, false, h)
		h.end = end
		return h
	case c == '$':
		end, _ := scanLiteral(data, v, hi, 0, false, h)
		h.end = end
		return h
	}
	return nil
}

// scanLiteral appends literal text from i until the closing quote q (0: the
// line end), stopping at the first interpolation. It returns where it stopped
// and whether an interpolation stopped it.
func scanLiteral(data []byte, i, hi int, q byte, braces bool, h *hvalue) (int, bool) {
	start := i
	flush := func(e int) {
		if e > start {
			h.segs = append(h.segs, seg{start, string(data[start:e])})
		}
	}
	for i < hi {
		c := data[i]
		switch {
		case c == '\\' && q != 0 && q != '`':
			i += 2
			continue
		case q != 0 && c == q:
			flush(i)
			return i, false
		case c == '$' && i+1 < hi && (data[i+1] == '{' || data[i+1] == '(' || isAlpha(data[i+1]) || data[i+1] == '_'),
			c == '#' && i+1 < hi && data[i+1] == '{',
			c == '{' && i+1 < hi && (data[i+1] == '{' || braces || data[i+1] == '}' || data[i+1] >= '0' && data[i+1] <= '9' && i+2 < hi && data[i+2] == '}'),
			c == '%' && i+1 < hi && (data[i+1] == 's' || data[i+1] == 'v' || data[i+1] == '@' || data[i+1] == '('):
			flush(i)
			h.dyn = true
			h.dynID = lastIdent(interpolation(data[i:hi]))
			// the value's span ends with the literal it sits in
			for i < hi && (q == 0 || data[i] != q) {
				if data[i] == '\\' && q != 0 && q != '`' {
					i++
				}
				i++
			}
			return min(i, hi), true
		}
		i++
	}
	flush(min(i, hi))
	return min(i, hi), false
}

// interpolation returns the expression text of ${x}, {x}, #{x}, $X or %s.
func interpolation(b []byte) string {
	s := string(b)
	if e := strings.IndexAny(s, "}) \"'`"); e > 0 {
		return s[:e]
	}
	return s
}

// concat follows `+ "literal"`, `+ expr`, `. $x`, `.. x`, `& x`, `<> x`,
// `.concat(x)` after a literal.
func (h *hvalue) concat(data []byte, k, hi int) {
	for {
		k = skipBlank(data, k)
		op := 0
		switch {
		case bytes.HasPrefix(data[k:min(hi, k+8)], []byte(".concat(")):
			op = 8
		case bytes.HasPrefix(data[k:min(hi, k+2)], []byte("..")), bytes.HasPrefix(data[k:min(hi, k+2)], []byte("<>")),
			bytes.HasPrefix(data[k:min(hi, k+2)], []byte("||")):
			op = 2
		case k < hi && (data[k] == '+' || data[k] == '.' || data[k] == '&'):
			op = 1
		}
		if op == 0 {
			return
		}
		k = skipBlank(data, k+op)
		if k >= hi {
			h.dyn = true // the operand continues on the next line
			return
		}
		if q := data[k]; q == '"' || q == '\'' || q == '`' {
			end, stop := scanLiteral(data, k+1, hi, q, q == '`', h)
			if end >= hi || data[end] != q {
				return
			}
			h.end = end + 1
			if stop {
				return
			}
			k = end + 1
			continue
		}
		e := k
		for e < hi && !strings.ContainsRune(",;)}]\n", rune(data[e])) && !(data[e] == ' ' && e+1 < hi && data[e+1] == '+') {
			e++
		}
		for e > k && (data[e-1] == ' ' || data[e-1] == '\t') {
			e--
		}
		h.dyn = true
		h.dynID = lastIdent(string(data[k:e]))
		h.end = e
		return
	}
}

// lastIdent returns the last identifier in an expression: `os.environ["TOKEN"]`
// -> TOKEN, `this.apiKey` -> apiKey, `getToken()` -> getToken.
func lastIdent(s string) string {
	var last string
	for i := 0; i < len(s); {
		if isAlpha(s[i]) || s[i] == '_' {
			j := i
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
				j++
			}
			last = s[i:j]
			i = j
			continue
		}
		i++
	}
	return last
}

// rawTokenIdent reports identifiers that hold a bare credential rather than a
// formatted header value.
func rawTokenIdent(id string) bool {
	if id == "" || !CredentialKey(id) {
		return false
	}
	ws := KeyWords(id)
	switch ws[len(ws)-1] {
	case "authorization", "credential", "credentials":
		return false
	}
	for _, w := range ws {
		if w == "header" || w == "bearer" {
			return false
		}
	}
	return true
}

func firstWord(s string) string {
	i := 0
	for i < len(s) && (isAlnum(s[i]) || s[i] == '-' || s[i] == '_') {
		i++
	}
	return s[:i]
}

func quote(s string) string { return "\"" + s + "\"" }

// judgeValue runs the value checks; it reports whether it found a concatenation.
func (c *Checker) judgeValue(d *doc, h *hvalue) bool {
	s, e := h.start, max(h.end, h.start+1)
	concat := false
	for _, p := range JudgeAuthorization(h.text(), h.dyn, h.dynID) {
		start, end := s, e
		if p.SecretAt >= 0 && (p.Rule == "basic-auth-plain-base64" || p.Rule == "auth-header-missing-scheme") {
			start, end = h.off(p.SecretAt), h.off(p.SecretAt+len(p.Secret))
		}
		d.add(issue{rule: p.Rule, start: start, end: end, secret: p.Secret, msg: p.Message})
		if p.Rule == "auth-header-concatenated" {
			concat = true
		}
	}
	return concat
}

func credOrEmpty(s string) string {
	if len(s) >= 8 && !Placeholder(s) {
		return s
	}
	return ""
}

// schemeTypo returns the scheme w misspells, if any.
func schemeTypo(w string) string {
	if len(w) < 4 || len(w) > 8 {
		return ""
	}
	for _, t := range typoTargets {
		limit := 1
		if len(t) >= 6 {
			limit = 2
		}
		if d := editDistance(w, t); d > 0 && d <= limit {
			return t
		}
	}
	return ""
}

// glued returns the scheme a word starts with when a credential follows it
// without a space ("BearereyJ…", "Tokenab12…"); the scheme must be written in
// its usual capitalisation to avoid words such as "Tokenizer".
func glued(w string) string {
	for _, s := range []string{"Bearer", "Token", "Basic"} {
		if strings.HasPrefix(w, s) && len(w) >= len(s)+12 && tokenish(w[len(s):]) {
			return s
		}
	}
	return ""
}

// basicPair reports whether s is base64 of a printable user:password pair with
// a real-looking password.
func basicPair(s string) (bool, string) {
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil || !utf8.Valid(raw) {
		return false, ""
	}
	for _, r := range string(raw) {
		if r < 0x20 || r == 0x7f {
			return false, ""
		}
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || pass == "" || pass == user || Placeholder(pass) && len(pass) < 20 || Placeholder(strings.ToLower(pass)) {
		return false, ""
	}
	return true, user
}

// checkBareConcat finds "Bearer" joined to a value away from a header name:
// `"Bearer" + tok`, “ `Bearer${tok}` “, f"Bearer{tok}", "Bearer%s".
func (c *Checker) checkBareConcat(d *doc, skipLines map[int]bool) {
	data := d.data
	// "Bearer" and "bearer" are found by their first letter, much rarer in code
	// than the 'e' a search for "earer" keeps stopping at.
	upper, lower := seeker{data: data, pat: []byte("Bearer")}, seeker{data: data, pat: []byte("bearer")}
	for at := 0; ; {
		b := first(upper.from(at), lower.from(at))
		if b < 0 {
			return
		}
		i := b + 1 // "earer"
		at = i + 5
		if b == 0 {
			continue
		}
		q := data[b-1]
		if q != '"' && q != '\'' && q != '`' {
			continue
		}
		e := i + 5
		if e >= len(data) {
			return
		}
		if skipLines[lineOf(d, b)] {
			continue
		}
		prefixed := b >= 2 && (data[b-2] == 'f' || data[b-2] == 'F' || data[b-2] == '$')
		_, hi := d.lineAt(b)
		h := &hvalue{start: b - 1}
		end, stop := scanLiteral(data, b, hi, q, prefixed || q == '`', h)
		if !stop {
			if end >= hi || data[end] != q {
				continue
			}
			h.end = end + 1
			h.concat(data, end+1, hi)
		} else {
			h.end = end + 1
		}
		if h.text() == data2str(data[b:e]) && h.dyn {
			word := data2str(data[b:e])
			d.add(issue{rule: "auth-header-concatenated", start: h.start, end: min(h.end, hi),
				msg: "the scheme " + quote(word) + " is joined to the credential without a space (\"" + word + "\" + token " +
					"gives \"" + word + "abc…\"); the server cannot parse it — add one space: \"" + word + " \" + token"})
		}
	}
}

func data2str(b []byte) string { return string(b) }

// HeaderNameTypo reports whether a header name misspells Authorization: within
// two edits of it, and not Authorization itself.
func HeaderNameTypo(name string) bool {
	return headerNameTypo(strings.ToLower(strings.TrimSpace(name)))
}

// headerNameTypo is HeaderNameTypo for a trimmed, lower-case name.
func headerNameTypo(l string) bool {
	return l != "authorization" && len(l) >= 11 && editDistance(l, "authorization") <= 2
}

// editDistance is the Levenshtein distance with adjacent transpositions counted
// as one edit (optimal string alignment). It keeps the last three rows of the
// table, on the stack when b is short.
func editDistance(a, b string) int {
	n, m := len(a), len(b)
	var stack [3 * 32]int
	rows := stack[:]
	if 3*(m+1) > len(stack) {
		rows = make([]int, 3*(m+1))
	}
	prev2, prev, cur := rows[:m+1], rows[m+1:2*(m+1)], rows[2*(m+1):3*(m+1)]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= n; i++ {
		cur[0] = i
		for j := 1; j <= m; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[m]
}

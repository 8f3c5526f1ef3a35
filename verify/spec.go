package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/rules/tmpl"
	"github.com/tokenward/tokenward/verify/check"
)

// spec is a compiled [rule.verify] or [rule.revoke] table.
type spec struct {
	ruleID string
	family string
	base   string // effective base URL without trailing slash; "" when none is configured
	// baseTmpl, when set, makes the base URL from each credential (base is
	// then the template): see rules.HostTemplate.
	baseTmpl *rules.HostTemplate
	steps    []*step
	revoke   bool
	hash     string     // identifies the spec's content and base, for request deduplication
	chains   [][]string // the filter chains its templates apply, for redaction
	access   *accessSpec
	// goName and goCheck are set for a spec that names a Go verifier; base is
	// then the operator's endpoint override or "".
	goName  string
	goCheck check.Check
}

// accessSpec is a compiled [rule.verify.access] table.
type accessSpec struct {
	identity, account, scopes, resources *tmpl.Template
	resourceKind                         string
	properties                           map[string]*tmpl.Template
}

type step struct {
	n         int // 1-based
	name      string
	method    string
	url       *tmpl.Template
	usesBase  bool
	origin    string // scheme://host[:port] of a literal URL
	headers   []header
	body      *tmpl.Template
	basicUser *tmpl.Template
	basicPass *tmpl.Template
	allowHTML bool
	extract   []extract
	match     []matcher
}

type header struct {
	name string
	val  *tmpl.Template
}

type extract struct {
	name      string
	json      []string
	header    string
	re        *regexp.Regexp
	sensitive bool
	count     bool // the length of the array or object at json
}

type matcher struct {
	status  map[int]bool
	json    []jsonCond
	body    *regexp.Regexp
	headers []headerCond
	result  string
	detail  *tmpl.Template
}

type jsonCond struct {
	path   []string
	equals []string
	absent bool
}

type headerCond struct {
	name string
	re   *regexp.Regexp
}

// compileSpec compiles a validated spec. endpoints maps lower-case rule ids and
// families to base URL overrides.
func compileSpec(r *rules.Rule, hs *rules.HTTPSpec, revoke bool, endpoints map[string]string) (*spec, error) {
	sp := &spec{ruleID: r.ID, family: hs.Family, revoke: revoke, base: hs.BaseURL}
	if e, ok := endpoints[strings.ToLower(r.ID)]; ok {
		sp.base = e
	} else if e, ok := endpoints[strings.ToLower(hs.Family)]; ok && hs.Family != "" {
		sp.base = e
	}
	sp.base = strings.TrimRight(sp.base, "/")
	var err error
	if strings.Contains(sp.base, "{{") { // no override: the host comes from the credential
		if sp.baseTmpl, err = rules.ParseHostTemplate(sp.base); err != nil {
			return nil, err
		}
	}
	for i, hst := range hs.Steps {
		st := &step{n: i + 1, name: hst.Name, method: rules.NormalizeMethod(hst.Method), allowHTML: hst.AllowHTML}
		if st.url, err = tmpl.Parse(hst.URL); err != nil {
			return nil, err
		}
		st.usesBase = strings.HasPrefix(hst.URL, "{{base}}")
		if !st.usesBase {
			st.origin = literalOrigin(hst.URL)
		}
		names := make([]string, 0, len(hst.Headers))
		for k := range hst.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			t, err := tmpl.Parse(hst.Headers[k])
			if err != nil {
				return nil, err
			}
			st.headers = append(st.headers, header{name: http.CanonicalHeaderKey(k), val: t})
		}
		if st.body, err = tmpl.Parse(hst.Body); err != nil {
			return nil, err
		}
		if hst.BasicAuth != nil {
			if st.basicUser, err = tmpl.Parse(hst.BasicAuth.User); err != nil {
				return nil, err
			}
			if st.basicPass, err = tmpl.Parse(hst.BasicAuth.Password); err != nil {
				return nil, err
			}
		}
		for _, e := range hst.Extract {
			x := extract{name: e.Name, header: e.Header, sensitive: e.Sensitive, count: e.Count}
			if e.JSON != "" {
				x.json = splitPath(e.JSON)
			}
			if e.Regex != "" {
				x.re = regexp.MustCompile(e.Regex) // validated
			}
			st.extract = append(st.extract, x)
		}
		for _, m := range hst.Match {
			cm := matcher{result: m.Result}
			if len(m.Status) > 0 {
				cm.status = map[int]bool{}
				for _, c := range m.Status {
					cm.status[c] = true
				}
			}
			for _, c := range m.JSON {
				cm.json = append(cm.json, jsonCond{path: splitPath(c.Path), equals: c.Equals, absent: c.Absent})
			}
			if m.Body != "" {
				cm.body = regexp.MustCompile(m.Body)
			}
			hn := make([]string, 0, len(m.Headers))
			for k := range m.Headers {
				hn = append(hn, k)
			}
			sort.Strings(hn)
			for _, k := range hn {
				cm.headers = append(cm.headers, headerCond{name: k, re: regexp.MustCompile(m.Headers[k])})
			}
			if cm.detail, err = tmpl.Parse(m.Detail); err != nil {
				return nil, err
			}
			st.match = append(st.match, cm)
		}
		sp.steps = append(sp.steps, st)
	}
	sp.chains = specChains(sp)
	if a := hs.Access; a != nil {
		sp.access = &accessSpec{resourceKind: a.ResourceKind, properties: map[string]*tmpl.Template{}}
		for _, f := range []struct {
			dst **tmpl.Template
			src string
		}{{&sp.access.identity, a.Identity}, {&sp.access.account, a.Account}, {&sp.access.scopes, a.Scopes}, {&sp.access.resources, a.Resources}} {
			if *f.dst, err = tmpl.Parse(f.src); err != nil {
				return nil, fmt.Errorf("access: %v", err)
			}
		}
		for k, src := range a.Properties {
			t, err := tmpl.Parse(src)
			if err != nil {
				return nil, fmt.Errorf("access: property %s: %v", k, err)
			}
			sp.access.properties[k] = t
		}
	}
	h := sha256.New()
	b, _ := json.Marshal(hs)
	h.Write(b)
	fmt.Fprintf(h, "\x00%s\x00%v", sp.base, revoke)
	sp.hash = hex.EncodeToString(h.Sum(nil))
	return sp, nil
}

// specChains collects the distinct filter chains of every template in sp.
func specChains(sp *spec) [][]string {
	seen := map[string]bool{}
	var out [][]string
	add := func(t *tmpl.Template) {
		if t == nil {
			return
		}
		for _, ch := range t.Chains() {
			if k := strings.Join(ch, "|"); len(ch) > 0 && !seen[k] {
				seen[k] = true
				out = append(out, ch)
			}
		}
	}
	for _, st := range sp.steps {
		add(st.url)
		add(st.body)
		add(st.basicUser)
		add(st.basicPass)
		for _, h := range st.headers {
			add(h.val)
		}
	}
	return out
}

func literalOrigin(u string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	return scheme + "://" + rest
}

func splitPath(p string) []string {
	p = strings.TrimPrefix(strings.TrimPrefix(p, "$"), ".")
	return strings.Split(p, ".")
}

// needsBase reports whether a step needs a base URL that is not configured.
func (sp *spec) missingBase() bool {
	if sp.base != "" || sp.goCheck != nil {
		return false
	}
	for _, st := range sp.steps {
		if st.usesBase {
			return true
		}
	}
	return false
}

// host is the host the spec's first request goes to, for the audit log.
func (sp *spec) host() string {
	if sp.goCheck != nil {
		return sp.goCheck.Host(sp.base)
	}
	if len(sp.steps) == 0 {
		return ""
	}
	o := sp.base
	if sp.baseTmpl != nil {
		o = "https://" + sp.baseTmpl.Pattern()
	}
	if !sp.steps[0].usesBase {
		o = sp.steps[0].origin
	}
	if u, err := url.Parse(o); err == nil {
		return u.Host
	}
	return ""
}

// env holds the values templates may use during one run of a spec.
type env struct {
	secret    string
	groups    map[string]string
	parts     []finding.Part // a composite credential's companions
	vars      map[string]string
	sensitive map[string]bool // sensitive var names
	base      string
	baseErr   error // a templated base URL that could not be made
	status    int
	display   bool       // redact secret, match groups and sensitive vars
	detail    bool       // with display: a variable not extracted renders empty
	chains    [][]string // filter chains the spec's templates apply
	rendered  []string   // credentials built while rendering (basic auth)
	forms     []string   // cache of secrets(); nil when stale
}

func newEnv(f *finding.Finding, sp *spec) *env {
	e := &env{secret: f.Secret, groups: f.Groups, parts: f.Parts, vars: map[string]string{}, sensitive: map[string]bool{}, base: sp.base, chains: sp.chains}
	if sp.baseTmpl != nil {
		e.base = ""
		if v, ok := e.lookup(sp.baseTmpl.Ref); ok {
			e.base, e.baseErr = sp.baseTmpl.Render(v)
		} else {
			e.baseErr = fmt.Errorf("{{%s}} is not in the finding, so there is no host to send it to", sp.baseTmpl.Ref)
		}
	}
	return e
}

func (e *env) displayEnv() *env {
	d := *e
	d.display = true
	return &d
}

func (e *env) lookup(ref string) (string, bool) {
	switch ref {
	case "secret":
		if e.display {
			return finding.Redact(e.secret), true
		}
		return e.secret, true
	case "base":
		return e.base, e.base != ""
	case "status":
		return strconv.Itoa(e.status), e.status != 0
	}
	ns, name, _ := strings.Cut(ref, ".")
	switch ns {
	case "match":
		v, ok := e.groups[name]
		if ok && e.display {
			v = finding.Redact(v)
		}
		return v, ok
	case "part":
		for _, p := range e.parts {
			if p.RuleID == name {
				if e.display {
					return finding.Redact(p.Secret), true
				}
				return p.Secret, true
			}
		}
		return "", false
	case "var":
		v, ok := e.vars[name]
		if !ok && e.display {
			if e.detail {
				return "", true
			}
			return "<" + ref + ">", true
		}
		if ok && e.display && e.sensitive[name] {
			v = finding.Redact(v)
		}
		return v, ok
	}
	return "", false
}

// secrets lists the values that must never be shown, in every form templates
// or a provider may have put them in (see secretForms), longest first. The list
// is computed once, and again after a sensitive value is added (which resets
// e.forms).
func (e *env) secrets() []string {
	if e.forms != nil {
		return e.forms
	}
	var raw []string
	if e.secret != "" {
		raw = append(raw, e.secret)
	}
	for _, v := range e.groups {
		if len(v) >= 6 {
			raw = append(raw, v)
		}
	}
	for _, p := range e.parts {
		if p.Secret != "" {
			raw = append(raw, p.Secret)
		}
	}
	for k, v := range e.vars {
		if e.sensitive[k] && len(v) >= 6 {
			raw = append(raw, v)
		}
	}
	seen := map[string]bool{}
	var out []string
	add := func(f string) {
		if f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, s := range raw {
		for _, f := range secretForms(s, e.chains) {
			add(f)
		}
	}
	for _, s := range e.rendered {
		add(s)
	}
	// Longest first, so a value is replaced before any value it contains.
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	e.forms = out
	return out
}

// encodings are the ways a value may travel: as is, escaped for a URL or JSON,
// base64 (padded or not, standard or URL alphabet), hex.
var encodings = []func(string) string{
	func(s string) string { return s },
	url.QueryEscape, url.PathEscape, tmpl.Filters["json"],
	func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	func(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) },
	func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) },
	func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) },
	func(s string) string { return hex.EncodeToString([]byte(s)) },
}

// secretForms is s in every form it may be shown in: s, upper- and lower-cased,
// each in every encoding, each of those upper- and lower-cased and escaped for
// a URL again (a base64 value in a path or query); plus s put through every
// filter chain the spec's templates use (chains), escaped the same ways.
func secretForms(s string, chains [][]string) []string {
	var out []string
	cased := func(x string) {
		out = append(out, x, strings.ToUpper(x), strings.ToLower(x), url.QueryEscape(x), url.PathEscape(x))
	}
	for _, b := range []string{s, strings.ToUpper(s), strings.ToLower(s)} {
		for _, enc := range encodings {
			cased(enc(b))
		}
	}
	for _, ch := range chains {
		x := s
		for _, f := range ch {
			if fn := tmpl.Filters[f]; fn != nil {
				x = fn(x)
			}
		}
		cased(x)
	}
	return out
}

// sanitize removes every secret value, in every form, from s.
func (e *env) sanitize(s string) string {
	for _, v := range e.secrets() {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, finding.Redact(v))
		}
	}
	return s
}

// request is a rendered HTTP request.
type request struct {
	method string
	url    string
	header http.Header
	body   string
}

// render builds the step's request from env. The result is checked: https (or
// loopback http) and exactly the host the spec names.
func (st *step) render(e *env) (*request, error) {
	var u string
	var err error
	if e.display {
		u, err = st.url.Render(e.lookup)
	} else {
		u, err = st.url.RenderURL(e.lookup)
	}
	if err != nil {
		return nil, fmt.Errorf("url: %v", err)
	}
	want := st.origin
	if st.usesBase {
		want = e.base
	}
	if !e.display {
		if err := checkTarget(u, want); err != nil {
			return nil, err
		}
	}
	req := &request{method: st.method, url: u, header: http.Header{}}
	for _, h := range st.headers {
		v, err := h.val.Render(e.lookup)
		if err != nil {
			return nil, fmt.Errorf("header %s: %v", h.name, err)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("header %s: value contains a line break or NUL; not sent", h.name)
		}
		req.header.Set(h.name, v)
	}
	if st.basicUser != nil {
		user, err := st.basicUser.Render(e.lookup)
		if err != nil {
			return nil, fmt.Errorf("basic_auth.user: %v", err)
		}
		pass, err := st.basicPass.Render(e.lookup)
		if err != nil {
			return nil, fmt.Errorf("basic_auth.password: %v", err)
		}
		cred := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		req.header.Set("Authorization", "Basic "+cred)
		if !e.display {
			e.rendered, e.forms = append(e.rendered, cred), nil
		} else {
			req.header.Set("Authorization", "Basic base64("+user+":"+pass+")")
		}
	}
	if req.body, err = st.body.Render(e.lookup); err != nil {
		return nil, fmt.Errorf("body: %v", err)
	}
	if req.body != "" && req.header.Get("Content-Type") == "" {
		if b := strings.TrimSpace(req.body); strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") {
			req.header.Set("Content-Type", "application/json")
		} else {
			req.header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	return req, nil
}

// checkTarget verifies that a rendered URL goes to the origin want.
func checkTarget(raw, want string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("rendered url does not parse")
	}
	w, err := url.Parse(want)
	if err != nil || w.Host == "" {
		return fmt.Errorf("no endpoint configured")
	}
	if u.Scheme != w.Scheme || u.Host != w.Host || u.User != nil {
		return fmt.Errorf("rendered url leaves %s; not sent", w.Host)
	}
	if err := rules.CheckBaseURL(u.Scheme + "://" + u.Host); err != nil {
		return err
	}
	return nil
}

// String renders a request for display: method, URL, headers, body.
func (r *request) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.method, r.url)
	keys := make([]string, 0, len(r.header))
	for k := range r.header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %s: %s", k, r.header.Get(k))
	}
	if r.body != "" {
		fmt.Fprintf(&b, "\n  body: %s", r.body)
	}
	return b.String()
}

// response is what a step saw.
type response struct {
	status    int
	header    http.Header
	body      []byte
	truncated bool
	// retryAfter is set when the provider asked for a longer pause than allowed.
	retryAfter time.Duration
	parsed     bool
	doc        any
	docOK      bool
}

func (r *response) isHTML() bool {
	if mt, _, err := mime.ParseMediaType(r.header.Get("Content-Type")); err == nil {
		if mt == "text/html" || mt == "application/xhtml+xml" {
			return true
		}
	}
	head := bytes.ToLower(bytes.TrimSpace(r.body[:min(len(r.body), 512)]))
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html"))
}

func (r *response) json() (any, bool) {
	if !r.parsed {
		r.parsed = true
		d := json.NewDecoder(bytes.NewReader(r.body))
		d.UseNumber()
		if err := d.Decode(&r.doc); err == nil {
			r.docOK = true
		}
	}
	return r.doc, r.docOK
}

// lookupJSON follows path into doc. present is false when any segment is missing.
func lookupJSON(doc any, path []string) (v any, present bool) {
	v = doc
	for _, seg := range path {
		switch x := v.(type) {
		case map[string]any:
			v, present = x[seg]
			if !present {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func jsonString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func (st *step) extractInto(r *response, e *env) {
	for _, x := range st.extract {
		var v string
		ok := false
		switch {
		case x.json != nil:
			if doc, isJSON := r.json(); isJSON {
				var val any
				if val, ok = lookupJSON(doc, x.json); ok && val != nil {
					v = jsonString(val)
					if x.count {
						switch c := val.(type) {
						case []any:
							v = strconv.Itoa(len(c))
						case map[string]any:
							v = strconv.Itoa(len(c))
						default:
							ok = false
						}
					}
				} else {
					ok = false
				}
			}
		case x.header != "":
			vals := r.header.Values(x.header)
			v, ok = strings.Join(vals, ", "), len(vals) > 0
		case x.re != nil:
			if m := x.re.FindSubmatch(r.body); m != nil {
				ok = true
				v = string(m[0])
				if len(m) > 1 {
					v = string(m[1])
				}
			}
		}
		if ok {
			e.vars[x.name] = v
			e.sensitive[x.name] = x.sensitive
			if x.sensitive {
				e.forms = nil
			}
		}
	}
}

func (m *matcher) holds(r *response) bool {
	if m.status != nil && !m.status[r.status] {
		return false
	}
	if len(m.json) > 0 {
		doc, ok := r.json()
		if !ok {
			return false
		}
		for _, c := range m.json {
			v, present := lookupJSON(doc, c.path)
			switch {
			case c.absent:
				if present && v != nil {
					return false
				}
			case len(c.equals) > 0:
				if !present {
					return false
				}
				s, hit := jsonString(v), false
				for _, want := range c.equals {
					hit = hit || s == want
				}
				if !hit {
					return false
				}
			default:
				if !present || v == nil {
					return false
				}
			}
		}
	}
	if m.body != nil && !m.body.Match(r.body) {
		return false
	}
	for _, h := range m.headers {
		vals := r.header.Values(h.name)
		if len(vals) == 0 || !h.re.MatchString(strings.Join(vals, ", ")) {
			return false
		}
	}
	return true
}

// render builds the access map of a live result from what the steps
// extracted; match groups are shown redacted, and every secret form is
// scrubbed.
func (a *accessSpec) render(e *env) *finding.Access {
	de := e.displayEnv()
	de.detail = true
	r := func(t *tmpl.Template) string {
		if t == nil {
			return ""
		}
		s, err := t.Render(de.lookup)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(s)
	}
	out := &finding.Access{Identity: r(a.identity), Account: r(a.account)}
	out.Scopes = splitScopes(r(a.scopes))
	if n, err := strconv.Atoi(r(a.resources)); err == nil && n >= 0 {
		out.Resources = &n
		out.ResourceKind = a.resourceKind
	}
	for k, t := range a.properties {
		if v := r(t); v != "" {
			if out.Properties == nil {
				out.Properties = map[string]string{}
			}
			out.Properties[k] = v
		}
	}
	return sanitizeAccess(out, e)
}

// splitScopes reads a scope list: a JSON array of strings, or names separated
// by commas or white space.
func splitScopes(s string) []string {
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "[") {
		var list []any
		if json.Unmarshal([]byte(s), &list) == nil {
			var out []string
			for _, v := range list {
				if x := strings.TrimSpace(jsonString(v)); x != "" {
					out = append(out, x)
				}
			}
			return out
		}
	}
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

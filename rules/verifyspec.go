package rules

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/tokenward/tokenward/rules/tmpl"
)

// HTTPSpec is the TOML schema shared by [rule.verify] and [rule.revoke]: one or
// more HTTP steps run in order. Example:
//
//	[rule.verify]
//	family   = "github"                  # --endpoint github=URL overrides base_url
//	base_url = "https://api.github.com"  # literal; steps use it as "{{base}}"
//	[[rule.verify.step]]
//	method  = "GET"
//	url     = "{{base}}/user"
//	headers = { Authorization = "Bearer {{secret}}" }
//	[[rule.verify.step.extract]]
//	name   = "login"
//	json   = "login"
//	[[rule.verify.step.match]]
//	status = [200]
//	result = "live"
//	detail = "user {{var.login}}"
//	[[rule.verify.step.match]]
//	status = [401]
//	result = "invalid"
//
// Templates (url, headers, body, basic_auth, detail) substitute {{secret}},
// {{part.RULE-ID}} (a composite credential's companion secret, from the rule's
// [[rule.require]]; never in details or access maps),
// {{match.NAME}} (named capture groups of the rule's regex) and {{var.NAME}}
// (values extracted from earlier steps), with optional filters ({{secret|base64}};
// see package rules/tmpl). A step URL is either "{{base}}..." or an absolute URL
// whose scheme and host are literal: secret or match data can never choose the host.
// Values substituted into a URL are escaped, so they cannot change its structure.
//
// Verification: each step's matchers are tried in order and the first that holds
// classifies the response as live, invalid or unknown; when none holds the result
// is unknown. A non-final step that yields live lets the next step run; any other
// result ends the check. Whatever the matchers say, a 429, a 5xx, a timeout, an
// HTML page (block page, captcha) or an over-long body is unknown.
//
// Revocation: the matchers of revoke steps yield accepted, rejected or unknown; a
// step without matchers counts any 2xx as accepted and anything else as rejected.
// A revocation is only ever reported as done after the verify spec confirms the
// secret is dead.
type HTTPSpec struct {
	// Family names the endpoint override shared by a provider's rules
	// (--endpoint FAMILY=URL); the rule id is always accepted as well.
	Family string `toml:"family"`
	// BaseURL is the literal base of "{{base}}" step URLs: https://host[:port][/path].
	// Empty means the endpoint must be configured (--endpoint RULE_OR_FAMILY=URL).
	// The one templated form derives the first host label from a part or group
	// through the dnslabel filter (see HostTemplate).
	BaseURL string     `toml:"base_url"`
	Steps   []HTTPStep `toml:"step"`
	// Verifier names a check written in Go (verifier = "aws-sts") instead of
	// steps: for requests a template cannot express (request signing, token
	// exchange, database logins). Its family is the check's unless Family is set.
	Verifier string `toml:"verifier"`
	// Access maps what the steps extracted to what the credential reaches,
	// reported with a live result ([rule.verify.access]).
	Access *AccessSpec `toml:"access"`
}

// AccessSpec renders a live credential's access map from the variables its
// verify steps extracted. Every field is a template over var.NAME and
// match.NAME (shown redacted); a field that renders empty is left out.
//
//	[rule.verify.access]
//	identity      = "{{var.login}}"
//	scopes        = "{{var.scopes}}"   # a JSON array, or a comma/space separated list
//	resources     = "{{var.repos}}"    # an integer (see extract count = true)
//	resource_kind = "private repositories"
type AccessSpec struct {
	Identity     string            `toml:"identity"`
	Account      string            `toml:"account"`
	Scopes       string            `toml:"scopes"`
	Resources    string            `toml:"resources"`
	ResourceKind string            `toml:"resource_kind"` // literal
	Properties   map[string]string `toml:"properties"`
}

// VerifySpec describes how to check whether a secret is live ([rule.verify]).
type VerifySpec HTTPSpec

// RevokeSpec describes how to revoke a secret ([rule.revoke]).
type RevokeSpec HTTPSpec

// HTTPStep is one templated request, the values to extract from its response and
// the matchers that classify it.
type HTTPStep struct {
	Name    string            `toml:"name"`
	Method  string            `toml:"method"` // GET (default), HEAD, POST, PUT, PATCH, DELETE
	URL     string            `toml:"url"`
	Headers map[string]string `toml:"headers"`
	Body    string            `toml:"body"`
	// BasicAuth sends "Authorization: Basic base64(user:password)".
	BasicAuth *BasicAuth `toml:"basic_auth"`
	// AllowHTML accepts text/html responses; by default an HTML page is a block
	// page or captcha and classifies as unknown.
	AllowHTML bool              `toml:"allow_html"`
	Extract   []Extract         `toml:"extract"`
	Match     []ResponseMatcher `toml:"match"`
}

// BasicAuth holds templates for HTTP basic authentication.
type BasicAuth struct {
	User     string `toml:"user"`
	Password string `toml:"password"`
}

// Extract names a value taken from a response, for later steps' templates
// ({{var.NAME}}) and for match details. Exactly one of JSON, Header or Regex is set.
type Extract struct {
	Name   string `toml:"name"`
	JSON   string `toml:"json"`   // dot path into the JSON body: "user.login", "items.0.id"
	Header string `toml:"header"` // response header name
	Regex  string `toml:"regex"`  // over the body: first capture group, else the whole match
	// Count, with JSON, extracts the number of elements of the array (or keys of
	// the object) at the path instead of its value: "repositories" -> "42".
	Count bool `toml:"count"`
	// Sensitive values (a session token obtained in step 1...) are redacted
	// wherever a request is shown or logged, and may not appear in a detail.
	Sensitive bool `toml:"sensitive"`
}

// ResponseMatcher maps a response to a result. Every condition given must hold; a
// matcher with no condition always holds (a catch-all).
type ResponseMatcher struct {
	Status  []int             `toml:"status"`  // any of these codes
	JSON    []JSONCond        `toml:"json"`    // all of these conditions on the JSON body
	Body    string            `toml:"body"`    // regex the body must match
	Headers map[string]string `toml:"headers"` // header name -> regex its value must match
	// Result: live | invalid | unknown (verify); accepted | rejected | unknown (revoke).
	Result string `toml:"result"`
	// Detail is recorded with the result (scopes, account, why): a template over
	// match.NAME, var.NAME and status; never the secret.
	Detail string `toml:"detail"`
}

// JSONCond tests one value of the JSON body. With Equals, the value (strings as
// themselves, other values as JSON text: true, 42, null) must be one of them;
// without, it must be present and not null. Absent inverts presence.
type JSONCond struct {
	Path   string   `toml:"path"`
	Equals []string `toml:"equals"`
	Absent bool     `toml:"absent"`
}

// Verification and revocation matcher results.
const (
	ResultLive     = "live"
	ResultInvalid  = "invalid"
	ResultUnknown  = "unknown"
	ResultAccepted = "accepted"
	ResultRejected = "rejected"
)

// HTTPMethods are the methods a step may use.
var HTTPMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

// NormalizeMethod returns the upper-case method ("" means GET), or "" when it is
// not one of HTTPMethods.
func NormalizeMethod(m string) string {
	if m == "" {
		return "GET"
	}
	m = strings.ToUpper(m)
	for _, k := range HTTPMethods {
		if k == m {
			return m
		}
	}
	return ""
}

// MaxSteps bounds the number of steps in one spec.
const MaxSteps = 8

// ValidateHTTPSpecs checks a rule's [rule.verify] and [rule.revoke] tables: URLs
// whose scheme and host are literal (https, or http to a loopback host), known
// methods and filters, references to capture groups the rule's regex defines and
// to variables earlier steps extract, well-formed matchers and extractions. The
// rules loader calls it for every rule; errors name the step and field.
func ValidateHTTPSpecs(r *Rule) error {
	if r.Verify == nil && r.Revoke == nil {
		return nil // most rules: no need to compile the regex for its group names
	}
	groups := map[string]bool{}
	if re := r.Regexp(); re != nil {
		for _, n := range re.SubexpNames() {
			groups[n] = n != ""
		}
	} else if re, err := regexp.Compile(r.Regex); err == nil {
		for _, n := range re.SubexpNames() {
			groups[n] = n != ""
		}
	}
	for _, q := range r.Require {
		groups[partKey+q.ID] = true // {{part.ID}}: see specCheckRef
	}
	if r.Verify != nil {
		if err := specValidate((*HTTPSpec)(r.Verify), false, groups); err != nil {
			return fmt.Errorf("[rule.verify] %v", err)
		}
	}
	if r.Revoke != nil {
		if r.Verify == nil {
			return fmt.Errorf("[rule.revoke] needs a [rule.verify] table: a revocation is confirmed by verifying afterwards")
		}
		if err := specValidate((*HTTPSpec)(r.Revoke), true, groups); err != nil {
			return fmt.Errorf("[rule.revoke] %v", err)
		}
	}
	return nil
}

// partKey prefixes a companion's rule id among the group names handed to the
// validators: no capture group name can start with a NUL byte.
const partKey = "\x00part."

func specValidate(s *HTTPSpec, revoke bool, groups map[string]bool) error {
	if s.Family != "" && !tmpl.IsName(s.Family) {
		return fmt.Errorf("family %q: use letters, digits, _ and -", s.Family)
	}
	if strings.Contains(s.BaseURL, "{{") {
		h, err := ParseHostTemplate(s.BaseURL)
		if err != nil {
			return fmt.Errorf("base_url: %v", err)
		}
		if err := specCheckRef(h.Ref, groups, nil, false, false); err != nil {
			return fmt.Errorf("base_url %q: %v", s.BaseURL, err)
		}
	} else if s.BaseURL != "" {
		if err := CheckBaseURL(s.BaseURL); err != nil {
			return fmt.Errorf("base_url: %v", err)
		}
	}
	if s.Verifier != "" {
		if !tmpl.IsName(s.Verifier) {
			return fmt.Errorf("verifier %q: use letters, digits, _ and -", s.Verifier)
		}
		if len(s.Steps) > 0 {
			return fmt.Errorf("verifier %q and [[...step]] exclude each other: a Go verifier sends its own requests", s.Verifier)
		}
		if s.Access != nil {
			return fmt.Errorf("verifier %q reports its own access map; remove the access table", s.Verifier)
		}
		return nil
	}
	if len(s.Steps) == 0 {
		return fmt.Errorf("has no [[...step]]: add at least one request, or name a Go verifier (verifier = \"...\")")
	}
	if len(s.Steps) > MaxSteps {
		return fmt.Errorf("has %d steps; at most %d are allowed", len(s.Steps), MaxSteps)
	}
	vars := map[string]bool{}
	names := map[string]bool{}
	for i := range s.Steps {
		st := &s.Steps[i]
		where := fmt.Sprintf("step %d", i+1)
		if st.Name != "" {
			where = fmt.Sprintf("step %d (%s)", i+1, st.Name)
			if names[st.Name] {
				return fmt.Errorf("%s: duplicate step name", where)
			}
			names[st.Name] = true
		}
		if err := specValidateStep(st, revoke, groups, vars); err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
	}
	if s.Access != nil {
		if revoke {
			return fmt.Errorf("access: only [rule.verify] reports an access map")
		}
		if err := specValidateAccess(s, groups, vars); err != nil {
			return fmt.Errorf("access: %v", err)
		}
	}
	return nil
}

func specValidateAccess(s *HTTPSpec, groups, vars map[string]bool) error {
	sensitive := map[string]bool{}
	for _, st := range s.Steps {
		for _, e := range st.Extract {
			sensitive[e.Name] = sensitive[e.Name] || e.Sensitive
		}
	}
	a := s.Access
	fields := map[string]string{"identity": a.Identity, "account": a.Account, "scopes": a.Scopes, "resources": a.Resources}
	for k, v := range a.Properties {
		if !tmpl.IsName(k) {
			return fmt.Errorf("property %q: use letters, digits, _ and -", k)
		}
		fields["properties."+k] = v
	}
	for field, src := range fields {
		t, err := tmpl.Parse(src)
		if err != nil {
			return fmt.Errorf("%s: %v", field, err)
		}
		for _, ref := range t.Refs() {
			if ref == "secret" || strings.HasPrefix(ref, "part.") {
				return fmt.Errorf("%s %q: may not contain the secret or a part", field, src)
			}
			if name, isVar := strings.CutPrefix(ref, "var."); isVar && sensitive[name] {
				return fmt.Errorf("%s %q: %s is sensitive and may not be shown", field, src, ref)
			}
			if err := specCheckRef(ref, groups, vars, false, false); err != nil {
				return fmt.Errorf("%s %q: %v", field, src, err)
			}
		}
	}
	return nil
}

func specValidateStep(st *HTTPStep, revoke bool, groups, vars map[string]bool) error {
	if NormalizeMethod(st.Method) == "" {
		return fmt.Errorf("method %q: use one of %s", st.Method, strings.Join(HTTPMethods, ", "))
	}
	// Request templates see the secret, capture groups and variables extracted by
	// earlier steps.
	reqRefs := func(field, src string, allowBase bool) (*tmpl.Template, error) {
		t, err := tmpl.Parse(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", field, err)
		}
		for _, ref := range t.Refs() {
			if err := specCheckRef(ref, groups, vars, allowBase, false); err != nil {
				return nil, fmt.Errorf("%s %q: %v", field, src, err)
			}
		}
		return t, nil
	}
	if st.URL == "" {
		return fmt.Errorf("url is missing")
	}
	if _, err := reqRefs("url", st.URL, true); err != nil {
		return err
	}
	if err := CheckStepURL(st.URL); err != nil {
		return fmt.Errorf("url %q: %v", st.URL, err)
	}
	for name, v := range st.Headers {
		if !specHeaderName(name) {
			return fmt.Errorf("header name %q is not a valid HTTP token", name)
		}
		switch strings.ToLower(name) {
		case "host", "content-length", "transfer-encoding", "connection":
			return fmt.Errorf("header %q is set by the HTTP client and may not be templated", name)
		}
		if _, err := reqRefs("header "+name, v, false); err != nil {
			return err
		}
	}
	if _, err := reqRefs("body", st.Body, false); err != nil {
		return err
	}
	if st.BasicAuth != nil {
		if _, err := reqRefs("basic_auth.user", st.BasicAuth.User, false); err != nil {
			return err
		}
		if _, err := reqRefs("basic_auth.password", st.BasicAuth.Password, false); err != nil {
			return err
		}
	}
	// Extractions become visible to this step's details and to later steps.
	sensitive := map[string]bool{}
	for j, e := range st.Extract {
		if !tmpl.IsName(e.Name) {
			return fmt.Errorf("extract %d: name %q: use letters, digits, _ and -", j+1, e.Name)
		}
		if vars[e.Name] {
			return fmt.Errorf("extract %q: a variable of that name is already extracted", e.Name)
		}
		n := 0
		for _, s := range []string{e.JSON, e.Header, e.Regex} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("extract %q: set exactly one of json, header, regex", e.Name)
		}
		if e.Regex != "" {
			if _, err := regexp.Compile(e.Regex); err != nil {
				return fmt.Errorf("extract %q: regex: %v", e.Name, err)
			}
		}
		if e.Count && e.JSON == "" {
			return fmt.Errorf("extract %q: count needs a json path", e.Name)
		}
		if e.Header != "" && !specHeaderName(e.Header) {
			return fmt.Errorf("extract %q: header %q is not a valid HTTP token", e.Name, e.Header)
		}
		if e.JSON != "" {
			if err := specCheckJSONPath(e.JSON); err != nil {
				return fmt.Errorf("extract %q: %v", e.Name, err)
			}
		}
		vars[e.Name] = true
		sensitive[e.Name] = e.Sensitive
	}
	if len(st.Match) == 0 && !revoke {
		return fmt.Errorf("has no [[...match]]: say which responses mean live and invalid")
	}
	for j, m := range st.Match {
		if err := specValidateMatcher(&m, revoke, groups, vars, sensitive); err != nil {
			return fmt.Errorf("match %d: %v", j+1, err)
		}
	}
	return nil
}

func specValidateMatcher(m *ResponseMatcher, revoke bool, groups, vars, sensitive map[string]bool) error {
	ok := map[string]bool{ResultLive: true, ResultInvalid: true, ResultUnknown: true}
	if revoke {
		ok = map[string]bool{ResultAccepted: true, ResultRejected: true, ResultUnknown: true}
	}
	if !ok[m.Result] {
		if revoke {
			return fmt.Errorf("result %q: use accepted, rejected or unknown", m.Result)
		}
		return fmt.Errorf("result %q: use live, invalid or unknown", m.Result)
	}
	for _, c := range m.Status {
		if c < 100 || c > 599 {
			return fmt.Errorf("status %d is not an HTTP status code", c)
		}
	}
	for _, c := range m.JSON {
		if err := specCheckJSONPath(c.Path); err != nil {
			return err
		}
		if c.Absent && len(c.Equals) > 0 {
			return fmt.Errorf("json %q: absent and equals exclude each other", c.Path)
		}
	}
	if m.Body != "" {
		if _, err := regexp.Compile(m.Body); err != nil {
			return fmt.Errorf("body regex: %v", err)
		}
	}
	for h, re := range m.Headers {
		if !specHeaderName(h) {
			return fmt.Errorf("header %q is not a valid HTTP token", h)
		}
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("header %q regex: %v", h, err)
		}
	}
	t, err := tmpl.Parse(m.Detail)
	if err != nil {
		return fmt.Errorf("detail: %v", err)
	}
	for _, ref := range t.Refs() {
		if ref == "secret" || strings.HasPrefix(ref, "part.") {
			return fmt.Errorf("detail %q: may not contain the secret or a part", m.Detail)
		}
		if name, isVar := strings.CutPrefix(ref, "var."); isVar && sensitive[name] {
			return fmt.Errorf("detail %q: %s is sensitive and may not be shown", m.Detail, ref)
		}
		if err := specCheckRef(ref, groups, vars, false, true); err != nil {
			return fmt.Errorf("detail %q: %v", m.Detail, err)
		}
	}
	return nil
}

func specCheckRef(ref string, groups, vars map[string]bool, allowBase, allowStatus bool) error {
	switch ref {
	case "secret":
		return nil
	case "base":
		if allowBase {
			return nil
		}
		return fmt.Errorf("{{base}} may only start a step url")
	case "status":
		if allowStatus {
			return nil
		}
		return fmt.Errorf("{{status}} may only appear in a match detail")
	}
	ns, name, _ := strings.Cut(ref, ".")
	switch ns {
	case "match":
		if !groups[name] {
			return fmt.Errorf("{{%s}}: the rule's regex has no named group (?P<%s>...)", ref, name)
		}
	case "var":
		if !vars[name] {
			return fmt.Errorf("{{%s}}: no earlier extract is named %q", ref, name)
		}
	case "part":
		if !groups[partKey+name] {
			return fmt.Errorf("{{%s}}: the rule has no [[rule.require]] id = %q", ref, name)
		}
	}
	return nil
}

func specCheckJSONPath(p string) error {
	q := strings.TrimPrefix(strings.TrimPrefix(p, "$"), ".")
	if q == "" {
		return fmt.Errorf("json path %q is empty", p)
	}
	for _, seg := range strings.Split(q, ".") {
		if seg == "" {
			return fmt.Errorf("json path %q has an empty segment", p)
		}
	}
	return nil
}

func specHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			return false
		}
	}
	return true
}

// CheckStepURL checks a step URL template: "{{base}}" followed by a path or
// query, or an absolute URL whose scheme, host and port are literal.
func CheckStepURL(u string) error {
	if rest, ok := strings.CutPrefix(u, "{{base}}"); ok {
		if strings.Contains(rest, "{{base}}") {
			return fmt.Errorf("{{base}} may appear only once, at the start")
		}
		if rest != "" && rest[0] != '/' && rest[0] != '?' {
			return fmt.Errorf("after {{base}} comes a path (/...) or a query (?...), so data cannot extend the host")
		}
		return nil
	}
	if strings.Contains(u, "{{base}}") {
		return fmt.Errorf("{{base}} may only start the url")
	}
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return fmt.Errorf("must be absolute (https://host/...) or start with {{base}}")
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	origin := scheme + "://" + rest[:end]
	if strings.Contains(origin, "{{") {
		return fmt.Errorf("scheme and host must be literal: a template may not choose where the secret is sent")
	}
	return CheckBaseURL(origin)
}

// CheckBaseURL checks a literal base URL (from a rule's base_url or an
// --endpoint override): https, or http only to a loopback host; a host; no user
// info, query or fragment.
func CheckBaseURL(s string) error {
	if strings.Contains(s, "{{") {
		return fmt.Errorf("%q: a base URL is literal, never a template", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q: %v", s, err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%q has no host", s)
	}
	if u.User != nil {
		return fmt.Errorf("%q: credentials in a URL are not allowed", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return fmt.Errorf("%q: a base URL has no query or fragment", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return fmt.Errorf("%q: plain http is allowed only to a loopback host (127.0.0.1, ::1, localhost); use https", s)
		}
	default:
		return fmt.Errorf("%q: scheme must be https", s)
	}
	return nil
}

// IsLoopback reports whether host names the local machine.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// HostTemplate is a base URL whose first host label comes from the credential:
// "https://{{part.algolia-app-id|dnslabel}}-dsn.algolia.net". Only that form is
// allowed: https, one reference (a companion part or a named group) with the
// dnslabel filter at the very start of the host, then a literal rest of the
// host that holds the provider's registrable domain (at least two labels after
// the derived one) and an optional literal path. At run time the value must be
// a strict DNS label (letters, digits, inner dashes; lower-cased) and the
// label it makes at most 63 bytes, so no value can add a label, a port, user
// info or a path: the secret goes to a host under the provider's domain only.
type HostTemplate struct {
	Ref       string // "part.algolia-app-id" or "match.NAME"
	LabelTail string // literal rest of the first label ("-dsn")
	Domain    string // literal rest of the host, from its first dot (".algolia.net")
	Path      string // literal path ("" or "/...")
}

var hostTemplateRe = regexp.MustCompile(`^https://\{\{\s*((?:part|match)\.[A-Za-z0-9_-]+)\s*\|\s*dnslabel\s*\}\}([a-z0-9-]*)((?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?){2,})(/[^{}?#]*)?$`)

// ParseHostTemplate parses a templated base URL (see HostTemplate).
func ParseHostTemplate(s string) (*HostTemplate, error) {
	m := hostTemplateRe.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("%q: a templated base URL must be https://{{part.RULE-ID|dnslabel}}<literal rest of the host>[/path], the template making (the start of) the first label only", s)
	}
	h := &HostTemplate{Ref: m[1], LabelTail: m[2], Domain: m[3], Path: strings.TrimRight(m[4], "/")}
	if strings.HasSuffix(h.LabelTail, "-") {
		return nil, fmt.Errorf("%q: a host label cannot end with a dash", s)
	}
	if err := CheckBaseURL("https://x" + h.LabelTail + h.Domain + h.Path); err != nil {
		return nil, err
	}
	return h, nil
}

var dnsLabelRe = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// Render makes the base URL for value, or fails when value is not a strict
// DNS label.
func (h *HostTemplate) Render(value string) (string, error) {
	v := strings.ToLower(value)
	label := v + h.LabelTail
	if !dnsLabelRe.MatchString(v) || !dnsLabelRe.MatchString(label) {
		return "", fmt.Errorf("{{%s}} is not a DNS label (letters, digits and inner dashes, at most 63), so no host can be made from it", h.Ref)
	}
	u := "https://" + label + h.Domain + h.Path
	if p, err := url.Parse(u); err != nil || p.Hostname() != label+h.Domain || p.User != nil || p.Port() != "" {
		return "", fmt.Errorf("{{%s}} does not make a host under %s", h.Ref, h.Domain)
	}
	return u, nil
}

// Pattern is the host for display, the derived part as "*".
func (h *HostTemplate) Pattern() string { return "*" + h.LabelTail + h.Domain }

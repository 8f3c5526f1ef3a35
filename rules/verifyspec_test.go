package rules

import (
	"strings"
	"testing"
)

func verifyRule(steps ...HTTPStep) *Rule {
	return &Rule{ID: "t", Regex: `(?P<user>[a-z]+):(?P<key>tk_[a-z0-9]{8})`,
		Verify: &VerifySpec{BaseURL: "https://api.example.com", Steps: steps}}
}

var live = []ResponseMatcher{{Status: []int{200}, Result: "live"}}

func TestValidateHTTPSpecs(t *testing.T) {
	good := HTTPStep{URL: "{{base}}/user", Headers: map[string]string{"Authorization": "Bearer {{secret}}"}, Match: live}
	cases := []struct {
		name string
		rule *Rule
		want string // "" = valid
	}{
		{"valid", verifyRule(good), ""},
		{"valid literal url and groups", verifyRule(HTTPStep{URL: "https://auth.example.com/v1/{{match.user}}?k={{secret|url}}",
			BasicAuth: &BasicAuth{User: "{{match.user}}", Password: "{{match.key}}"}, Match: live}), ""},
		{"valid two steps", verifyRule(
			HTTPStep{Method: "post", URL: "{{base}}/token", Body: `{"k":"{{secret|json}}"}`,
				Extract: []Extract{{Name: "tok", JSON: "data.token", Sensitive: true}}, Match: live},
			HTTPStep{URL: "{{base}}/me", Headers: map[string]string{"X-Tok": "{{var.tok}}"},
				Extract: []Extract{{Name: "name", Header: "X-Name"}},
				Match:   []ResponseMatcher{{Status: []int{200}, Result: "live", Detail: "as {{var.name}} ({{status}})"}}}), ""},
		{"secret in host", verifyRule(HTTPStep{URL: "https://{{secret}}.example.com/x", Match: live}), "scheme and host must be literal"},
		{"group in host after literal", verifyRule(HTTPStep{URL: "https://api.example.com{{match.user}}/x", Match: live}), "scheme and host must be literal"},
		{"template extends base host", verifyRule(HTTPStep{URL: "{{base}}{{secret}}", Match: live}), "after {{base}} comes a path"},
		{"template extends base host with dot", verifyRule(HTTPStep{URL: "{{base}}.evil.com/x", Match: live}), "after {{base}} comes a path"},
		{"base in the middle", verifyRule(HTTPStep{URL: "https://x.com/{{base}}", Match: live}), "{{base}} may only start"},
		{"base in a header", verifyRule(HTTPStep{URL: "{{base}}/x", Headers: map[string]string{"X": "{{base}}"}, Match: live}), "{{base}} may only start a step url"},
		{"plain http", verifyRule(HTTPStep{URL: "http://api.example.com/x", Match: live}), "loopback"},
		{"http to loopback", verifyRule(HTTPStep{URL: "http://127.0.0.1:8080/x", Match: live}), ""},
		{"relative url", verifyRule(HTTPStep{URL: "/user", Match: live}), "must be absolute"},
		{"userinfo", verifyRule(HTTPStep{URL: "https://u:p@api.example.com/x", Match: live}), "credentials in a URL"},
		{"templated base_url", &Rule{ID: "t", Regex: "x", Verify: &VerifySpec{BaseURL: "https://{{secret}}.x.com", Steps: []HTTPStep{good}}}, "literal"},
		{"base_url with query", &Rule{ID: "t", Regex: "x", Verify: &VerifySpec{BaseURL: "https://x.com/?a=b", Steps: []HTTPStep{good}}}, "no query"},
		{"unknown method", verifyRule(HTTPStep{Method: "TRACE", URL: "{{base}}/x", Match: live}), `method "TRACE"`},
		{"unknown group", verifyRule(HTTPStep{URL: "{{base}}/x/{{match.nope}}", Match: live}), "no named group (?P<nope>"},
		{"unknown var", verifyRule(HTTPStep{URL: "{{base}}/x/{{var.id}}", Match: live}), `no earlier extract is named "id"`},
		{"var from the same step in the request", verifyRule(HTTPStep{URL: "{{base}}/x/{{var.id}}", Extract: []Extract{{Name: "id", JSON: "id"}}, Match: live}), "no earlier extract"},
		{"unknown filter", verifyRule(HTTPStep{URL: "{{base}}/x", Body: "{{secret|rot13}}", Match: live}), `unknown filter "rot13"`},
		{"unknown reference", verifyRule(HTTPStep{URL: "{{base}}/x", Body: "{{token}}", Match: live}), `unknown reference "token"`},
		{"unclosed", verifyRule(HTTPStep{URL: "{{base}}/x", Body: "{{secret", Match: live}), "unclosed"},
		{"status outside a detail", verifyRule(HTTPStep{URL: "{{base}}/x", Body: "{{status}}", Match: live}), "only appear in a match detail"},
		{"no steps", &Rule{ID: "t", Regex: "x", Verify: &VerifySpec{BaseURL: "https://x.com"}}, "at least one request"},
		{"no matchers", verifyRule(HTTPStep{URL: "{{base}}/x"}), "say which responses mean live and invalid"},
		{"bad result", verifyRule(HTTPStep{URL: "{{base}}/x", Match: []ResponseMatcher{{Result: "maybe"}}}), `result "maybe": use live, invalid or unknown`},
		{"bad status", verifyRule(HTTPStep{URL: "{{base}}/x", Match: []ResponseMatcher{{Status: []int{999}, Result: "live"}}}), "not an HTTP status"},
		{"bad body regex", verifyRule(HTTPStep{URL: "{{base}}/x", Match: []ResponseMatcher{{Body: "(", Result: "live"}}}), "body regex"},
		{"secret in detail", verifyRule(HTTPStep{URL: "{{base}}/x", Match: []ResponseMatcher{{Status: []int{200}, Result: "live", Detail: "key {{secret}}"}}}), "may not contain the secret"},
		{"sensitive var in detail", verifyRule(HTTPStep{URL: "{{base}}/x", Extract: []Extract{{Name: "s", JSON: "s", Sensitive: true}},
			Match: []ResponseMatcher{{Status: []int{200}, Result: "live", Detail: "{{var.s}}"}}}), "sensitive"},
		{"extract with two sources", verifyRule(HTTPStep{URL: "{{base}}/x", Extract: []Extract{{Name: "a", JSON: "a", Header: "A"}}, Match: live}), "exactly one of"},
		{"duplicate extract", verifyRule(
			HTTPStep{URL: "{{base}}/x", Extract: []Extract{{Name: "a", JSON: "a"}}, Match: live},
			HTTPStep{URL: "{{base}}/y", Extract: []Extract{{Name: "a", JSON: "a"}}, Match: live}), "already extracted"},
		{"host header", verifyRule(HTTPStep{URL: "{{base}}/x", Headers: map[string]string{"Host": "evil.com"}, Match: live}), "set by the HTTP client"},
		{"bad header name", verifyRule(HTTPStep{URL: "{{base}}/x", Headers: map[string]string{"Bad Header": "x"}, Match: live}), "not a valid HTTP token"},
		{"json absent and equals", verifyRule(HTTPStep{URL: "{{base}}/x", Match: []ResponseMatcher{{JSON: []JSONCond{{Path: "a", Absent: true, Equals: []string{"1"}}}, Result: "live"}}}), "exclude each other"},
		{"revoke without verify", &Rule{ID: "t", Regex: "x", Revoke: &RevokeSpec{BaseURL: "https://x.com", Steps: []HTTPStep{{URL: "{{base}}/r"}}}}, "needs a [rule.verify]"},
		{"revoke result vocabulary", &Rule{ID: "t", Regex: "x", Verify: &VerifySpec{BaseURL: "https://x.com", Steps: []HTTPStep{good}},
			Revoke: &RevokeSpec{Steps: []HTTPStep{{Method: "DELETE", URL: "{{base}}/r", Match: []ResponseMatcher{{Status: []int{204}, Result: "live"}}}}}}, "use accepted, rejected or unknown"},
		{"revoke without matchers", &Rule{ID: "t", Regex: "x", Verify: &VerifySpec{BaseURL: "https://x.com", Steps: []HTTPStep{good}},
			Revoke: &RevokeSpec{Steps: []HTTPStep{{Method: "DELETE", URL: "{{base}}/r"}}}}, ""},
		{"bad family", &Rule{ID: "t", Regex: "x", Verify: &VerifySpec{Family: "git hub", BaseURL: "https://x.com", Steps: []HTTPStep{good}}}, "family"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ValidateHTTPSpecs(c.rule)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case c.want != "" && err == nil:
				t.Errorf("accepted; want an error containing %q", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

// TestVerifySpecTOML decodes the schema through the loader: every key is known
// and a misspelt one is reported.
func TestVerifySpecTOML(t *testing.T) {
	src := `
[[rule]]
id = "t"
description = "d"
regex = '''tk_(?P<key>[a-z0-9]{8})'''
[rule.verify]
family = "x"
base_url = "https://api.example.com"
[[rule.verify.step]]
name = "me"
method = "POST"
url = "{{base}}/me"
headers = { Authorization = "Token {{secret}}" }
body = '{"k":"{{match.key|json}}"}'
basic_auth = { user = "{{match.key}}", password = "{{secret}}" }
allow_html = true
[[rule.verify.step.extract]]
name = "who"
json = "user.name"
sensitive = false
[[rule.verify.step.match]]
status = [200]
json = [{ path = "ok", equals = ["true"] }, { path = "error", absent = true }]
body = 'user'
headers = { X-Scope = "read" }
result = "live"
detail = "{{var.who}}"
[rule.revoke]
[[rule.revoke.step]]
method = "DELETE"
url = "{{base}}/me"
`
	p, err := Parse("t.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rules()[0]
	st := r.Verify.Steps[0]
	if r.Verify.Family != "x" || st.Name != "me" || st.BasicAuth.User != "{{match.key}}" || !st.AllowHTML ||
		st.Extract[0].JSON != "user.name" || len(st.Match[0].JSON) != 2 || !st.Match[0].JSON[1].Absent ||
		st.Match[0].Headers["X-Scope"] != "read" || r.Revoke.Steps[0].Method != "DELETE" {
		t.Errorf("decoded %+v", r.Verify)
	}
	bad := strings.Replace(src, `allow_html = true`, `allow_htm = true`, 1)
	if _, err := Parse("t.toml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "allow_htm") {
		t.Errorf("misspelt key: %v", err)
	}
	hostile := strings.Replace(src, `url = "{{base}}/me"`, `url = "https://{{match.key}}.example.com/me"`, 1)
	if _, err := Parse("t.toml", []byte(hostile)); err == nil || !strings.Contains(err.Error(), "t.toml:2: rule \"t\": [rule.verify] step 1 (me): url") {
		t.Errorf("templated host: %v", err)
	}
}

func TestHostTemplate(t *testing.T) {
	for _, c := range []struct {
		src, err string
	}{
		{"https://{{part.algolia-app-id|dnslabel}}-dsn.algolia.net", ""},
		{"https://{{part.x|dnslabel}}.api.example.com/v1", ""},
		{"https://{{part.x}}.algolia.net", "must be"},                       // no dnslabel
		{"https://{{part.x|dnslabel}}.net", "must be"},                      // one label after: no registrable domain
		{"https://api.{{part.x|dnslabel}}.algolia.net", "must be"},          // not at the start
		{"http://{{part.x|dnslabel}}-dsn.algolia.net", "must be"},           // not https
		{"https://{{part.x|dnslabel}}.algolia.net:8443", "must be"},         // port
		{"https://{{part.x|dnslabel}}{{part.y|dnslabel}}.a.net", "must be"}, // two references
		{"https://{{part.x|dnslabel}}-.algolia.net", "dash"},
		{"https://{{secret|dnslabel}}.algolia.net", "must be"},
	} {
		_, err := ParseHostTemplate(c.src)
		if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want %q", c.src, err, c.err)
		}
	}
	h, err := ParseHostTemplate("https://{{part.a|dnslabel}}-dsn.algolia.net")
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[string]string{
		"R2LHTYCXAB": "https://r2lhtycxab-dsn.algolia.net", "a-b": "https://a-b-dsn.algolia.net",
		"a.b": "", "a/b": "", "a:1": "", "a@b": "", "": "", "-a": "", "a%": "", "ａ": "",
	} {
		got, err := h.Render(v)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("Render(%q) = %q, %v; want %q", v, got, err, want)
		}
	}
}

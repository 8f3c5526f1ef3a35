// Package tmpl is the small template language of verification and revocation
// specs: literal text with {{ref | filter}} substitutions. It has no logic, no
// loops and no access to anything but the values handed to Render.
//
// References:
//
//	secret       the secret the rule matched
//	match.NAME   a named capture group of the rule's regex
//	var.NAME     a value extracted from an earlier response
//	part.RULE    the secret of a composite credential's companion (its rule id)
//	base         the spec's base URL (only at the very start of a step URL)
//	status       the HTTP status of the response (only in match details)
//
// Filters, applied left to right: base64, base64url, json (escapes for use inside
// a JSON string), url (query escaping), lower, upper.
package tmpl

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Template is a parsed template.
type Template struct {
	src   string
	parts []part
}

type part struct {
	lit     string
	expr    bool
	ref     string   // e.g. "secret", "match.user", "var.id"
	filters []string // e.g. ["base64"]
}

// Filters are the known filter names.
var Filters = map[string]func(string) string{
	"base64":    func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	"base64url": func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) },
	"json":      jsonEscape,
	"url":       url.QueryEscape,
	"lower":     strings.ToLower,
	"upper":     strings.ToUpper,
	// dnslabel lower-cases; only templated base URLs use it, and they check
	// the value is a DNS label (rules.HostTemplate).
	"dnslabel": strings.ToLower,
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s) // cannot fail for a string
	return string(b[1 : len(b)-1])
}

// Parse parses src. A literal "{{" that does not start a reference is an error.
func Parse(src string) (*Template, error) {
	t := &Template{src: src}
	rest := src
	for rest != "" {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if strings.Contains(rest, "}}") {
				return nil, fmt.Errorf("template %q: unmatched \"}}\"", src)
			}
			t.parts = append(t.parts, part{lit: rest})
			break
		}
		if i > 0 {
			if strings.Contains(rest[:i], "}}") {
				return nil, fmt.Errorf("template %q: unmatched \"}}\"", src)
			}
			t.parts = append(t.parts, part{lit: rest[:i]})
		}
		rest = rest[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, fmt.Errorf("template %q: unclosed \"{{\"", src)
		}
		inner := rest[:j]
		rest = rest[j+2:]
		if strings.Contains(inner, "{{") {
			return nil, fmt.Errorf("template %q: nested \"{{\"", src)
		}
		fields := strings.Split(inner, "|")
		ref := strings.TrimSpace(fields[0])
		if err := checkRef(ref); err != nil {
			return nil, fmt.Errorf("template %q: %v", src, err)
		}
		p := part{expr: true, ref: ref}
		for _, f := range fields[1:] {
			f = strings.TrimSpace(f)
			if _, ok := Filters[f]; !ok {
				return nil, fmt.Errorf("template %q: unknown filter %q (known: base64, base64url, json, url, lower, upper, dnslabel)", src, f)
			}
			p.filters = append(p.filters, f)
		}
		t.parts = append(t.parts, p)
	}
	return t, nil
}

// MustParse is Parse for templates known to be valid; it panics otherwise.
func MustParse(src string) *Template {
	t, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return t
}

func checkRef(ref string) error {
	switch ref {
	case "secret", "base", "status":
		return nil
	case "":
		return fmt.Errorf("empty reference")
	}
	ns, name, ok := strings.Cut(ref, ".")
	if ok && ns == "part" {
		if !IsRuleID(name) {
			return fmt.Errorf("reference %q: %q is not a rule id (kebab-case)", ref, name)
		}
		return nil
	}
	if !ok || (ns != "match" && ns != "var") {
		return fmt.Errorf("unknown reference %q (use secret, match.NAME, var.NAME, part.RULE-ID, base or status)", ref)
	}
	if !IsName(name) {
		return fmt.Errorf("reference %q: %q is not a name (letters, digits, _ and -, starting with a letter)", ref, name)
	}
	return nil
}

// IsName reports whether s is a valid group, variable or step name.
func IsName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// IsRuleID reports whether s is a kebab-case rule id (lower-case letters and
// digits in groups joined by single dashes).
func IsRuleID(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// String returns the source text.
func (t *Template) String() string { return t.src }

// Refs returns the references the template uses, in order of appearance.
func (t *Template) Refs() []string {
	var out []string
	for _, p := range t.parts {
		if p.expr {
			out = append(out, p.ref)
		}
	}
	return out
}

// Chains returns the filter chain of each reference, in order of appearance
// (an empty chain for a reference without filters).
func (t *Template) Chains() [][]string {
	var out [][]string
	for _, p := range t.parts {
		if p.expr {
			out = append(out, append([]string(nil), p.filters...))
		}
	}
	return out
}

// IsLiteral reports whether the template has no references.
func (t *Template) IsLiteral() bool { return len(t.Refs()) == 0 }

// Env resolves references. ok=false means the value is not available.
type Env func(ref string) (value string, ok bool)

// Render substitutes every reference. It fails if a reference is unavailable.
func (t *Template) Render(env Env) (string, error) {
	return t.render(env, nil)
}

// RenderURL renders a URL template: substituted values are escaped for the part
// of the URL they land in (path segment escaping before '?', query escaping
// after), so data can never change the URL's structure. The reference "base" is
// inserted verbatim: it is a configured, validated base URL.
func (t *Template) RenderURL(env Env) (string, error) {
	return t.render(env, func(p part, v string, inQuery bool) string {
		switch {
		case p.ref == "base":
			return v
		case inQuery:
			return url.QueryEscape(v)
		default:
			return url.PathEscape(v)
		}
	})
}

func (t *Template) render(env Env, escape func(p part, v string, inQuery bool) string) (string, error) {
	var b strings.Builder
	inQuery := false
	for _, p := range t.parts {
		if !p.expr {
			b.WriteString(p.lit)
			if strings.ContainsAny(p.lit, "?#") {
				inQuery = true
			}
			continue
		}
		v, ok := env(p.ref)
		if !ok {
			return "", fmt.Errorf("%s is not available", p.ref)
		}
		for _, f := range p.filters {
			v = Filters[f](v)
		}
		if escape != nil {
			v = escape(p, v, inQuery)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

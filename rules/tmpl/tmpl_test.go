package tmpl

import (
	"strings"
	"testing"
)

func env(m map[string]string) Env {
	return func(ref string) (string, bool) { v, ok := m[ref]; return v, ok }
}

func TestRender(t *testing.T) {
	vals := env(map[string]string{"secret": `a"b/c?d`, "match.user": "bob", "base": "https://x.example/api", "var.id": "7"})
	cases := []struct {
		src, want string
		url       bool
	}{
		{"Bearer {{secret}}", `Bearer a"b/c?d`, false},
		{`{"k":"{{ secret | json }}"}`, `{"k":"a\"b/c?d"}`, false},
		{"{{match.user|upper}}:{{secret|base64}}", "BOB:YSJiL2M/ZA==", false},
		{"{{secret|base64url}}", "YSJiL2M_ZA", false},
		{"{{base}}/u/{{secret}}?q={{secret}}&id={{var.id}}", "https://x.example/api/u/a%22b%2Fc%3Fd?q=a%22b%2Fc%3Fd&id=7", true},
		{"{{base}}/u#{{secret}}", "https://x.example/api/u#a%22b%2Fc%3Fd", true},
		{"no refs", "no refs", false},
	}
	for _, c := range cases {
		tp, err := Parse(c.src)
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		render := tp.Render
		if c.url {
			render = tp.RenderURL
		}
		got, err := render(vals)
		if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.src, got, err, c.want)
		}
	}
	tp := MustParse("{{var.missing}}")
	if _, err := tp.Render(vals); err == nil || !strings.Contains(err.Error(), "var.missing is not available") {
		t.Errorf("missing value: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for src, want := range map[string]string{
		"{{secret":         "unclosed",
		"x}}":              `unmatched "}}"`,
		"{{ }}":            "empty reference",
		"{{token}}":        `unknown reference "token"`,
		"{{match.}}":       "is not a name",
		"{{match.a b}}":    "is not a name",
		"{{secret|rot13}}": `unknown filter "rot13"`,
		"{{ {{secret}} }}": "nested",
		"{{var.1x}}":       "is not a name",
	} {
		if _, err := Parse(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", src, err, want)
		}
	}
	tp := MustParse("{{secret}} {{match.u}} {{var.v}}")
	if got := strings.Join(tp.Refs(), ","); got != "secret,match.u,var.v" || tp.IsLiteral() || tp.String() != "{{secret}} {{match.u}} {{var.v}}" {
		t.Errorf("refs %s", got)
	}
}

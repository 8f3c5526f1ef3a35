package engine

import (
	"regexp"
	"testing"

	"github.com/tokenward/tokenward/rules"
)

func TestPathClassFor(t *testing.T) {
	lock := regexp.MustCompile(`(^|/)go\.sum$`)
	set := &rules.Set{Rules: []*rules.Rule{
		{ID: "a", Allow: []rules.Allow{{Paths: []string{lock.String()}}}},
		{ID: "b", Allow: []rules.Allow{{Paths: []string{`(^|/)go\.sum$`}}}},
		{ID: "c", PathRe: regexp.MustCompile(`\.env$`)},
	}}
	pc := PathClassFor(set)
	cases := []struct {
		a, b string
		same bool
	}{
		{"x/go.sum", "go.sum", true},
		{"main.go", "lib/util.go", true},
		{"go.sum", "main.go", false},
		{"prod.env", "main.go", false},
		{"prod.env", "dev/.env", true},
	}
	for _, c := range cases {
		if got := pc(c.a) == pc(c.b); got != c.same {
			t.Errorf("class(%q) == class(%q) is %v, want %v", c.a, c.b, got, c.same)
		}
	}
	if PathClassFor(&rules.Set{Rules: []*rules.Rule{{ID: "plain"}}}) != nil {
		t.Error("a set without path rules should need no path classes")
	}
}

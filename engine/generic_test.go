package engine

import (
	"slices"
	"testing"

	"github.com/tokenward/tokenward/rules"
)

// genericRules: three generic rules that can match the same value (two of equal
// severity), one generic rule that matches a longer span, and a specific rule.
const genericRules = `
[[rule]]
id = "g-token"
description = "generic token"
regex = '''(?i:token)\w*\s*=\s*"([A-Za-z0-9]{16,64})"'''
keywords = ["token"]
severity = "medium"
tags = ["generic"]

[[rule]]
id = "g-secret"
description = "generic secret"
regex = '''(?i:secret)\w*\s*=\s*"([A-Za-z0-9]{16,64})"'''
keywords = ["secret"]
severity = "medium"
tags = ["generic"]

[[rule]]
id = "g-auth"
description = "generic auth, more severe"
regex = '''(?i:auth)\w*\s*=\s*"([A-Za-z0-9]{16,64})"'''
keywords = ["auth"]
severity = "high"
tags = ["generic"]

[[rule]]
id = "g-quoted"
description = "generic: the value with its quotes"
regex = '''(?i:passwd)\w*\s*=\s*("[A-Za-z0-9]{16,64}")'''
keywords = ["passwd"]
severity = "critical"
tags = ["generic"]

[[rule]]
id = "acme-key"
description = "specific format"
regex = '''\b(acme_[A-Za-z0-9]{16})\b'''
severity = "low"
`

func TestGenericSameSpanReportedOnce(t *testing.T) {
	e := engineFromTOML(t, genericRules, Options{})
	cases := []struct {
		name, text string
		want       []string // rule ids, in position order
	}{
		{"one generic rule", `token = "Vq3ZtL9xR2mK8pW4nB7c"`, []string{"g-token"}},
		{"same severity: smaller id wins", `token_secret = "Vq3ZtL9xR2mK8pW4nB7c"`, []string{"g-secret"}},
		{"higher severity wins over smaller id", `auth_token = "Vq3ZtL9xR2mK8pW4nB7c"`, []string{"g-auth"}},
		{"three rules, one span", `auth_secret_token = "Vq3ZtL9xR2mK8pW4nB7c"`, []string{"g-auth"}},
		{"different spans are both kept", "token = \"Vq3ZtL9xR2mK8pW4nB7c\"\nsecret_x = \"Hn4Ws8Kd2Lq7Zm3Xp9Rt\"",
			[]string{"g-token", "g-secret"}},
		{"overlapping but different spans are both kept", `passwd_auth = "Vq3ZtL9xR2mK8pW4nB7c"`,
			[]string{"g-quoted", "g-auth"}},
		{"specific rule beats every generic one", `secret_token = "acme_Vq3ZtL9xR2mK8pW4"`, []string{"acme-key"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, f := range e.ScanBytes("x.txt", []byte(c.text)) {
				got = append(got, f.RuleID)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%q: got %v, want %v", c.text, got, c.want)
			}
		})
	}
}

func TestDedupeGenericKeepsOrderAndSpecifics(t *testing.T) {
	rule := func(id, sev string) *rules.Rule { return &rules.Rule{ID: id, Severity: sev} }
	a, b, c, s := rule("b-rule", "high"), rule("a-rule", "high"), rule("c-rule", "critical"), rule("spec", "low")
	in := []raw{
		{rule: a, start: 0, end: 10, generic: true},
		{rule: s, start: 20, end: 30},
		{rule: b, start: 0, end: 10, generic: true},
		{rule: s, start: 20, end: 30}, // specific findings are never merged here
		{rule: c, start: 40, end: 50, generic: true},
		{rule: a, start: 40, end: 50, generic: true},
		{rule: rule("z", "bogus"), start: 40, end: 50, generic: true},
	}
	var got []string
	for _, r := range dedupeGeneric(in) {
		got = append(got, r.rule.ID)
	}
	if want := []string{"spec", "a-rule", "spec", "c-rule"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestBuiltinRuleExamples runs every built-in rule's examples through the engine with
// the whole catalogue loaded, as `tokenward rules test` does: each example must be
// reported by its own rule (not dropped in favour of another generic rule on the same
// span) and no negative example may be. The rules package cannot import the engine,
// so this is where `go test` checks the examples.
func TestBuiltinRuleExamples(t *testing.T) {
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	failures, err := rules.RunExamples(set, nil, func(s *rules.Set) (func(path, text string) []string, error) {
		e, err := New(s, Options{})
		if err != nil {
			return nil, err
		}
		return func(path, text string) []string {
			var ids []string
			for _, f := range e.ScanBytes(path, []byte(text)) {
				ids = append(ids, f.RuleID)
			}
			return ids
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range failures {
		t.Error(f)
	}
}

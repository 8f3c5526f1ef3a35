package pipeline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

func composeSet(t *testing.T) *rules.Set {
	t.Helper()
	p, err := rules.Parse("composite.toml", []byte(`
[[rule]]
id = "key-id"
regex = '''KID[0-9]{4}'''
[[rule.require]]
id = "key-secret"
within_lines = 3

[[rule]]
id = "key-secret"
regex = '''SEC[0-9]{4}'''

[[rule]]
id = "sid"
regex = '''SID[0-9]{4}'''
[[rule.require]]
id = "key-secret"
within_lines = 0
within_columns = 30

[[rule]]
id = "account"
regex = '''ACC[0-9]{4}'''
companion = true

[[rule]]
id = "token"
regex = '''TOK[0-9]{4}'''
[[rule.require]]
id = "account"
`))
	if err != nil {
		t.Fatal(err)
	}
	return &rules.Set{Rules: p.Rules()}
}

// at builds a finding of rule at file:line:column; commit after '@'.
func at(rule, secret, where string) finding.Finding {
	file, commit, _ := strings.Cut(where, "@")
	var line, col int
	fmt.Sscanf(file[strings.Index(file, ":")+1:], "%d:%d", &line, &col)
	file = file[:strings.Index(file, ":")]
	return finding.Finding{RuleID: rule, Kind: finding.KindSecret, Secret: secret, Redacted: finding.Redact(secret),
		File: file, Commit: commit, Line: line, Column: col, Fingerprint: finding.Fingerprint(rule, secret)}
}

// summary renders findings as "rule secret[+part@line...]" in order.
func summary(fs []finding.Finding) string {
	var out []string
	for _, f := range fs {
		s := f.RuleID + " " + f.Secret
		for _, p := range f.Parts {
			s += fmt.Sprintf("+%s@%d", p.Secret, p.Line)
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func TestCompose(t *testing.T) {
	set := composeSet(t)
	cases := []struct {
		name string
		in   []finding.Finding
		want string
	}{
		{"pair absorbed", []finding.Finding{at("key-id", "KID0001", "a.env:1:5"), at("key-secret", "SEC0001", "a.env:2:5")},
			"key-id KID0001+SEC0001@2"},
		{"secret first", []finding.Finding{at("key-secret", "SEC0001", "a.env:1:5"), at("key-id", "KID0001", "a.env:3:5")},
			"key-id KID0001+SEC0001@1"},
		{"too far: both alone", []finding.Finding{at("key-id", "KID0001", "a.env:1:5"), at("key-secret", "SEC0001", "a.env:5:5")},
			"key-id KID0001, key-secret SEC0001"},
		{"another file", []finding.Finding{at("key-id", "KID0001", "a.env:1:5"), at("key-secret", "SEC0001", "b.env:2:5")},
			"key-id KID0001, key-secret SEC0001"},
		{"another commit (blob version)", []finding.Finding{at("key-id", "KID0001", "a.env:1:5@c1"), at("key-secret", "SEC0001", "a.env:2:5@c2")},
			"key-id KID0001, key-secret SEC0001"},
		{"same commit", []finding.Finding{at("key-id", "KID0001", "a.env:1:5@c1"), at("key-secret", "SEC0001", "a.env:2:5@c1")},
			"key-id KID0001+SEC0001@2"},
		{"two pairs pair one to one", []finding.Finding{
			at("key-id", "KID0001", "a.ini:1:1"), at("key-secret", "SEC0001", "a.ini:2:1"),
			at("key-id", "KID0002", "a.ini:3:1"), at("key-secret", "SEC0002", "a.ini:4:1")},
			"key-id KID0001+SEC0001@2, key-id KID0002+SEC0002@4"},
		{"two ids share one secret", []finding.Finding{
			at("key-id", "KID0001", "a.ini:1:1"), at("key-secret", "SEC0001", "a.ini:2:1"), at("key-id", "KID0002", "a.ini:3:1")},
			"key-id KID0001+SEC0001@2, key-id KID0002+SEC0001@2"},
		{"nearest wins", []finding.Finding{
			at("key-secret", "SEC0009", "a.ini:1:1"), at("key-id", "KID0001", "a.ini:3:1"), at("key-secret", "SEC0001", "a.ini:4:1")},
			"key-secret SEC0009, key-id KID0001+SEC0001@4"},
		{"columns bound", []finding.Finding{
			at("sid", "SID0001", "x.go:7:1"), at("key-secret", "SEC0001", "x.go:7:20"), at("key-secret", "SEC0002", "x.go:7:80")},
			"sid SID0001+SEC0001@7, key-secret SEC0002"},
		{"companion-only absorbed", []finding.Finding{at("token", "TOK0001", "t.env:9:1"), at("account", "ACC0001", "t.env:1:1")},
			"token TOK0001+ACC0001@1"},
		{"companion-only alone is not reported", []finding.Finding{at("account", "ACC0001", "t.env:1:1"), at("token", "TOK0001", "u.env:1:1")},
			"token TOK0001"},
		{"hygiene ignored", []finding.Finding{at("key-id", "KID0001", "a.env:1:5"),
			{RuleID: "key-secret", Kind: finding.KindHygiene, File: "a.env", Line: 2, Secret: "SEC0001"}},
			"key-id KID0001, key-secret SEC0001"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := append([]finding.Finding(nil), c.in...)
			out := Compose(set, in)
			if got := summary(out); got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
			for _, f := range out {
				if len(f.Parts) > 0 && f.Fingerprint != finding.CompositeFingerprint(f.RuleID, f.Secret, f.Parts) {
					t.Errorf("%s: fingerprint is not over the set", f.RuleID)
				}
				if len(f.Parts) > 0 && f.Fingerprint == finding.Fingerprint(f.RuleID, f.Secret) {
					t.Errorf("%s: the composite has the lone key's fingerprint", f.RuleID)
				}
			}
		})
	}
}

// TestComposeFingerprintStable: the composite fingerprint does not depend on
// line order or position, only on the set of secrets.
func TestComposeFingerprintStable(t *testing.T) {
	set := composeSet(t)
	a := Compose(set, []finding.Finding{at("key-id", "KID0001", "a.env:1:5"), at("key-secret", "SEC0001", "a.env:2:5")})
	b := Compose(set, []finding.Finding{at("key-secret", "SEC0001", "z/b.env:10:1"), at("key-id", "KID0001", "z/b.env:12:9")})
	c := Compose(set, []finding.Finding{at("key-id", "KID0001", "a.env:1:5"), at("key-secret", "SEC0002", "a.env:2:5")})
	if a[0].Fingerprint != b[0].Fingerprint {
		t.Errorf("moved pair: %s != %s", a[0].Fingerprint, b[0].Fingerprint)
	}
	if a[0].Fingerprint == c[0].Fingerprint {
		t.Errorf("another secret key, same fingerprint")
	}
}

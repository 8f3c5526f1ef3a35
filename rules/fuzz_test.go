package rules

import "testing"

// FuzzParse feeds arbitrary TOML to the loader: it must return a rule set or an
// error, never panic, and every error must name the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte("[[rule]]\nid = \"a-b\"\nregex = '''abc(def)'''\n"))
	f.Add([]byte("[[rule]]\nid = \"a-b\"\nregex = '''(?i)token\\s*=\\s*([a-z]{3,})'''\nkeywords=[\"token\"]\n[[rule.allow]]\nregexes=['x']\n"))
	f.Add([]byte("[extend]\nbuiltin = false\ndisabled = [\"x\"]\n"))
	f.Add([]byte("[[rule]\nid = "))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.toml", data)
		if err != nil {
			if s := err.Error(); len(s) < 9 || s[:9] != "fuzz.toml" {
				t.Fatalf("error does not name the file: %q", s)
			}
			return
		}
		for _, r := range p.Rules() {
			if r.Regexp() == nil || len(r.Anchors) == 0 {
				t.Fatalf("rule %q compiled without regex or anchors", r.ID)
			}
		}
	})
}

package gitleaks

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

// realistic is a gitleaks configuration of the kind teams keep: it extends the
// default rules, adds its own with every allowlist form, and disables some.
const realistic = `title = "Acme gitleaks config"

[extend]
useDefault = true
disabledRules = ["zz-gitleaks-only-rule", "github-pat"]

[[rules]]
id = "acme-api-key"
description = "Acme API key"
regex = '''(?i)\b(acme_[a-z0-9]{32})\b'''
secretGroup = 1
entropy = 3
keywords = ["acme_"]
tags = ["acme", "internal"]
  [[rules.allowlists]]
  description = "fixtures and test keys"
  paths = ['''(^|/)testdata/''']
  regexes = ['''^acme_test''']
  [[rules.allowlists]]
  condition = "AND"
  regexTarget = "line"
  regexes = ['''EXAMPLE''']
  paths = ['''\.md$''']

[[rules]]
id = "Internal_Token"
description = "Internal service token"
regex = '''itk-[0-9a-f]{40}'''
keywords = ["tk"]
  [rules.allowlist]
  stopWords = ["c0ffee"]
  commits = ["0123456789abcdef0123456789abcdef01234567"]

[[rules]]
id = "pem-file"
description = "PEM file"
path = '''\.pem$'''

[[rules]]
id = "gitlab-pat"
  [[rules.allowlists]]
  stopwords = ["qqqq"]

[[rules]]
id = "acme-session"
description = "composite: session id next to a key"
regex = '''sess-([a-z0-9]{24})'''
  [[rules.required]]
  id = "acme-api-key"
  withinLines = 2

[[allowlists]]
description = "vendored code"
paths = ['''(^|/)vendor/''', '''node_modules''']

[[allowlists]]
description = "docs may show keys starting with acme_q"
condition = "AND"
paths = ['''^docs/''']
regexes = ['''^acme_q''']

[[allowlists]]
targetRules = ["acme-api-key"]
regexTarget = "match"
regexes = ['''acme_0{8}''']

[[allowlists]]
condition = "AND"
commits = ["fedcba9876543210fedcba9876543210fedcba98"]
paths = ['''^legacy/''']

[[allowlists]]
targetRules = ["gitlab-feed-token", "no-such-rule"]
paths = ['''^fixtures/''']
`

const (
	acmeKey  = "acme_q8z1m3x7r5w1y6n4h0j3k2l9p8o7i6u5"
	acmeKey2 = "acme_z7y5w3u1s9q7o5m3k1i9g7e5c3a1b2d4"
	acmeZero = "acme_00000000m3x7r5w1y6n4h0j3k2l9p8o7"
	itk      = "itk-3f9a1c7e5b2d4086a1f3c5e7b9d20468ace1f357"
	itkStage = "itk-3f9a1c7e5b2d4086a1f3c5e7b9d2c0ffee8ace13"
)

// loadConverted loads a gitleaks file the way `scan --config` does.
func loadConverted(t *testing.T, path string) (*rules.Set, *Result) {
	t.Helper()
	var res *Result
	set, err := rules.Load(rules.LoadOptions{ConfigPath: path, Convert: func(p string, data []byte) ([]byte, bool, error) {
		if !IsConfig(p, data) {
			return nil, false, nil
		}
		r, err := Convert(p, data, Options{})
		if err != nil {
			return nil, true, err
		}
		res = r
		return r.TOML, true, nil
	}})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if res == nil {
		t.Fatal("the converter did not recognise the gitleaks file")
	}
	return set, res
}

func writeTemp(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func ruleByID(set *rules.Set, id string) *rules.Rule {
	for _, r := range set.Rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func TestConvertRealisticConfig(t *testing.T) {
	path := writeTemp(t, t.TempDir(), ".gitleaks.toml", realistic)
	set, res := loadConverted(t, path)
	if !res.Builtin {
		t.Error("useDefault should keep the built-in rules")
	}
	if _, err := rules.Parse("converted.toml", res.TOML); err != nil {
		t.Fatalf("converted TOML does not parse on its own: %v\n%s", err, res.TOML)
	}
	eng, err := engine.New(set, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, path, text string
		want             []string // rule ids found, in order
	}{
		{"own rule", "src/app.go", "key := \"" + acmeKey + "\"\n", []string{"acme-api-key"}},
		{"rule allowlist path (OR)", "testdata/keys.txt", "key=" + acmeKey + "\n", nil},
		{"rule allowlist regex (OR)", "src/app.go", "key=acme_testq8z1m3x7r5w1y6n4h0j3k2l9p8o\n", nil},
		{"AND allowlist: both hold", "README.md", "EXAMPLE key=" + acmeKey + "\n", nil},
		{"AND allowlist: path only", "README.md", "key=" + acmeKey + "\n", []string{"acme-api-key"}},
		{"AND allowlist: line only", "src/app.go", "EXAMPLE key=" + acmeKey + "\n", []string{"acme-api-key"}},
		{"renamed rule", "svc/conf.ini", "ref " + itk + "\n", []string{"internal-token"}},
		{"legacy allowlist stopword", "svc/conf.ini", "ref " + itkStage + "\n", nil},
		{"stopword only where it occurs", "svc/conf.ini", "ref " + itkStage[:len(itkStage)-12] + "a1b2c3d4e5f6\n", []string{"internal-token"}},
		{"global path allowlist", "vendor/lib/x.go", "key=" + acmeKey + "\n", nil},
		{"global AND allowlist holds", "docs/setup.txt", "key=" + acmeKey + "\n", nil},
		{"global AND allowlist: regex fails", "docs/setup.txt", "key=" + acmeKey2 + "\n", []string{"acme-api-key"}},
		{"targetRules allowlist (match target)", "src/app.go", "key=" + acmeZero + "\n", nil},
		{"AND allowlist with commits is dropped", "legacy/old.go", "key=" + acmeKey + "\n", []string{"acme-api-key"}},
		{"composite rule reports alone", "src/s.go", "sess-k3j5h7g9f1d3s5a7q9w1e3r5\n", []string{"acme-session"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, f := range eng.ScanBytes(c.path, []byte(c.text)) {
				got = append(got, f.RuleID)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s in %s: found %v, want %v", strings.TrimSpace(c.text), c.path, got, c.want)
			}
		})
	}

	// useDefault and disabledRules.
	if ruleByID(set, "github-pat") != nil {
		t.Error("github-pat is in disabledRules and should be disabled")
	}
	gl := ruleByID(set, "gitlab-pat")
	if gl == nil {
		t.Fatal("gitlab-pat (merged into the built-in rule) is missing")
	}
	if gl.Verify == nil {
		t.Error("the merged gitlab-pat rule lost the built-in verify spec")
	}
	if !slices.ContainsFunc(gl.Allow, func(a rules.Allow) bool { return slices.Contains(a.Stopwords, "qqqq") }) {
		t.Errorf("gitlab-pat lacks the gitleaks allowlist: %+v", gl.Allow)
	}
	feed := ruleByID(set, "gitlab-feed-token")
	if feed == nil || !slices.ContainsFunc(feed.Allow, func(a rules.Allow) bool { return slices.Contains(a.Paths, "^fixtures/") }) {
		t.Errorf("targetRules allowlist not attached to the built-in gitlab-feed-token rule")
	}
	if ruleByID(set, "aws-access-key-id") == nil {
		t.Error("built-in rules should remain with useDefault")
	}

	// Everything that could not be converted is reported.
	wantNotes := []struct {
		kind  NoteKind
		where string
		what  string
	}{
		{Dropped, `rule "pem-file"`, "path-only rule"},
		{Dropped, `rule "Internal_Token"`, "commits"},
		{Changed, `rule "Internal_Token"`, `renamed to "internal-token"`},
		{Changed, `rule "Internal_Token"`, `keywords ["tk"] are shorter`},
		{Changed, `rule "acme-session"`, "composite rule"},
		{Dropped, "global allowlist #4", "condition = AND with commits"},
		{Dropped, "global allowlist #5", `no rule "no-such-rule"`},
		{Dropped, "disabledRules", `no built-in rule "zz-gitleaks-only-rule"`},
	}
	for _, w := range wantNotes {
		if !slices.ContainsFunc(res.Notes, func(n Note) bool {
			return n.Kind == w.kind && strings.Contains(n.Where, w.where) && strings.Contains(n.What, w.what)
		}) {
			t.Errorf("missing %s note for %s: %q\nnotes:\n%s", w.kind, w.where, w.what, notesText(res.Notes))
		}
	}
	if len(res.Notes) != len(wantNotes) {
		t.Errorf("got %d notes, want %d:\n%s", len(res.Notes), len(wantNotes), notesText(res.Notes))
	}
	for _, n := range res.Dropped() {
		if !strings.Contains(string(res.TOML), comment(n.String())) {
			t.Errorf("the converted file does not list %q", n)
		}
	}
	if got := res.RuleIDs["Internal_Token"]; got != "internal-token" {
		t.Errorf("RuleIDs[Internal_Token] = %q", got)
	}
	if got := res.RuleIDs["aws-access-key-id"]; got != "aws-access-key-id" {
		t.Errorf("built-in ids should map to themselves with useDefault, got %q", got)
	}
	if _, ok := res.RuleIDs["github-pat"]; ok {
		t.Error("a disabled rule must not be in RuleIDs")
	}
}

func notesText(ns []Note) string {
	var b strings.Builder
	for _, n := range ns {
		b.WriteString("  " + n.Kind.String() + ": " + n.String() + "\n")
	}
	return b.String()
}

func TestConvertWithoutUseDefaultReplacesBuiltins(t *testing.T) {
	path := writeTemp(t, t.TempDir(), "custom.toml", `
[[rules]]
id = "acme-api-key"
regex = '''\b(acme_[a-z0-9]{32})\b'''
keywords = ["acme_"]
`)
	set, res := loadConverted(t, path)
	if res.Builtin || len(set.Rules) != 1 || set.Rules[0].ID != "acme-api-key" {
		t.Fatalf("want only the config's rule, got %d rules (builtin=%v)", len(set.Rules), res.Builtin)
	}
	if len(res.Notes) != 0 {
		t.Errorf("unexpected notes:\n%s", notesText(res.Notes))
	}
}

func TestExtendPath(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "base/org.toml", `
[extend]
path = "base/root.toml"

[[rules]]
id = "org-token"
description = "Org token"
regex = '''org_[a-z0-9]{30}'''
tags = ["org"]
[[rules.allowlists]]
paths = ['''^third_party/''']

[[rules]]
id = "old-token"
regex = '''old_[a-z0-9]{30}'''

[[allowlists]]
paths = ['''^generated/''']
`)
	writeTemp(t, dir, "base/root.toml", `
[extend]
path = "nowhere.toml"

[[rules]]
id = "root-token"
regex = '''root_[a-z0-9]{30}'''
`)
	top := writeTemp(t, dir, "repo/.gitleaks.toml", `
[extend]
path = "../base/org.toml"
disabledRules = ["old-token", "missing-rule"]

[[rules]]
id = "org-token"
regex = '''org_[a-z0-9]{32}'''
tags = ["team"]
[[rules.allowlists]]
stopwords = ["sandbox"]
`)
	// extend.path resolves against the working directory (as gitleaks does), else
	// against the extending file: "../base/org.toml" from repo/, and
	// "base/root.toml" from the working directory.
	t.Chdir(dir)
	set, res := loadConverted(t, top)
	var ids []string
	for _, r := range set.Rules {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(ids, []string{"org-token", "root-token"}) {
		t.Fatalf("rules %v, want [org-token root-token]\n%s", ids, res.TOML)
	}
	org := set.Rules[0]
	if org.Regex != `org_[a-z0-9]{32}` || org.Description != "Org token" || !slices.Equal(org.Tags, []string{"org", "team"}) {
		t.Errorf("merge: regex %q description %q tags %v", org.Regex, org.Description, org.Tags)
	}
	if len(org.Allow) != 2 {
		t.Errorf("merge: want both allowlists, got %+v", org.Allow)
	}
	if len(set.Allow) != 1 || set.Allow[0].Paths[0] != "^generated/" {
		t.Errorf("global allowlists of the extended file: %+v", set.Allow)
	}
	for _, want := range []string{`defines no rule "missing-rule"`, "at most 2 levels deep"} {
		if !slices.ContainsFunc(res.Notes, func(n Note) bool { return strings.Contains(n.What, want) }) {
			t.Errorf("missing note %q:\n%s", want, notesText(res.Notes))
		}
	}
}

func TestConvertErrors(t *testing.T) {
	cases := []struct{ name, config, want string }{
		{"toml syntax", "[[rules]]\nid = \"x\"\nregex = '''unterminated\n", "cfg.toml:3"},
		{"bad condition", "[[rules]]\nid='a'\nregex='abc'\n[[rules.allowlists]]\ncondition='XOR'\npaths=['x']\n", `condition "XOR"`},
		{"bad target", "[allowlist]\nregexTarget='file'\nregexes=['x']\n", `regexTarget "file"`},
		{"empty allowlist", "[[allowlists]]\ndescription='nothing'\n", "at least one of"},
		{"regex", "[[rules]]\nid='a'\nregex='(unclosed'\n", "regex does not compile"},
		{"allow regex", "[[allowlists]]\nregexes=['[z-a]']\n", "does not compile"},
		{"no id", "[[rules]]\nregex='abc'\n", "no id"},
		{"path and useDefault", "[extend]\nuseDefault=true\npath='x.toml'\n", "both path and useDefault"},
		{"missing extend path", "[extend]\npath='definitely-missing.toml'\n", "[extend] path"},
		{"wrong type", "[[rules]]\nid='a'\nregex='abc'\nentropy='high'\n", "entropy must be a number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Convert(filepath.Join(t.TempDir(), "cfg.toml"), []byte(c.config), Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestConvertRuleNotes(t *testing.T) {
	cases := []struct {
		name, config string
		rules        int
		kind         NoteKind
		want         string
	}{
		{"short keywords, no literal", "[[rules]]\nid='a'\nregex='[a-z]{2}[0-9]{30}'\nkeywords=['ab']\n", 0, Dropped, "no literal of 3+ bytes"},
		{"short and long keywords, no literal", "[[rules]]\nid='a'\nregex='[a-z]{2}[0-9]{30}'\nkeywords=['ab','token']\n", 1, Changed, "runs only near"},
		{"no literal, no keywords", "[[rules]]\nid='a'\nregex='[0-9a-f]{40}'\n", 0, Dropped, "tokenward rejects the rule"},
		{"secret group out of range", "[[rules]]\nid='a'\nregex='abc(d)'\nsecretGroup=3\n", 0, Dropped, "secret_group 3"},
		{"skipReport", "[[rules]]\nid='a'\nregex='abcd'\nskipReport=true\n", 0, Dropped, "skipReport"},
		{"entropy above 8", "[[rules]]\nid='a'\nregex='abcd'\nentropy=9\n", 0, Dropped, "above 8"},
		{"duplicate id", "[[rules]]\nid='a'\nregex='abcd'\n[[rules]]\nid='a'\nregex='efgh'\n", 1, Dropped, "later definition"},
		{"id collision after renaming", "[[rules]]\nid='A_b'\nregex='abcd'\n[[rules]]\nid='a-b'\nregex='efgh'\n", 2, Changed, `renamed to "a-b-2"`},
		{"unknown key", "[[rules]]\nid='a'\nregex='abcd'\nseverity='high'\n", 1, Dropped, `unknown key "severity"`},
		{"adjusting a default rule tokenward lacks", "[extend]\nuseDefault=true\n[[rules]]\nid='zz-gitleaks-only-rule'\n[[rules.allowlists]]\nstopwords=['x']\n", 0, Dropped, "no built-in rule with that id"},
		{"id clashing with a built-in rule after renaming", "[extend]\nuseDefault=true\n[[rules]]\nid='GitHub_PAT'\nregex='abcd'\n", 1, Changed, `renamed to "github-pat-2"`},
		{"shared targetRules allowlist noted once", "[[rules]]\nid='a'\nregex='abcd'\n[[rules]]\nid='b'\nregex='efgh'\n[[allowlists]]\ntargetRules=['a','b']\ncommits=['0123456789abcdef0123456789abcdef01234567']\n", 2, Dropped, "commits"},
		{"extend url", "[extend]\nurl='https://example.com/x.toml'\n", 0, Dropped, "extend.url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Convert("cfg.toml", []byte(c.config), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rules != c.rules {
				t.Errorf("%d rules written, want %d\n%s", res.Rules, c.rules, res.TOML)
			}
			var matching int
			for _, n := range res.Notes {
				if n.Kind == c.kind && strings.Contains(n.What, c.want) {
					matching++
				}
			}
			if matching != 1 {
				t.Errorf("%d %s notes containing %q, want 1:\n%s", matching, c.kind, c.want, notesText(res.Notes))
			}
		})
	}
}

func TestMergeBuiltinRegexOverride(t *testing.T) {
	res, err := Convert("cfg.toml", []byte(`
[extend]
useDefault = true
[[rules]]
id = "github-pat"
regex = '''\b(ghp_[A-Za-z0-9]{36})\b'''
keywords = ["github_token"]
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rules.Parse("cfg.toml", res.TOML)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rules()[0]
	if r.ID != "github-pat" || r.Regex != `\b(ghp_[A-Za-z0-9]{36})\b` || r.Validate != "" || r.Verify == nil {
		t.Errorf("merged rule: id %q regex %q validate %q verify %v", r.ID, r.Regex, r.Validate, r.Verify != nil)
	}
	if !slices.Equal(r.Keywords, []string{"ghp_", "github_token"}) {
		t.Errorf("keywords %q: want the built-in's and the config's", r.Keywords)
	}
	if len(r.Examples) != 0 {
		t.Error("examples of the built-in rule should not be copied")
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{
		``, `plain`, `(?i)['"]?key['"]?\s*[:=]`, `it's`, `''`, `a''`, `'''`, `x'''y`, "tab\there",
		"new\nline", `back\slash"quote`, "\x01ctl\x7f", `'leading`, `trailing'`, `ünïcödé ☃`,
	} {
		doc := "v = " + quote(s) + "\n"
		var got struct{ V string }
		if _, err := toml.Decode(doc, &got); err != nil {
			t.Errorf("quote(%q) = %s: %v", s, doc, err)
			continue
		}
		if got.V != s {
			t.Errorf("quote(%q) round-trips to %q", s, got.V)
		}
	}
}

func TestIsConfig(t *testing.T) {
	cases := []struct {
		name, data string
		want       bool
	}{
		{".gitleaks.toml", "", true},
		{"ci/gitleaks-strict.toml", "", true},
		{"rules.toml", "[[rules]]\nid='a'\n", true},
		{"rules.toml", "[[ Rules ]]\n", true},
		{"rules.toml", "[allowlist]\npaths=['x']\n", true},
		{"rules.toml", "[extend]\nuseDefault = true\n", true},
		{"rules.toml", "[[rules.allowlists]]\n", true},
		{".tokenward.toml", "[extend]\nbuiltin = true\n[[rule]]\nid='a'\nregex='abc'\n[[rule.allow]]\npaths=['x']\n[[allow]]\npaths=['y']\n", false},
		{".tokenward.toml", "# [[rules]] in a comment\n", false},
	}
	for _, c := range cases {
		if got := IsConfig(c.name, []byte(c.data)); got != c.want {
			t.Errorf("IsConfig(%q, %q) = %v", c.name, c.data, got)
		}
	}
}

func TestConvertedRuleFindsWhatGitleaksWould(t *testing.T) {
	// The secret group, entropy and keyword semantics survive conversion.
	res, err := Convert("cfg.toml", []byte(`
[[rules]]
id = "acme"
regex = '''(?:ACME|acme)_(?:KEY|key)\s*=\s*"([A-Za-z0-9]{20})"'''
secretGroup = 1
entropy = 3.5
keywords = ["ACME_KEY"]
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rules.Parse("cfg.toml", res.TOML)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(&rules.Set{Rules: p.Rules()}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs := eng.ScanBytes("a.env", []byte("ACME_KEY = \"Zk4mQ8rT2vW6yB0nC5xL\"\nacme_key = \"aaaaabbbbbaaaaabbbbb\"\n"))
	if len(fs) != 1 || fs[0].Secret != "Zk4mQ8rT2vW6yB0nC5xL" || fs[0].Line != 1 {
		t.Fatalf("findings: %+v", summary(fs))
	}
}

func summary(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+"@"+f.File+":"+strconv.Itoa(f.Line))
	}
	return out
}

// TestConvertRequired: [[rules.required]] becomes [[rule.require]] with the
// companion's tokenward id and distances; a skipReport companion is kept.
func TestConvertRequired(t *testing.T) {
	res, err := Convert("cfg.toml", []byte(`
[[rules]]
id = "Acme_Session"
regex = '''sess-([a-z0-9]{24})'''
  [[rules.required]]
  id = "Acme_Key"
  withinLines = 2
  withinColumns = 40
  [[rules.required]]
  id = "nowhere"

[[rules]]
id = "Acme_Key"
regex = '''acme_([a-z0-9]{32})'''
skipReport = true
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rules.Parse("out.toml", res.TOML)
	if err != nil {
		t.Fatalf("%v\n%s", err, res.TOML)
	}
	var got []string
	for _, r := range p.Rules() {
		for _, q := range r.Require {
			got = append(got, fmt.Sprintf("%s requires %s within %d lines, %d columns", r.ID, q.ID, *q.WithinLines, *q.WithinColumns))
		}
	}
	if want := "acme-session requires acme-key within 2 lines, 40 columns"; len(got) != 1 || got[0] != want {
		t.Errorf("requires %q, want %q\n%s", got, want, res.TOML)
	}
	if !strings.Contains(string(res.TOML), "companion = true") {
		t.Errorf("the skipReport rule is not companion-only:\n%s", res.TOML)
	}
	if res.Rules != 2 {
		t.Errorf("%d rules written, want 2 (the skipReport companion is kept)", res.Rules)
	}
	notes := notesText(res.Notes)
	for _, want := range []string{`required rule "nowhere" was not converted`, "converted to [[rule.require]]", "converted to companion = true"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

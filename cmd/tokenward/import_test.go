package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gitleaksConfig is a gitleaks configuration with its own rule, allowlists of
// several forms, and something that cannot be converted (a commit allowlist).
const gitleaksConfig = `title = "team config"

[[rules]]
id = "acme_api_key"
description = "Acme API key"
regex = '''\b(acme_[a-z0-9]{32})\b'''
keywords = ["acme_"]
  [[rules.allowlists]]
  paths = ['''(^|/)fixtures/''']
  commits = ["0123456789abcdef0123456789abcdef01234567"]

[allowlist]
description = "examples"
regexTarget = "line"
regexes = ['''EXAMPLE-ONLY''']
`

const (
	acmeOld = "acme_q8z1m3x7r5w1y6n4h0j3k2l9p8o7i6u5"
	acmeNew = "acme_z7y5w3u1s9q7o5m3k1i9g7e5c3a1b2d4"
)

func TestImportGitleaks(t *testing.T) {
	dir := newGitRepo(t)
	writeGitFile(t, filepath.Join(dir, ".gitleaks.toml"), gitleaksConfig)
	writeGitFile(t, filepath.Join(dir, "app/settings.py"), "ACME = '"+acmeOld+"'\n")
	writeGitFile(t, filepath.Join(dir, "fixtures/keys.txt"), acmeNew+"\n")
	writeGitFile(t, filepath.Join(dir, "README.md"), "EXAMPLE-ONLY: "+acmeNew+"\n")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "one")
	commit := gitIn(t, dir, "rev-parse", "HEAD")
	// The key moves down two lines afterwards; the commit fingerprint still finds it.
	writeGitFile(t, filepath.Join(dir, "app/settings.py"), "import os\n\nACME = '"+acmeOld+"'\n")
	gitIn(t, dir, "commit", "-q", "-am", "two")
	writeGitFile(t, filepath.Join(dir, ".gitleaksignore"),
		"# accepted\n"+commit+":app/settings.py:acme_api_key:1\napp/settings.py:acme_api_key:1\n")

	// scan --config .gitleaks.toml converts in memory.
	r := tokenward(t, dir, "", "scan", "--config", ".gitleaks.toml", "--format", "json", ".")
	if r.code != 1 {
		t.Fatalf("scan --config .gitleaks.toml: exit %d, want 1\n%s", r.code, r.stderr)
	}
	var fs []struct {
		RuleID string `json:"rule_id"`
		File   string `json:"file"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil {
		t.Fatal(err, r.stdout)
	}
	if len(fs) != 1 || fs[0].RuleID != "acme-api-key" || fs[0].File != "app/settings.py" {
		t.Errorf("findings %+v: want one acme-api-key in app/settings.py (fixtures/ and the EXAMPLE-ONLY line are allowlisted)", fs)
	}
	if !strings.Contains(r.stderr, "gitleaks configuration, converted in memory: 1 item not converted") {
		t.Errorf("stderr should summarise the conversion:\n%s", r.stderr)
	}

	// import-gitleaks writes the TOML and the baseline.
	r = tokenward(t, dir, "", "rules", "import-gitleaks", ".gitleaks.toml", "--output", ".tokenward.toml")
	if r.code != 0 {
		t.Fatalf("import-gitleaks: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		`commits ["0123456789abcdef0123456789abcdef01234567"]`,
		`renamed to "acme-api-key"`,
		"1 rule written to .tokenward.toml (replacing the built-in rules), 1 item not converted",
		".gitleaksignore: 1 of 2 entries recovered, 1 baseline entries added to .tokenward-baseline.json",
		".gitleaksignore:3: app/settings.py:acme_api_key:1: rule \"acme-api-key\" finds nothing on line 1",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("import-gitleaks stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	converted, err := os.ReadFile(filepath.Join(dir, ".tokenward.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(converted), "# Not converted:") {
		t.Errorf("the converted file should list what was not converted:\n%s", converted)
	}
	if strings.Contains(r.stderr, acmeOld) || strings.Contains(string(converted), acmeOld) {
		t.Error("a secret was printed")
	}

	// The converted file is the scan's configuration now (found in the root; as it
	// replaces the built-in rules, it needs the operator's trust), and the
	// recovered entry suppresses the moved key.
	if !strings.Contains(r.stderr, "--trust-repo-config") {
		t.Errorf("import-gitleaks should say a replacing config needs --trust-repo-config:\n%s", r.stderr)
	}
	if r = tokenward(t, dir, "", "scan", "."); r.code != 2 || !strings.Contains(r.stderr, "extend.builtin") {
		t.Fatalf("scan with an untrusted replacing .tokenward.toml: exit %d, want 2\n%s", r.code, r.stderr)
	}
	r = tokenward(t, dir, "", "scan", "--trust-repo-config", ".")
	if r.code != 1 {
		t.Fatalf("scan with .tokenward.toml: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = tokenward(t, dir, "", "scan", "--trust-repo-config", "--baseline", ".tokenward-baseline.json", ".")
	if r.code != 0 {
		t.Fatalf("scan --baseline: exit %d, want 0 (the .gitleaksignore entry became a baseline entry)\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = tokenward(t, dir, "", "git", "--config", ".gitleaks.toml", "--baseline", ".tokenward-baseline.json")
	if r.code != 0 {
		t.Fatalf("git --config .gitleaks.toml --baseline: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Importing again changes nothing.
	before, _ := os.ReadFile(filepath.Join(dir, ".tokenward-baseline.json"))
	r = tokenward(t, dir, "", "rules", "import-gitleaks", ".gitleaks.toml", "-o", ".tokenward.toml")
	after, _ := os.ReadFile(filepath.Join(dir, ".tokenward-baseline.json"))
	if r.code != 0 || string(before) != string(after) {
		t.Errorf("re-import: exit %d, baseline changed: %v", r.code, string(before) != string(after))
	}
}

func TestImportGitleaksErrors(t *testing.T) {
	dir := tree(t, map[string]string{
		".gitleaks.toml": gitleaksConfig,
		"bad.toml":       "[[rules]]\nid = 'a'\nregex = '''(unclosed'''\n",
	})
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"rules", "import-gitleaks", "nope.toml"}, "nope.toml"},
		{"bad regex", []string{"rules", "import-gitleaks", "bad.toml"}, "regex does not compile"},
		{"overwrite input", []string{"rules", "import-gitleaks", ".gitleaks.toml", "-o", ".gitleaks.toml"}, "would overwrite"},
		{"missing ignore file", []string{"rules", "import-gitleaks", ".gitleaks.toml", "--gitleaksignore", "nope"}, "--gitleaksignore"},
		{"scan with a broken gitleaks config", []string{"scan", "--config", "bad.toml", "."}, "bad.toml: rule \"a\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := tokenward(t, dir, "", c.args...)
			if r.code != 2 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, stderr %q: want exit 2 mentioning %q", r.code, r.stderr, c.want)
			}
		})
	}
}

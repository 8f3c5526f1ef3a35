package gitleaks

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

func TestParseIgnore(t *testing.T) {
	in := "\uFEFF# accepted findings\n" +
		"\n" +
		"0123456789abcdef0123456789abcdef01234567:config/app.env:acme-api-key:3\n" +
		"config\\win.env:acme-api-key:12\n" +
		"just-garbage\n" +
		"a:b:c:d:e\n" +
		"config/app.env:acme-api-key:zero\n" +
		"*:config/app.env:*:*\n" +
		"config/app.env::4\n"
	entries, bad, err := ParseIgnore(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []IgnoreEntry{
		{Line: 3, Text: "0123456789abcdef0123456789abcdef01234567:config/app.env:acme-api-key:3", Commit: "0123456789abcdef0123456789abcdef01234567", File: "config/app.env", RuleID: "acme-api-key", StartLine: 3},
		{Line: 4, Text: `config\win.env:acme-api-key:12`, File: "config/win.env", RuleID: "acme-api-key", StartLine: 12},
	}
	if !slices.Equal(entries, want) {
		t.Errorf("entries:\n got %+v\nwant %+v", entries, want)
	}
	var badLines []int
	for _, b := range bad {
		badLines = append(badLines, b.Line)
	}
	if !slices.Equal(badLines, []int{5, 6, 7, 8, 9}) {
		t.Errorf("unrecoverable lines %v, want [5 6 7 8 9]: %v", badLines, bad)
	}
	if !strings.Contains(bad[3].Reason, "glob") {
		t.Errorf("glob entry reason: %q", bad[3].Reason)
	}
}

func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestRecoverIgnoreEntries(t *testing.T) {
	dir := t.TempDir()
	runGit(t, dir, "init", "-q", "-b", "main")
	// First commit: the key on line 3. Second commit: it moves to line 5 and an
	// Acme key that gitleaks found with a rule tokenward lacks appears on line 1.
	writeTemp(t, dir, "config/app.env", "# app\nNAME=app\nACME="+acmeKey+"\n")
	runGit(t, dir, "add", ".")
	runGit(t, dir, "commit", "-q", "-m", "one")
	first := runGit(t, dir, "rev-parse", "HEAD")
	writeTemp(t, dir, "config/app.env", "LEGACY="+acmeKey2+"\n# app\nNAME=app\n\nACME="+acmeKey+"\n")
	writeTemp(t, dir, "gone.env", "ACME="+acmeKey2+"\n")
	runGit(t, dir, "add", ".")
	runGit(t, dir, "commit", "-q", "-m", "two")
	runGit(t, dir, "rm", "-q", "gone.env")
	runGit(t, dir, "commit", "-q", "-m", "three")

	p, err := rules.Parse("acme.toml", []byte("[[rule]]\nid = 'acme-api-key'\nregex = '''\\b(acme_[a-z0-9]{32})\\b'''\n"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(&rules.Set{Rules: p.Rules()}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ignore := strings.Join([]string{
		first + ":config/app.env:acme-api-key:3",      // 1 commit entry: the key in its old place
		"config/app.env:acme-api-key:5",               // 2 work-tree entry
		"config/app.env:acme-old-rule:1",              // 3 rule unknown to tokenward: any finding on the line
		"config/app.env:acme-api-key:2",               // 4 nothing there
		"gone.env:acme-api-key:1",                     // 5 not in the work tree
		first[:12] + ":gone.env:acme-api-key:1",       // 6 not in that commit
		strings.Repeat("f", 40) + ":x:acme-api-key:1", // 7 unknown commit
		"../outside.env:acme-api-key:1",               // 8 escapes the root
	}, "\n")
	entries, bad, err := ParseIgnore(strings.NewReader(ignore))
	if err != nil || len(bad) != 0 {
		t.Fatal(err, bad)
	}
	src := &Source{Root: filepath.Join(dir, "config", "..")}
	rec, unrec := Recover(entries, src.Read, map[string]string{"acme-api-key": "acme-api-key"},
		func(path string, data []byte) []finding.Finding { return eng.ScanBytes(path, data) })

	got := map[int]string{}
	for _, r := range rec {
		var secrets []string
		for _, f := range r.Findings {
			secrets = append(secrets, f.Secret)
		}
		got[r.Entry.Line] = strings.Join(secrets, ",")
		if r.Entry.Line == 3 && !strings.Contains(r.Note, "no tokenward counterpart") {
			t.Errorf("entry 3 should carry a note, got %q", r.Note)
		}
	}
	want := map[int]string{1: acmeKey, 2: acmeKey, 3: acmeKey2}
	if len(got) != len(want) {
		t.Errorf("recovered %v, want %v", got, want)
	}
	for line, secret := range want {
		if got[line] != secret {
			t.Errorf("entry %d recovered %q, want %q", line, got[line], secret)
		}
	}
	reasons := map[int]string{}
	for _, u := range unrec {
		reasons[u.Line] = u.Reason
	}
	for line, wantReason := range map[int]string{
		4: "finds nothing on line 2",
		5: "not in the work tree",
		6: "does not exist in commit",
		7: "is not in the repository",
		8: "leaves the scanned root",
	} {
		if !strings.Contains(reasons[line], wantReason) {
			t.Errorf("entry %d: reason %q, want it to mention %q", line, reasons[line], wantReason)
		}
	}
	if len(unrec) != 5 {
		t.Errorf("%d unrecovered, want 5: %v", len(unrec), unrec)
	}
}

func TestRecoverOutsideGit(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "a.env", "ACME="+acmeKey+"\n")
	entries, _, _ := ParseIgnore(strings.NewReader(strings.Repeat("a", 40) + ":a.env:acme-api-key:1\n"))
	src := &Source{Root: dir}
	_, unrec := Recover(entries, src.Read, nil, func(string, []byte) []finding.Finding { return nil })
	if len(unrec) != 1 || !strings.Contains(unrec[0].Reason, "not a git repository") {
		t.Errorf("unrecovered: %v", unrec)
	}
}

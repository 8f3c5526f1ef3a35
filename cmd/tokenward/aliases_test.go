package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestForeignNamesMeanTheSame runs gitleaks and TruffleHog command lines and the
// tokenward ones they stand for, and compares exit status and report.
func TestForeignNamesMeanTheSame(t *testing.T) {
	repo := newGitRepo(t)
	writeGitFile(t, filepath.Join(repo, "old.sh"), leaked)
	gitIn(t, repo, "add", "-A")
	gitIn(t, repo, "commit", "-q", "-m", "old")
	old := gitIn(t, repo, "rev-parse", "HEAD")
	writeGitFile(t, filepath.Join(repo, "new.sh"), curl("Q2w9E4r7T1y5U8i3O6p0A2s4D6f8G1h3"))
	gitIn(t, repo, "add", "-A")
	gitIn(t, repo, "commit", "-q", "-m", "new")
	writeGitFile(t, filepath.Join(repo, "staged.sh"), curl("Z9x8C7v6B5n4M3q2W1e0R9t8Y7u6I5o4"))
	gitIn(t, repo, "add", "staged.sh")
	big := tree(t, map[string]string{"small.sh": leaked, "big.sh": leaked + strings.Repeat("x", 1_200_000) + "\n"})

	cases := []struct {
		name         string
		dir, stdin   string
		foreign, own []string
		code         int
	}{
		{"gitleaks dir", repo, "", []string{"dir", ".", "--report-format", "json"}, []string{"scan", ".", "--format", "json"}, 1},
		{"gitleaks detect --no-git --source", big, "", []string{"detect", "--no-git", "--source", big, "-f", "json"}, []string{"scan", big, "-f", "json"}, 1},
		{"gitleaks detect", repo, "", []string{"detect", "--source=" + repo, "-f", "json"}, []string{"git", repo, "-f", "json"}, 1},
		{"gitleaks protect --staged", repo, "", []string{"protect", "--staged", "-f", "json"}, []string{"git", "--staged", "-f", "json"}, 1},
		{"gitleaks git --log-opts", repo, "", []string{"git", ".", "--log-opts", old + "..HEAD", "-f", "json"}, []string{"git", ".", "--range", old + "..HEAD", "-f", "json"}, 1},
		{"gitleaks stdin", repo, leaked, []string{"stdin", "-f", "json"}, []string{"scan", "-", "-f", "json"}, 1},
		{"gitleaks --max-target-megabytes", big, "", []string{"scan", ".", "--max-target-megabytes", "1", "-f", "json"}, []string{"scan", ".", "--max-file-size", "1MB", "-f", "json"}, 1},
		{"gitleaks --redact --no-banner", big, "", []string{"scan", ".", "--redact", "--no-banner", "-f", "json"}, []string{"scan", ".", "-f", "json"}, 1},
		{"gitleaks --redact=100", big, "", []string{"scan", ".", "--redact=100", "-f", "json"}, []string{"scan", ".", "-f", "json"}, 1},
		{"TruffleHog filesystem --json", big, "", []string{"filesystem", ".", "--json"}, []string{"scan", ".", "-f", "jsonl"}, 1},
		{"TruffleHog git file://", repo, "", []string{"git", "file://" + repo, "--json", "--no-update"}, []string{"git", repo, "-f", "jsonl"}, 1},
		{"TruffleHog --since-commit", repo, "", []string{"git", ".", "--since-commit", old, "--json"}, []string{"git", ".", "--range", old + "..HEAD", "-f", "jsonl"}, 1},
		{"TruffleHog --github-actions", big, "", []string{"filesystem", ".", "--github-actions"}, []string{"scan", ".", "-f", "github"}, 1},
		{"TruffleHog --concurrency", big, "", []string{"scan", ".", "--concurrency", "1", "-f", "json"}, []string{"scan", ".", "-j", "1", "-f", "json"}, 1},
		{"TruffleHog --fail", big, "", []string{"filesystem", ".", "--fail", "--json"}, []string{"scan", ".", "--exit-code", "183", "-f", "jsonl"}, 183},
		{"TruffleHog --no-verification", big, "", []string{"filesystem", ".", "--no-verification", "--json"}, []string{"scan", ".", "-f", "jsonl"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := tokenward(t, c.dir, c.stdin, c.foreign...)
			o := tokenward(t, c.dir, c.stdin, c.own...)
			if f.code != c.code || o.code != c.code {
				t.Fatalf("exit %d (%v) and %d (%v), want %d\n%s\n%s", f.code, c.foreign, o.code, c.own, c.code, f.stderr, o.stderr)
			}
			if f.stdout != o.stdout || f.stdout == "" {
				t.Errorf("%v and %v differ:\n%s\n---\n%s", c.foreign, c.own, f.stdout, o.stdout)
			}
		})
	}

	// --report-path writes the file that --output would.
	out1, out2 := filepath.Join(t.TempDir(), "a.json"), filepath.Join(t.TempDir(), "b.json")
	tokenward(t, big, "", "scan", ".", "-f", "json", "--report-path", out1)
	tokenward(t, big, "", "scan", ".", "-f", "json", "-r", out2)
	a, err1 := os.ReadFile(out1)
	b, err2 := os.ReadFile(out2)
	if err1 != nil || err2 != nil || len(a) == 0 || string(a) != string(b) {
		t.Errorf("--report-path/-r: %v %v", err1, err2)
	}
}

// TestForeignNamesWithHints: what tokenward does differently is refused with a
// hint naming what to use.
func TestForeignNamesWithHints(t *testing.T) {
	dir := tree(t, map[string]string{"a.sh": leaked})
	cases := []struct {
		args []string
		hint string
	}{
		{[]string{"scan", ".", "--baseline-path", "gl.json"}, "tokenward calls this --baseline"},
		{[]string{"scan", ".", "--gitleaks-ignore-path", ".gitleaksignore"}, "import-gitleaks --gitleaksignore"},
		{[]string{"scan", ".", "--timeout", "60"}, "timeout(1)"},
		{[]string{"scan", ".", "--exclude-paths", "x.txt"}, ".tokenwardignore"},
		{[]string{"git", ".", "--branch", "main"}, "--range BASE..BRANCH"},
		{[]string{"git", ".", "--log-opts", "--all --since=2024-01-01"}, "tokenward calls this --range"},
		{[]string{"git", "https://github.com/acme/app.git"}, "clone it first"},
		{[]string{"github", "--org", "acme"}, "sweep --github-org"},
		{[]string{"gitlab", "--group", "acme"}, "sweep --gitlab-group"},
		{[]string{"filesystem", ".", "--results", "filtered_unverified"}, "no such result"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := tokenward(t, dir, "", c.args...)
			if r.code != 2 || !strings.Contains(r.stderr, c.hint) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("exit %d, want 2 with a one-line hint containing %q\nstderr: %s", r.code, c.hint, r.stderr)
			}
		})
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/rules"
)

// hygieneTree holds only hygiene problems: no provider-shaped secret.
var hygieneTree = map[string]string{
	".netrc":    "machine api.vendor.io login deploy password 8f3kq0d9s8a7\n",
	"client.py": "r = get(\"https://api.vendor.io/v1/items?access_token=9f8e7d6c5b4a3f2e1d0c\")\n",
	"deploy.sh": "curl -H \"Authorization: Bearer: $TOKEN\" https://api.vendor.io\n",
}

// The pre-commit path (git --staged, and so the hook) runs the hygiene checks
// that scan runs.
func TestGitRunsHygieneChecks(t *testing.T) {
	dir := newGitRepo(t)
	for name, content := range hygieneTree {
		writeGitFile(t, filepath.Join(dir, name), content)
	}
	gitIn(t, dir, "add", "-A")
	for _, args := range [][]string{{"scan", "."}, {"git", "--staged"}} {
		r := tokenward(t, dir, "", append(args, "--format", "jsonl")...)
		if r.code != 1 {
			t.Fatalf("%v: exit %d, want 1\n%s%s", args, r.code, r.stdout, r.stderr)
		}
		for _, id := range []string{"netrc-password", "url-credential-query", "auth-header-bad-scheme"} {
			if !strings.Contains(r.stdout, `"rule_id":"`+id+`"`) {
				t.Errorf("%v: no %s finding:\n%s", args, id, r.stdout)
			}
		}
	}
	gitIn(t, dir, "commit", "-q", "--no-verify", "-m", "leak")
	if r := tokenward(t, dir, "", "git", "--format", "jsonl"); r.code != 1 || !strings.Contains(r.stdout, "netrc-password") {
		t.Fatalf("git history: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// git honours the path patterns of .tokenwardignore as scan does, for
// history, ranges and the index.
func TestGitHonoursIgnorePaths(t *testing.T) {
	dir := newGitRepo(t)
	gitIn(t, dir, "commit", "-q", "--allow-empty", "-m", "base")
	writeGitFile(t, filepath.Join(dir, ".tokenwardignore"), "vendor/\n*.fixture\n")
	writeGitFile(t, filepath.Join(dir, "vendor/lib/deploy.sh"), leaked)
	writeGitFile(t, filepath.Join(dir, "testdata/a.fixture"), leaked)
	gitIn(t, dir, "add", "-A")
	for _, args := range [][]string{{"scan", "."}, {"git", "--staged"}} {
		if r := tokenward(t, dir, "", args...); r.code != 0 {
			t.Fatalf("%v: exit %d, want 0 (every finding is at an ignored path)\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	gitIn(t, dir, "commit", "-q", "--no-verify", "-m", "vendored")
	// A range reads .tokenwardignore as BASE holds it: the commit that adds the
	// ignore file cannot ignore its own paths (see trust_test.go).
	if r := tokenward(t, dir, "", "git", "--range", "HEAD~1..HEAD"); r.code != 1 {
		t.Fatalf("range adding its own ignore file: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	writeGitFile(t, filepath.Join(dir, "vendor/lib/more.sh"), leaked)
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "--no-verify", "-m", "more vendored")
	for _, args := range [][]string{{"git"}, {"git", "--range", "HEAD~1..HEAD"}} {
		if r := tokenward(t, dir, "", args...); r.code != 0 || !strings.Contains(r.stdout, "suppressed") {
			t.Fatalf("%v: exit %d, want 0 with suppressed findings\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	// A file outside the patterns is still reported.
	writeGitFile(t, filepath.Join(dir, "deploy.sh"), leaked)
	gitIn(t, dir, "add", "-A")
	if r := tokenward(t, dir, "", "git", "--staged"); r.code != 1 {
		t.Fatalf("unignored file: exit %d, want 1\n%s", r.code, r.stdout)
	}
}

// A baseline made by baseline create holds every finding kind, so scan
// --baseline passes right after it; prune keeps entries whose findings exist.
func TestBaselineCoversHygiene(t *testing.T) {
	dir := tree(t, hygieneTree)
	writeGitFile(t, filepath.Join(dir, "deploy2.sh"), leaked)
	bl := filepath.Join(dir, "bl.json")
	if r := tokenward(t, dir, "", "baseline", "create", ".", "-o", bl); r.code != 0 {
		t.Fatalf("baseline create: exit %d\n%s", r.code, r.stderr)
	}
	if r := tokenward(t, dir, "", "scan", ".", "--baseline", bl); r.code != 0 {
		t.Fatalf("scan --baseline right after create: exit %d, want 0\n%s", r.code, r.stdout)
	}
	before, _ := os.ReadFile(bl)
	if r := tokenward(t, dir, "", "baseline", "prune", ".", "-o", bl); r.code != 0 || !strings.Contains(r.stderr, "0 removed") {
		t.Fatalf("prune with every finding still present: exit %d\n%s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(bl); string(after) != string(before) {
		t.Fatalf("prune changed a baseline whose findings all exist:\n%s\n---\n%s", before, after)
	}
}

// hook install --baseline FILE writes a hook that uses the baseline.
func TestHookInstallBaseline(t *testing.T) {
	dir := newGitRepo(t)
	writeGitFile(t, filepath.Join(dir, "deploy.sh"), leaked)
	gitIn(t, dir, "add", "-A")
	if r := tokenward(t, dir, "", "baseline", "create", ".", "-o", "known.json"); r.code != 0 {
		t.Fatalf("baseline create: exit %d\n%s", r.code, r.stderr)
	}
	if r := tokenward(t, dir, "", "hook", "install", "--baseline", "missing.json"); r.code != 2 {
		t.Fatalf("hook install with a missing baseline: exit %d, want 2", r.code)
	}
	if r := tokenward(t, dir, "", "hook", "install", "--baseline", "known.json"); r.code != 0 {
		t.Fatalf("hook install: exit %d\n%s", r.code, r.stderr)
	}
	hook, err := os.ReadFile(filepath.Join(dir, ".git", "hooks", "pre-commit"))
	if err != nil || !strings.Contains(string(hook), "'--baseline' 'known.json'") {
		t.Fatalf("hook lacks the baseline (%v):\n%s", err, hook)
	}
	gitIn(t, dir, "add", "known.json")
	if out, err := gitCmdIn(dir, "commit", "-q", "-m", "baselined").CombinedOutput(); err != nil {
		t.Fatalf("a baselined secret blocked the commit: %v\n%s", err, out)
	}
	writeGitFile(t, filepath.Join(dir, "new.sh"), curl(cliTokB))
	gitIn(t, dir, "add", "new.sh")
	if out, err := gitCmdIn(dir, "commit", "-q", "-m", "new").CombinedOutput(); err == nil {
		t.Fatalf("a new secret passed the hook:\n%s", out)
	}
}

// Every pipeline of a process shares one verifier, so rate limits, the
// concurrency cap and request dedupe hold across a sweep's repositories.
func TestOneVerifierPerProcess(t *testing.T) {
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	a, err := processVerifier(set)
	if err != nil {
		t.Fatal(err)
	}
	b, err := processVerifier(set)
	if err != nil || a != b {
		t.Fatalf("two verifiers in one process (%p, %p, %v)", a, b, err)
	}
}

func TestShowProgress(t *testing.T) {
	if _, _, err := startProgress("sometimes"); err == nil {
		t.Fatal("--progress sometimes accepted")
	}
	p, stop, err := startProgress("none")
	if err != nil || p != nil {
		t.Fatalf("--progress none: %v %v", p, err)
	}
	stop()
}

// gitleaks_allow = true in the configuration turns on inline gitleaks:allow
// comments, as --gitleaks-allow does.
func TestGitleaksAllowConfigKey(t *testing.T) {
	dir := tree(t, map[string]string{"deploy.sh": strings.TrimSuffix(leaked, "\n") + " # gitleaks:allow\n"})
	if r := tokenward(t, dir, "", "scan", "."); r.code != 1 {
		t.Fatalf("without the key: exit %d, want 1", r.code)
	}
	writeGitFile(t, filepath.Join(dir, ".tokenward.toml"), "gitleaks_allow = true\n")
	if r := tokenward(t, dir, "", "scan", "."); r.code != 0 {
		t.Fatalf("gitleaks_allow = true: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
}

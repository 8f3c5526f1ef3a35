package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := gitCmdIn(dir, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func gitCmdIn(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false", "-c", "gc.auto=0"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.com",
		"GIT_COMMITTER_NAME=Ann", "GIT_COMMITTER_EMAIL=ann@example.com",
		"GIT_CONFIG_GLOBAL="+filepath.Join(os.TempDir(), "tokenward-cli-test-gitconfig"), "GIT_CONFIG_NOSYSTEM=1", "TOKENWARD="+binary)
	return cmd
}

func writeGitFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newGitRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git CLI not installed")
	}
	dir := t.TempDir()
	gitIn(t, dir, "init", "-q", "-b", "main")
	return dir
}

func TestGitCommand(t *testing.T) {
	dir := newGitRepo(t)
	writeGitFile(t, filepath.Join(dir, "deploy.sh"), "#!/bin/sh\n"+leaked)
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "add deploy")
	commit := gitIn(t, dir, "rev-parse", "HEAD")
	writeGitFile(t, filepath.Join(dir, "deploy.sh"), "#!/bin/sh\n")
	gitIn(t, dir, "commit", "-q", "-am", "remove token")

	r := tokenward(t, dir, "", "git", "--format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	var fs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	if len(fs) != 1 || fs[0]["commit"] != commit || fs[0]["file"] != "deploy.sh" || fs[0]["line"] != 2.0 || fs[0]["author"] != "Ann" {
		t.Fatalf("findings %v", fs)
	}
	if strings.Contains(r.stdout, token) {
		t.Fatal("secret printed unredacted")
	}

	r = tokenward(t, dir, "", "git", "--format", "sarif", dir)
	if r.code != 1 || !strings.Contains(r.stdout, commit) {
		t.Fatalf("sarif: exit %d, commit missing\n%s", r.code, r.stdout)
	}

	// The range of the last commit adds nothing; the first commit's range adds the token.
	if r := tokenward(t, dir, "", "git", "--range", "HEAD~1..HEAD"); r.code != 0 {
		t.Fatalf("range HEAD~1..HEAD: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := tokenward(t, dir, "", "git", "--staged"); r.code != 0 {
		t.Fatalf("staged: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := tokenward(t, dir, "", "git", "--staged", "--range", "a..b"); r.code != 2 {
		t.Fatalf("--staged --range: exit %d, want 2", r.code)
	}
	if r := tokenward(t, t.TempDir(), "", "git"); r.code != 2 || !strings.Contains(r.stderr, "not a git repository") {
		t.Fatalf("not a repo: exit %d\n%s", r.code, r.stderr)
	}

	// A broken ref: reported by name, exit 2, the finding still reported.
	writeGitFile(t, filepath.Join(dir, ".git", "refs", "heads", "broken"), strings.Repeat("ab", 20)+"\n")
	r = tokenward(t, dir, "", "git", "--format", "jsonl")
	if r.code != 2 || !strings.Contains(r.stderr, "refs/heads/broken") || !strings.Contains(r.stdout, commit) {
		t.Fatalf("broken ref: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
}

func TestPreCommitHook(t *testing.T) {
	dir := newGitRepo(t)
	// An existing hook is kept and chained.
	hooks := filepath.Join(dir, ".git", "hooks")
	writeGitFile(t, filepath.Join(hooks, "pre-commit"), "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/old-hook-ran\"\n")
	if err := os.Chmod(filepath.Join(hooks, "pre-commit"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := tokenward(t, dir, "", "hook", "install"); r.code != 0 {
		t.Fatalf("install: exit %d\n%s", r.code, r.stderr)
	}
	if r := tokenward(t, dir, "", "hook", "install"); r.code != 0 || !strings.Contains(r.stderr, "already") {
		t.Fatalf("second install: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(hooks, "pre-commit.pre-tokenward")); err != nil {
		t.Fatal("old hook not kept:", err)
	}

	// Fresh repository, no commits yet: a staged secret blocks the commit.
	writeGitFile(t, filepath.Join(dir, "deploy.sh"), leaked)
	gitIn(t, dir, "add", "deploy.sh")
	out, err := gitCmdIn(dir, "commit", "-q", "-m", "leak").CombinedOutput()
	if err == nil {
		t.Fatalf("commit with a secret succeeded:\n%s", out)
	}
	if !strings.Contains(string(out), "authorization-token-header") || strings.Contains(string(out), token) {
		t.Fatalf("hook output:\n%s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ".git", "old-hook-ran")); len(b) == 0 {
		t.Fatal("chained hook did not run")
	}
	// A clean change commits.
	writeGitFile(t, filepath.Join(dir, "deploy.sh"), "echo hello\n")
	gitIn(t, dir, "add", "deploy.sh")
	gitIn(t, dir, "commit", "-q", "-m", "clean")

	// A failing chained hook stops the commit before tokenward runs.
	writeGitFile(t, filepath.Join(hooks, "pre-commit.pre-tokenward"), "#!/bin/sh\nexit 7\n")
	writeGitFile(t, filepath.Join(dir, "x.txt"), "x\n")
	gitIn(t, dir, "add", "x.txt")
	if err := gitCmdIn(dir, "commit", "-q", "-m", "x").Run(); err == nil {
		t.Fatal("commit succeeded although the chained hook failed")
	}

	if r := tokenward(t, dir, "", "hook", "uninstall"); r.code != 0 {
		t.Fatalf("uninstall: exit %d\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(hooks, "pre-commit"))
	if err != nil || !bytes.Contains(b, []byte("exit 7")) {
		t.Fatalf("old hook not restored: %v %s", err, b)
	}
}

func TestPrePushHook(t *testing.T) {
	remote := newGitRepo(t)
	gitIn(t, remote, "config", "receive.denyCurrentBranch", "ignore")
	dir := newGitRepo(t)
	gitIn(t, dir, "remote", "add", "origin", remote)
	writeGitFile(t, filepath.Join(dir, "README"), "hello\n")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "first")
	if r := tokenward(t, dir, "", "hook", "install", "--pre-push"); r.code != 0 {
		t.Fatalf("install: exit %d\n%s", r.code, r.stderr)
	}
	gitIn(t, dir, "push", "-q", "origin", "main") // new branch, clean history
	writeGitFile(t, filepath.Join(dir, "deploy.sh"), leaked)
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "leak")
	writeGitFile(t, filepath.Join(dir, "deploy.sh"), "clean\n")
	gitIn(t, dir, "commit", "-q", "-am", "remove")
	out, err := gitCmdIn(dir, "push", "origin", "main").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "authorization-token-header") {
		t.Fatalf("push of a leaked (then removed) secret: err %v\n%s", err, out)
	}
	// A new branch whose commits add nothing new passes.
	gitIn(t, dir, "reset", "-q", "--hard", "origin/main")
	gitIn(t, dir, "checkout", "-q", "-b", "topic")
	writeGitFile(t, filepath.Join(dir, "more.txt"), "more\n")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "more")
	gitIn(t, dir, "push", "-q", "origin", "topic")
}

package release

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// preCommit runs the pre-commit framework in dir. The hooks' `language: golang`
// environment is built with the local go from the module cache that go.mod's
// dependencies are already in (GOPROXY=off: nothing is fetched), into a private
// PRE_COMMIT_HOME.
func preCommit(t *testing.T, bin, dir, home string, args ...string) (int, string) {
	t.Helper()
	gomodcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), gitEnv...)
	cmd.Env = append(cmd.Env, "PRE_COMMIT_HOME="+home, "PRE_COMMIT_COLOR=never",
		"GOMODCACHE="+strings.TrimSpace(string(gomodcache)), "GOPROXY=off", "GOFLAGS=-mod=readonly -buildvcs=false")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, out.String()
}

// preCommitVersion returns pre-commit's major and minor version.
func preCommitVersion(t *testing.T, bin string) (int, int) {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(\d+)\.(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("pre-commit --version: %q", out)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major, minor
}

func TestPreCommitManifest(t *testing.T) {
	bin := need(t, "pre-commit", "apt-get install pre-commit")
	code, out := preCommit(t, bin, root, t.TempDir(), "validate-manifest", filepath.Join(root, ".pre-commit-hooks.yaml"))
	if code != 0 {
		t.Fatalf("pre-commit validate-manifest: exit %d\n%s", code, out)
	}
	// The stage names must be ones every pre-commit 2.x and 3.x accepts: the new
	// spellings (pre-commit, pre-push) exist only since 3.2.
	data, err := os.ReadFile(filepath.Join(root, ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+stages:\s*\[([^\]]*)\]`).FindAllStringSubmatch(string(data), -1) {
		for _, s := range strings.Split(m[1], ",") {
			if s = strings.TrimSpace(s); s != "commit" && s != "push" {
				t.Errorf("stage %q: pre-commit before 3.2 rejects it; use commit or push", s)
			}
		}
	}
	if n := strings.Count(string(data), "minimum_pre_commit_version:"); n != 2 {
		t.Errorf("%d hooks declare minimum_pre_commit_version, want both", n)
	}
}

// TestPreCommitTryRepo installs this repository's hooks with `pre-commit try-repo`
// and runs them on a repository with a staged secret, and on a push of a commit
// that adds one.
func TestPreCommitTryRepo(t *testing.T) {
	bin := need(t, "pre-commit", "apt-get install pre-commit")
	need(t, "git", "apt-get install git")
	home := t.TempDir()
	repo := t.TempDir()
	git(t, repo, "init", "-q", "-b", "main")
	write(t, filepath.Join(repo, "old.sh"), leak(tokOld))
	git(t, repo, "add", "-A")
	git(t, repo, "commit", "-q", "-m", "old leak")
	old := git(t, repo, "rev-parse", "HEAD")

	// A staged secret fails the commit hook; the secret is redacted.
	write(t, filepath.Join(repo, "deploy.sh"), leak(tokNew))
	git(t, repo, "add", "deploy.sh")
	code, out := preCommit(t, bin, repo, home, "try-repo", root, "tokenward", "--verbose")
	if code != 1 || !strings.Contains(out, "deploy.sh:1:") || !strings.Contains(out, "authorization-token-header") {
		t.Fatalf("try-repo tokenward with a staged secret: exit %d, want 1 and a finding in deploy.sh\n%s", code, out)
	}
	if strings.Contains(out, "old.sh") {
		t.Errorf("the commit hook reported a committed file, not only what is staged:\n%s", out)
	}
	if strings.Contains(out, tokNew) {
		t.Errorf("the secret was printed unredacted:\n%s", out)
	}

	// The push hook scans only the commits being pushed (from-ref..to-ref).
	git(t, repo, "commit", "-q", "-m", "new leak")
	head := git(t, repo, "rev-parse", "HEAD")
	stage := "push"
	if major, minor := preCommitVersion(t, bin); major > 3 || major == 3 && minor >= 2 {
		stage = "pre-push"
	}
	code, out = preCommit(t, bin, repo, home, "try-repo", root, "tokenward-pre-push", "--verbose",
		"--hook-stage", stage, "--from-ref", old, "--to-ref", head)
	if code != 1 || !strings.Contains(out, "deploy.sh:1:") || strings.Contains(out, "old.sh") {
		t.Fatalf("try-repo tokenward-pre-push %s..%s: exit %d, want 1 with deploy.sh only\n%s", old, head, code, out)
	}
}

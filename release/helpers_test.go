// Package release tests the release and packaging files at the repository root:
// .pre-commit-hooks.yaml (with the pre-commit framework), the Docker build context
// (Dockerfile, .dockerignore) and .goreleaser.yaml (with goreleaser check). Tools
// that are missing skip their test on a developer's machine; under CI (CI set) a
// missing tool fails it, and .ci/run installs them.
package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository root.
var root = func() string {
	r, err := filepath.Abs("..")
	if err != nil {
		panic(err)
	}
	return r
}()

// need returns the path of tool, skipping the test when it is absent outside CI.
func need(t *testing.T, tool, install string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed, and CI requires this test: %s (bash .ci/run does)", tool, install)
	}
	t.Skipf("%s is not installed (%s); CI runs this test", tool, install)
	return ""
}

var gitEnv = []string{"GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.com", "GIT_COMMITTER_NAME=Ann",
	"GIT_COMMITTER_EMAIL=ann@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	// the tokenward these tests run must not create a fingerprint key in the real home
	"TOKENWARD_FINGERPRINT_KEY=release-tests-fingerprint-key"}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), gitEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Secrets matched by the built-in authorization-token-header rule.
const (
	tokOld = "8f3kQ9zLm2Xv7Rt5Wp1Yb6Nc4Hd0Js3A"
	tokNew = "Q2w9E4r7T1y5U8i3O6p0A2s4D6f8G1h3"
)

func leak(token string) string {
	return "curl -H 'Authorization: Token " + token + "' https://api.example.com\n"
}

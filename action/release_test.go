package action

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// moveTagScript returns the release workflow's step that moves the major tag.
func moveTagScript(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../.github/workflows/release.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Name string
				Run  string
			}
		}
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("release.yml: %v", err)
	}
	for _, s := range wf.Jobs["action-tag"].Steps {
		if strings.Contains(s.Run, "git push") {
			return s.Run
		}
	}
	t.Fatal("release.yml: no action-tag step that pushes a tag")
	return ""
}

// TestMajorTagMoves runs the release workflow's tag step against a local
// "origin": a release moves v1 to it; a pre-release, or a patch of an older
// minor released after a newer one, leaves v1 where it is.
func TestMajorTagMoves(t *testing.T) {
	script := moveTagScript(t)
	origin := filepath.Join(t.TempDir(), "origin.git")
	git(t, filepath.Dir(origin), "init", "-q", "--bare", origin)
	work := newRepo(t)
	git(t, work, "remote", "add", "origin", origin)
	commits := map[string]string{}
	// tagRelease commits and tags v (on a branch from base when set) and pushes.
	tagRelease := func(v, base string) {
		t.Helper()
		if base != "" {
			git(t, work, "checkout", "-q", "-b", "line-"+v, base)
		}
		commits[v] = commit(t, work, v, map[string]string{"VERSION": v + "\n"})
		git(t, work, "tag", "-a", v, "-m", v)
		git(t, work, "push", "-q", "origin", "HEAD:refs/heads/"+strings.ReplaceAll(v, ".", "-"), "--tags")
		if base != "" {
			git(t, work, "checkout", "-q", "main")
		}
	}
	release := func(tag string) string {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = work
		cmd.Env = append(append(os.Environ(), gitEnv...), "TAG="+tag)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tag step for %s: %v\n%s", tag, err, out)
		}
		git(t, work, "fetch", "-q", "--force", "origin", "+refs/tags/*:refs/tags/*")
		v1, err := exec.Command("git", "-C", origin, "rev-parse", "--verify", "--quiet", "v1^{commit}").Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(v1))
	}
	steps := []struct{ tag, base, want string }{
		{"v1.0.0", "", "v1.0.0"},
		{"v1.1.0", "", "v1.1.0"},
		{"v1.0.1", "v1.0.0", "v1.1.0"}, // a patch of the older line: v1 does not go back
		{"v1.2.0-rc.1", "", "v1.1.0"},  // a pre-release: v1 stays
		{"v1.2.0", "", "v1.2.0"},
	}
	for _, s := range steps {
		tagRelease(s.tag, s.base)
		if got := release(s.tag); got != commits[s.want] {
			t.Errorf("after releasing %s, v1 is at %q, want %s (%s)", s.tag, got, s.want, commits[s.want])
		}
	}
}

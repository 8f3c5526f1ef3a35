// Package action tests the GitHub Action's entry script (entrypoint.sh): it runs
// the script with bash against real git repositories, with simulated event
// payloads and GITHUB_* environments, and the real tokenward binary.
package action

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tokenward-action")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "tokenward")
	// tokenward keeps a per-user fingerprint key under the configuration
	// directory: the tests must not create one in the real home.
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	if out, err := exec.Command("go", "build", "-o", binary, "../cmd/tokenward").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const zero = "0000000000000000000000000000000000000000"

// Secrets matched by the built-in seed rule (severity high).
func leak(token string) string {
	return "curl -H 'Authorization: Token " + token + "' https://api.example.com\n"
}

const (
	tokOld = "8f3kQ9zLm2Xv7Rt5Wp1Yb6Nc4Hd0Js3A"
	tokNew = "Q2w9E4r7T1y5U8i3O6p0A2s4D6f8G1h3"
	tokFix = "Z9x8C7v6B5n4M3q2W1e0R9t8Y7u6I5o4"
)

var gitEnv = []string{"GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.com", "GIT_COMMITTER_NAME=Ann",
	"GIT_COMMITTER_EMAIL=ann@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1"}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false", "-c", "protocol.file.allow=always"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), gitEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (an empty content deletes) and commits them.
func commit(t *testing.T, dir, msg string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if content == "" {
			git(t, dir, "rm", "-q", name)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "--allow-empty", "-m", msg)
	return git(t, dir, "rev-parse", "HEAD")
}

func newRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	return dir
}

type run struct {
	code    int
	stdout  string
	stderr  string
	outputs map[string]string
	summary string
	sarif   []string // "file:line rule" of each SARIF result
	scans   int      // times the script ran tokenward
}

// action runs entrypoint.sh in workspace for an event with the given payload.
// inputs holds INPUT_* and other variables.
func action(t *testing.T, workspace, event string, payload any, inputs map[string]string) run {
	t.Helper()
	tool := inputs["TOKENWARD_JSON_TOOL"]
	for _, name := range []string{"jq", "python3"} {
		if _, err := exec.LookPath(name); err == nil && (tool == "" || tool == name) {
			tool = "found"
		}
	}
	if tool != "found" {
		t.Skip("the entry script reads event payloads with jq or python3, and neither (or not the one asked for) is installed")
	}
	tmp := t.TempDir()
	eventPath := filepath.Join(tmp, "event.json")
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(eventPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	outPath, sumPath := filepath.Join(tmp, "output"), filepath.Join(tmp, "summary")
	// The script runs tokenward through a wrapper that counts the runs.
	runs := filepath.Join(tmp, "runs")
	wrapper := filepath.Join(tmp, "tokenward")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\necho run >>'"+runs+"'\nexec '"+binary+"' \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GITHUB_") && !strings.HasPrefix(kv, "INPUT_") && !strings.HasPrefix(kv, "RUNNER_") && !strings.HasPrefix(kv, "TOKENWARD") {
			env = append(env, kv)
		}
	}
	env = append(env, gitEnv...)
	env = append(env, "GITHUB_EVENT_NAME="+event, "GITHUB_EVENT_PATH="+eventPath, "GITHUB_WORKSPACE="+workspace,
		"GITHUB_OUTPUT="+outPath, "GITHUB_STEP_SUMMARY="+sumPath, "RUNNER_TEMP="+tmp, "TOKENWARD="+wrapper)
	for k, v := range inputs {
		env = append(env, k+"="+v)
	}
	script, err := filepath.Abs("entrypoint.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script)
	cmd.Dir = t.TempDir() // the script must find the repository through GITHUB_WORKSPACE
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := run{stdout: stdout.String(), stderr: stderr.String(), outputs: map[string]string{}}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(outPath); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				r.outputs[k] = v
			}
		}
	}
	if b, err := os.ReadFile(sumPath); err == nil {
		r.summary = string(b)
	}
	if b, err := os.ReadFile(runs); err == nil {
		r.scans = strings.Count(string(b), "run\n")
	}
	if f := r.outputs["sarif-file"]; f != "" {
		if !filepath.IsAbs(f) {
			f = filepath.Join(workspace, f)
		}
		if _, err := os.Stat(f); err == nil || r.code != 2 {
			r.sarif = readSARIF(t, f) // an error before the scan (exit 2) writes none
		}
	}
	return r
}

func readSARIF(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("SARIF: %v", err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		t.Fatalf("SARIF %s: %v", path, err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("SARIF %s: version %q, %d runs", path, log.Version, len(log.Runs))
	}
	out := []string{}
	for _, res := range log.Runs[0].Results {
		out = append(out, res.Locations[0].PhysicalLocation.ArtifactLocation.URI+" "+res.RuleID)
	}
	slices.Sort(out)
	return out
}

func (r run) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "stderr:\n" + r.stderr + "summary:\n" + r.summary
}

func prPayload(base, head string) map[string]any {
	return map[string]any{"pull_request": map[string]any{"number": 7,
		"base": map[string]any{"sha": base}, "head": map[string]any{"sha": head, "repo": map[string]any{"full_name": "fork/repo"}}}}
}

func pushPayload(before, after, ref string) map[string]any {
	return map[string]any{"before": before, "after": after, "ref": ref, "deleted": after == zero,
		"repository": map[string]any{"default_branch": "main"}}
}

const header = "authorization-token-header"

func TestEvents(t *testing.T) {
	dir := newRepo(t)
	a := commit(t, dir, "old leak", map[string]string{"old.sh": leak(tokOld)})
	b := commit(t, dir, "clean", map[string]string{"README": "docs\n"})
	c := commit(t, dir, "new leak", map[string]string{"new.sh": leak(tokNew)})

	cases := []struct {
		name     string
		event    string
		payload  any
		inputs   map[string]string
		code     int
		sarif    []string
		scanned  string // in the summary
		findings string
	}{
		{"pull request adding nothing", "pull_request", prPayload(a, b), nil, 0, []string{}, "pull request #7: " + a + ".." + b, "0"},
		{"pull request adding a leak", "pull_request", prPayload(b, c), nil, 1, []string{"new.sh " + header}, "pull request #7", "1"},
		{"payload read with python3", "pull_request", prPayload(b, c), map[string]string{"TOKENWARD_JSON_TOOL": "python3"}, 1, []string{"new.sh " + header}, "pull request #7", "1"},
		{"pull_request_target", "pull_request_target", prPayload(b, c), nil, 1, []string{"new.sh " + header}, "pull request #7", "1"},
		{"merge group", "merge_group", map[string]any{"merge_group": map[string]any{"base_sha": b, "head_sha": c}}, nil, 1, []string{"new.sh " + header}, "merge group: " + b + ".." + c, "1"},
		{"push", "push", pushPayload(b, c, "refs/heads/main"), nil, 1, []string{"new.sh " + header}, "push to refs/heads/main: " + b + ".." + c, "1"},
		{"push of old commits only", "push", pushPayload(a, b, "refs/heads/main"), nil, 0, []string{}, "push to refs/heads/main", "0"},
		{"push with before = after", "push", pushPayload(c, c, "refs/heads/main"), nil, 0, []string{}, "adds no commits", "0"},
		{"push deleting a branch", "push", pushPayload(c, zero, "refs/heads/gone"), nil, 0, []string{}, "push deleting refs/heads/gone", "0"},
		{"workflow_dispatch: full history", "workflow_dispatch", map[string]any{}, nil, 1, []string{"new.sh " + header, "old.sh " + header}, "the full history", "2"},
		{"schedule: full history", "schedule", map[string]any{"schedule": "0 3 * * *"}, nil, 1, []string{"new.sh " + header, "old.sh " + header}, "the full history", "2"},
		{"other event: full history", "release", map[string]any{}, nil, 1, []string{"new.sh " + header, "old.sh " + header}, "release: the full history", "2"},
		{"sarif-file input", "pull_request", prPayload(b, c), map[string]string{"INPUT_SARIF_FILE": "reports/tw.sarif"}, 1, []string{"new.sh " + header}, "pull request", "1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := action(t, dir, c.event, c.payload, c.inputs)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, c.code, r)
			}
			if r.scans != 1 {
				t.Errorf("tokenward ran %d times, want one scan per run", r.scans)
			}
			if !slices.Equal(r.sarif, c.sarif) {
				t.Errorf("SARIF results %q, want %q", r.sarif, c.sarif)
			}
			if !strings.Contains(r.summary, c.scanned) {
				t.Errorf("summary does not say %q:\n%s", c.scanned, r.summary)
			}
			if r.outputs["findings"] != c.findings {
				t.Errorf("findings output %q, want %q", r.outputs["findings"], c.findings)
			}
			if want := c.inputs["INPUT_SARIF_FILE"]; want != "" && r.outputs["sarif-file"] != want {
				t.Errorf("sarif-file output %q, want %q", r.outputs["sarif-file"], want)
			}
			annotations := strings.Count(r.stdout, "::error file=")
			if annotations != len(c.sarif) {
				t.Errorf("%d error annotations, want %d\n%s", annotations, len(c.sarif), r.stdout)
			}
			for _, tok := range []string{tokOld, tokNew} {
				if strings.Contains(r.stdout+r.stderr+r.summary, tok) {
					t.Error("a secret was printed")
				}
			}
		})
	}
}

// TestNewBranchAndForks runs against a repository cloned from an "origin", as
// actions/checkout leaves it.
func TestNewBranchAndForks(t *testing.T) {
	origin := newRepo(t)
	commit(t, origin, "old leak", map[string]string{"old.sh": leak(tokOld)})
	git(t, origin, "checkout", "-q", "-b", "feature")
	feature := commit(t, origin, "new leak", map[string]string{"new.sh": leak(tokNew)})
	git(t, origin, "checkout", "-q", "main")
	mainTip := commit(t, origin, "clean", map[string]string{"README": "docs\n"})
	// A fork's pull request: its head exists on origin only under refs/pull/1/head.
	git(t, origin, "checkout", "-q", "--detach", mainTip)
	fork := commit(t, origin, "fork leak", map[string]string{"fork.sh": leak(tokFix)})
	git(t, origin, "update-ref", "refs/pull/1/head", fork)
	git(t, origin, "checkout", "-q", "main")
	url := "file://" + origin

	clone := func(t *testing.T, args ...string) string {
		dir := filepath.Join(t.TempDir(), "work")
		git(t, filepath.Dir(dir), append(append([]string{"clone", "-q"}, args...), url, dir)...)
		return dir
	}

	t.Run("new branch: only what it adds to the default branch", func(t *testing.T) {
		dir := clone(t, "--branch", "feature")
		r := action(t, dir, "push", pushPayload(zero, feature, "refs/heads/feature"), nil)
		if r.code != 1 || !slices.Equal(r.sarif, []string{"new.sh " + header}) {
			t.Fatalf("want only new.sh\n%s\nSARIF %q", r, r.sarif)
		}
		if !strings.Contains(r.summary, "the commits not on main") {
			t.Errorf("summary:\n%s", r.summary)
		}
	})
	t.Run("new branch, default branch not fetched yet", func(t *testing.T) {
		dir := clone(t, "--single-branch", "--branch", "feature")
		if out := git(t, dir, "branch", "-r"); strings.Contains(out, "origin/main") {
			t.Fatalf("the clone should lack origin/main: %s", out)
		}
		r := action(t, dir, "push", pushPayload(zero, feature, "refs/heads/feature"), nil)
		if r.code != 1 || !slices.Equal(r.sarif, []string{"new.sh " + header}) {
			t.Fatalf("want only new.sh\n%s\nSARIF %q", r, r.sarif)
		}
	})
	t.Run("new branch without a reachable default branch: full history", func(t *testing.T) {
		dir := clone(t, "--single-branch", "--branch", "feature")
		git(t, dir, "remote", "remove", "origin")
		r := action(t, dir, "push", pushPayload(zero, feature, "refs/heads/feature"), nil)
		if r.code != 1 || !slices.Equal(r.sarif, []string{"new.sh " + header, "old.sh " + header}) {
			t.Fatalf("want the whole history\n%s\nSARIF %q", r, r.sarif)
		}
		if !strings.Contains(r.stdout, "::warning title=tokenward::could not fetch the default branch main") {
			t.Errorf("missing warning:\n%s", r.stdout)
		}
	})
	t.Run("first push of the default branch: full history", func(t *testing.T) {
		dir := clone(t, "--single-branch", "--branch", "main")
		r := action(t, dir, "push", pushPayload(zero, mainTip, "refs/heads/main"), nil)
		if r.code != 1 || !slices.Equal(r.sarif, []string{"old.sh " + header}) {
			t.Fatalf("want old.sh from the history\n%s\nSARIF %q", r, r.sarif)
		}
	})
	t.Run("fork pull request in a shallow checkout", func(t *testing.T) {
		dir := clone(t, "--depth", "1", "--branch", "main")
		r := action(t, dir, "pull_request", prPayload(mainTip, fork), nil)
		if r.code != 1 || !slices.Equal(r.sarif, []string{"fork.sh " + header}) {
			t.Fatalf("want fork.sh\n%s\nSARIF %q", r, r.sarif)
		}
		if !strings.Contains(r.stdout, "the checkout is shallow") {
			t.Errorf("expected a notice about the shallow checkout:\n%s", r.stdout)
		}
	})
	t.Run("commit that cannot be fetched", func(t *testing.T) {
		dir := clone(t, "--branch", "main")
		r := action(t, dir, "pull_request", prPayload(mainTip, strings.Repeat("ab", 20)), nil)
		if r.code != 2 || !strings.Contains(r.stdout, "could not be fetched") {
			t.Fatalf("want exit 2 naming the missing commit\n%s", r)
		}
	})
}

// rulesConfig has one rule per severity of interest, to test fail-on-severity.
const rulesConfig = `[extend]
builtin = false

[[rule]]
id = "crit-key"
regex = '''\b(critk_[a-z0-9]{24})\b'''
severity = "critical"

[[rule]]
id = "low-key"
regex = '''\b(lowk_[a-z0-9]{24})\b'''
severity = "low"
`

const (
	critKey  = "critk_q8z1m3x7r5w1y6n4h0j3k2l9"
	lowKey   = "lowk_z7y5w3u1s9q7o5m3k1i9g7e5"
	critKey2 = "critk_m4n8b2v6c1x5z9l3k7j0h4g8"
)

func TestInputs(t *testing.T) {
	dir := newRepo(t)
	base := commit(t, dir, "config", map[string]string{".tw.toml": rulesConfig})
	head := commit(t, dir, "keys", map[string]string{"keys.env": "A=" + critKey + "\nB=" + lowKey + "\n"})
	pr := prPayload(base, head)
	both := []string{"keys.env crit-key", "keys.env low-key"}

	cases := []struct {
		name      string
		inputs    map[string]string
		code      int
		sarif     []string
		failing   string
		annotates []string
	}{
		{"default threshold: any finding fails", map[string]string{}, 1, both, "2", []string{"::error file=keys.env", "::notice file=keys.env"}},
		{"info", map[string]string{"INPUT_FAIL_ON_SEVERITY": "info"}, 1, both, "2", nil},
		{"low", map[string]string{"INPUT_FAIL_ON_SEVERITY": "low"}, 1, both, "2", nil},
		{"medium: only the critical one fails", map[string]string{"INPUT_FAIL_ON_SEVERITY": "medium"}, 1, both, "1", nil},
		{"critical", map[string]string{"INPUT_FAIL_ON_SEVERITY": "critical"}, 1, both, "1", nil},
		{"none: report only", map[string]string{"INPUT_FAIL_ON_SEVERITY": "none"}, 0, both, "0", []string{"title=crit-key (critical)", "title=low-key (low)"}},
		{"args with quoted words", map[string]string{"INPUT_ARGS": "--max-file-size '10 B'"}, 0, []string{}, "0", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.inputs["INPUT_CONFIG"] = ".tw.toml"
			r := action(t, dir, "pull_request", pr, c.inputs)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, c.code, r)
			}
			if !slices.Equal(r.sarif, c.sarif) {
				t.Errorf("SARIF %q, want %q", r.sarif, c.sarif)
			}
			if r.outputs["failing"] != c.failing {
				t.Errorf("failing = %q, want %q\n%s", r.outputs["failing"], c.failing, r)
			}
			for _, a := range c.annotates {
				if !strings.Contains(r.stdout, a) {
					t.Errorf("stdout lacks %q:\n%s", a, r.stdout)
				}
			}
		})
	}

	t.Run("baseline", func(t *testing.T) {
		cmd := exec.Command(binary, "baseline", "create", "--config", ".tw.toml", "--output", ".tokenward-baseline.json", ".")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("baseline create: %v\n%s", err, out)
		}
		in := map[string]string{"INPUT_CONFIG": ".tw.toml", "INPUT_BASELINE": ".tokenward-baseline.json"}
		r := action(t, dir, "pull_request", pr, in)
		if r.code != 0 || len(r.sarif) != 0 || r.outputs["findings"] != "0" {
			t.Fatalf("baselined findings should pass\n%s", r)
		}
		next := commit(t, dir, "another key", map[string]string{"more.env": "C=" + critKey2 + "\n"})
		r = action(t, dir, "pull_request", prPayload(base, next), in)
		if r.code != 1 || !slices.Equal(r.sarif, []string{"more.env crit-key"}) {
			t.Fatalf("only the new key should fail\n%s\nSARIF %q", r, r.sarif)
		}
	})

	// A pull request that rewrites the configuration is checked by BASE's.
	t.Run("config is read from BASE", func(t *testing.T) {
		weakened := commit(t, dir, "weaken", map[string]string{".tw.toml": "[extend]\nbuiltin = false\n", "more.env": "C=" + critKey2 + "\n"})
		r := action(t, dir, "pull_request", prPayload(base, weakened), map[string]string{"INPUT_CONFIG": ".tw.toml"})
		if r.code != 1 || !slices.Contains(r.sarif, "more.env crit-key") {
			t.Fatalf("the PR's own config hid its key: exit %d, SARIF %q\n%s", r.code, r.sarif, r)
		}
	})

	t.Run("gitleaks configuration", func(t *testing.T) {
		dir := newRepo(t)
		base := commit(t, dir, "base", map[string]string{"README": "docs\n"})
		gl := commit(t, dir, "gitleaks config", map[string]string{"keys.env": "A=" + critKey + "\n", ".gitleaks.toml": `
[[rules]]
id = "crit_key"
regex = '''\b(critk_[a-z0-9]{24})\b'''
keywords = ["critk_"]
`})
		r := action(t, dir, "pull_request", prPayload(base, gl), map[string]string{"INPUT_CONFIG": ".gitleaks.toml"})
		if r.code != 1 || !slices.Equal(r.sarif, []string{"keys.env crit-key"}) {
			t.Fatalf("want the converted gitleaks rule to find the key\n%s\nSARIF %q", r, r.sarif)
		}
	})
}

func TestErrors(t *testing.T) {
	dir := newRepo(t)
	a := commit(t, dir, "one", map[string]string{"a": "a\n"})
	b := commit(t, dir, "two", map[string]string{"b": "b\n"})
	cases := []struct {
		name      string
		workspace string
		event     string
		payload   any
		inputs    map[string]string
		want      string
	}{
		{"bad severity", dir, "pull_request", prPayload(a, b), map[string]string{"INPUT_FAIL_ON_SEVERITY": "severe"}, `fail-on-severity: "severe"`},
		{"not a repository", t.TempDir(), "pull_request", prPayload(a, b), nil, "is not a git repository"},
		{"payload without shas", dir, "pull_request", map[string]any{"pull_request": map[string]any{}}, nil, "no pull_request.base.sha"},
		{"unbalanced quotes in args", dir, "pull_request", prPayload(a, b), map[string]string{"INPUT_ARGS": "--max-file-size '10"}, "cannot split"},
		{"bad config", dir, "pull_request", prPayload(a, b), map[string]string{"INPUT_CONFIG": "missing.toml"}, "the scan failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := action(t, c.workspace, c.event, c.payload, c.inputs)
			if r.code != 2 || !strings.Contains(r.stdout, c.want) {
				t.Fatalf("want exit 2 with %q\n%s", c.want, r)
			}
		})
	}
}

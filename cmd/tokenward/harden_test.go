package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

// Issue 13 regression tests at the command line: each ran against main before
// the fix and failed.

const (
	hardAWSID  = "AKIAQ3EGRT5ZKX7LM2NB"
	hardAWSKey = "q8Xr2mKv9LpT4zW7nB1cY6hJ3dF0sG5aE8uR2iOk"
)

// TestNoSecretInAnyOutput (item 1): two secrets on one line, each found by its
// own rule, and a secret whose base64 form sits on a long line: no format shows
// either secret or the encoded form, on stdout or stderr.
func TestNoSecretInAnyOutput(t *testing.T) {
	encoded := base64.StdEncoding.EncodeToString([]byte(leaked))
	dir := tree(t, map[string]string{
		"env.sh":  "export aws_access_key_id=" + hardAWSID + " aws_secret_access_key=" + hardAWSKey + "\n",
		"min.js":  strings.Repeat("var a=1;", 40) + "var blob='" + encoded + "';" + strings.Repeat("var b=2;", 40) + "\n",
		"hook.sh": leaked,
	})
	secrets := []string{hardAWSID, hardAWSKey, token, encoded[8 : len(encoded)-8]}
	for _, format := range []string{"text", "json", "jsonl", "sarif", "github"} {
		r := tokenward(t, dir, "", "scan", ".", "-f", format)
		if r.code != 1 {
			t.Fatalf("%s: exit %d\n%s", format, r.code, r.stderr)
		}
		for _, s := range secrets {
			if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
				t.Errorf("%s output shows %q:\n%s", format, s, r.stdout)
			}
		}
	}
	// A suppressed finding's secret is hidden too, wherever another shows it.
	r := tokenward(t, dir, "", "scan", ".", "-f", "jsonl", "--show-secrets")
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var f finding.Finding
		json.Unmarshal([]byte(line), &f)
		if f.Secret == hardAWSID {
			ids = append(ids, f.Fingerprint)
		}
	}
	if len(ids) == 0 {
		t.Fatalf("no finding for the AWS key id:\n%s", r.stdout)
	}
	os.WriteFile(filepath.Join(dir, ".tokenwardignore"), []byte(ids[0]+"\n"), 0o644)
	r = tokenward(t, dir, "", "scan", ".", "-f", "json")
	if strings.Contains(r.stdout, hardAWSID) {
		t.Errorf("the suppressed AWS key id is shown in another finding's context:\n%s", r.stdout)
	}
}

// TestForgedWorkflowCommands (item 5): a path holding a newline and ::error,
// and ANSI escapes, print no workflow command and no escape byte on stdout or
// stderr, in text and github formats.
func TestForgedWorkflowCommands(t *testing.T) {
	dir := tree(t, map[string]string{"x\n::error file=README.md,line=1::forged\n\x1b[2Jy.sh": leaked,
		"ansi.sh": "# \x1b]0;owned\x07\x1b[31m\n" + strings.TrimSuffix(leaked, "\n") + " \x1b[2K\n"})
	missing := filepath.Join(dir, "gone\n::error::forged missing path\x1b[0m")
	for _, format := range []string{"text", "github", "json"} {
		r := tokenward(t, dir, "", "scan", ".", missing, "-f", format)
		if r.code != 2 {
			t.Errorf("%s: exit %d, want 2 (a missing path)\n%s", format, r.code, r.stderr)
		}
		for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			if strings.ContainsAny(out, "\x1b\x07") {
				t.Errorf("%s %s holds an escape byte: %q", format, name, out)
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "::") && strings.Contains(line, "forged") && !strings.HasPrefix(line, "::error file=x\\x0a") && !strings.HasPrefix(line, "::warning title=") {
					t.Errorf("%s %s: forged workflow command %q", format, name, line)
				}
			}
		}
	}
}

// TestFingerprintsNotBruteForced (item 9): the SARIF fingerprint of a weak
// password is not the unsalted hash that a word list inverts, and it is
// stable for one project key.
func TestFingerprintsNotBruteForced(t *testing.T) {
	const weak = "Summer2024!"
	dir := tree(t, map[string]string{"db.env": "DB_PASSWORD=" + weak + "\nDB_HOST=db.internal\n", "hook.sh": leaked})
	r := tokenward(t, dir, "", "scan", ".", "-f", "sarif")
	if r.code != 1 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID              string            `json:"ruleId"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil || len(log.Runs) != 1 {
		t.Fatalf("sarif: %v", err)
	}
	if len(log.Runs[0].Results) == 0 {
		t.Fatal("no results")
	}
	for _, res := range log.Runs[0].Results {
		fp := res.PartialFingerprints["tokenward/v1"]
		for _, guess := range []string{weak, token, "DB_PASSWORD=" + weak} {
			if fp == finding.LegacyFingerprint(res.RuleID, guess) {
				t.Errorf("rule %s: fingerprint %s is sha256(rule, %q): recovered by a word list", res.RuleID, fp, guess)
			}
		}
		if !strings.HasPrefix(fp, "tw1:") {
			t.Errorf("fingerprint %q, want tw1:…", fp)
		}
	}
	again := tokenward(t, dir, "", "scan", ".", "-f", "sarif")
	if again.stdout != r.stdout {
		t.Error("two runs with one key give different SARIF")
	}
	other := runWithKey(t, dir, "another-project-key-0123456789", "scan", ".", "-f", "sarif")
	if other == r.stdout {
		t.Error("another key gives the same fingerprints")
	}
}

// TestLegacyIgnoreAndBaselineMigration: entries written before tw1 still
// suppress; baseline update rewrites them to tw1.
func TestLegacyIgnoreAndBaselineMigration(t *testing.T) {
	dir := tree(t, map[string]string{"hook.sh": leaked})
	old := finding.LegacyFingerprint("authorization-token-header", token)
	os.WriteFile(filepath.Join(dir, ".tokenwardignore"), []byte(old+"  # fixture\n"), 0o644)
	if r := tokenward(t, dir, "", "scan", "."); r.code != 0 {
		t.Fatalf("a legacy ignore entry no longer suppresses: exit %d\n%s", r.code, r.stdout)
	}
	os.Remove(filepath.Join(dir, ".tokenwardignore"))
	base := `{"version":1,"findings":{"` + old + `":{"reason":"fixture"}}}` + "\n"
	os.WriteFile(filepath.Join(dir, ".tokenward-baseline.json"), []byte(base), 0o644)
	if r := tokenward(t, dir, "", "scan", ".", "--baseline", ".tokenward-baseline.json"); r.code != 0 {
		t.Fatalf("a legacy baseline no longer suppresses: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := tokenward(t, dir, "", "baseline", "update", "."); r.code != 0 {
		t.Fatalf("baseline update: exit %d %s", r.code, r.stderr)
	}
	data, _ := os.ReadFile(filepath.Join(dir, ".tokenward-baseline.json"))
	if strings.Contains(string(data), "sha256:") || !strings.Contains(string(data), `"tw1:`) || !strings.Contains(string(data), "fixture") {
		t.Errorf("baseline update did not migrate to tw1 keeping the reason:\n%s", data)
	}
	if r := tokenward(t, dir, "", "scan", ".", "--baseline", ".tokenward-baseline.json"); r.code != 0 {
		t.Errorf("migrated baseline does not suppress: exit %d", r.code)
	}
	// Under another key the migrated entries match nothing, and the run says why.
	old2 := os.Getenv(finding.KeyEnv)
	os.Setenv(finding.KeyEnv, "another-project-key-0123456789")
	r := tokenward(t, dir, "", "scan", ".", "--baseline", ".tokenward-baseline.json")
	os.Setenv(finding.KeyEnv, old2)
	if r.code != 1 || !strings.Contains(r.stderr, "written under fingerprint key") {
		t.Errorf("another key: exit %d, stderr %q; want the finding back and a warning naming the key", r.code, r.stderr)
	}
}

// TestReportFileModes (item 10): a report holding secrets is 0600, written
// atomically (no temporary file left); one without secrets is not widened.
func TestReportFileModes(t *testing.T) {
	dir := tree(t, map[string]string{"hook.sh": leaked})
	out := t.TempDir()
	for _, c := range []struct {
		args []string
		mode os.FileMode
	}{
		{[]string{"--show-secrets", "-o", filepath.Join(out, "secrets.json")}, 0o600},
		{[]string{"-o", filepath.Join(out, "plain.json")}, 0o644},
	} {
		path := c.args[len(c.args)-1]
		os.WriteFile(path, []byte("old"), 0o666)
		os.Chmod(path, 0o666)
		r := tokenward(t, dir, "", append([]string{"scan", ".", "-f", "json"}, c.args...)...)
		if r.code != 1 {
			t.Fatalf("%v: exit %d %s", c.args, r.code, r.stderr)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != c.mode {
			t.Errorf("%v: mode %v, want %v", c.args, st.Mode().Perm(), c.mode)
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("output directory holds %v, want only the two reports", names)
	}
	// Writing to a device is not replaced by a rename.
	if r := tokenward(t, dir, "", "scan", ".", "-o", os.DevNull); r.code != 1 {
		t.Errorf("-o %s: exit %d %s", os.DevNull, r.code, r.stderr)
	}
	if st, err := os.Stat(os.DevNull); err != nil || st.Mode().IsRegular() {
		t.Fatalf("%s was replaced", os.DevNull)
	}
}

func runWithKey(t *testing.T, dir, key string, args ...string) string {
	t.Helper()
	old := os.Getenv(finding.KeyEnv)
	os.Setenv(finding.KeyEnv, key)
	defer os.Setenv(finding.KeyEnv, old)
	return tokenward(t, dir, "", args...).stdout
}

// TestProjectKeyFile: a key committed at the repository top makes two clones
// (without any key in their environment) agree on fingerprints, so a
// committed baseline works in CI and in forks.
func TestProjectKeyFile(t *testing.T) {
	fps := func(dir string) string {
		t.Helper()
		cmd := exec.Command(binary, "scan", dir, "-f", "jsonl")
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, finding.KeyEnv+"=") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env, "XDG_CONFIG_HOME="+t.TempDir())
		out, _ := cmd.Output()
		var f finding.Finding
		json.Unmarshal([]byte(strings.SplitN(string(out), "\n", 2)[0]), &f)
		return f.Fingerprint
	}
	files := map[string]string{"hook.sh": leaked, finding.ProjectKeyFile: "committed-project-key-0123456789\n"}
	a, b := tree(t, files), tree(t, files)
	if fa, fb := fps(a), fps(b); fa == "" || fa != fb {
		t.Errorf("two clones with one project key: fingerprints %q and %q", fa, fb)
	}
	delete(files, finding.ProjectKeyFile)
	if fa, fc := fps(a), fps(tree(t, files)); fa == fc {
		t.Error("without the project key, the per-user keys of two users gave the same fingerprint")
	}
}

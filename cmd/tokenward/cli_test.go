package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

var binary string

// testKey is the fingerprint key of every tokenward the tests run (and of this
// process), so fingerprints computed here match theirs.
const testKey = "tokenward-cli-test-fingerprint-key"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tokenward-cli")
	if err != nil {
		panic(err)
	}
	// Never touch the real user key file: the key comes from the environment.
	os.Setenv(finding.KeyEnv, testKey)
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	if err := finding.SetKey([]byte(testKey)); err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "tokenward")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func tokenward(t *testing.T, dir string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

const (
	token  = "8f3kQ9zLm2Xv7Rt5Wp1Yb6Nc4Hd0Js3A"
	leaked = "curl -H 'Authorization: Token " + token + "' https://api.example.com\n"
)

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestExitCodesAndRedaction(t *testing.T) {
	leaky := tree(t, map[string]string{"deploy.sh": "#!/bin/sh\n" + leaked, "bin.dat": "\x00" + leaked})
	clean := tree(t, map[string]string{"README": "nothing to see\n"})
	empty := t.TempDir()
	cases := []struct {
		name     string
		dir      string
		stdin    string
		args     []string
		code     int
		out, err string // substrings expected
		notOut   string
	}{
		{name: "version", args: []string{"version"}, out: "tokenward "},
		{name: "finding", dir: leaky, args: []string{"scan", "."}, code: 1, out: "deploy.sh:2:", notOut: token},
		{name: "binary counted", dir: leaky, args: []string{"scan", ".", "--skip-binary"}, code: 1, out: "1 not scanned (binary)"},
		{name: "show secrets", dir: leaky, args: []string{"scan", ".", "--show-secrets"}, code: 1, out: token},
		{name: "exit code flag", dir: leaky, args: []string{"scan", ".", "--exit-code", "7"}, code: 7},
		{name: "clean", dir: clean, args: []string{"scan", "."}, code: 0},
		{name: "empty dir", dir: empty, args: []string{"scan", "."}, code: 0},
		{name: "missing path", dir: empty, args: []string{"scan", "does-not-exist"}, code: 2, err: "does-not-exist"},
		{name: "stdin", dir: empty, stdin: leaked, args: []string{"scan", "-", "-f", "jsonl"}, code: 1, out: `"file":"-"`, notOut: token},
		{name: "bad format", dir: empty, args: []string{"scan", ".", "-f", "xml"}, code: 2, err: "--format"},
		{name: "bad flag", dir: empty, args: []string{"scan", "--nope"}, code: 2, err: "unknown flag"},
		{name: "sarif", dir: leaky, args: []string{"scan", ".", "-f", "sarif"}, code: 1, out: `"partialFingerprints"`, notOut: token},
		{name: "github", dir: leaky, args: []string{"scan", ".", "-f", "github"}, code: 1, out: "::error file=deploy.sh,line=2", notOut: token},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := tokenward(t, c.dir, c.stdin, c.args...)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, c.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, c.out) {
				t.Errorf("stdout lacks %q:\n%s", c.out, r.stdout)
			}
			if !strings.Contains(r.stderr, c.err) {
				t.Errorf("stderr lacks %q:\n%s", c.err, r.stderr)
			}
			if c.notOut != "" && (strings.Contains(r.stdout, c.notOut) || strings.Contains(r.stderr, c.notOut)) {
				t.Errorf("output contains %q", c.notOut)
			}
		})
	}
}

func TestOutputFileAndDeterminism(t *testing.T) {
	files := map[string]string{}
	for _, d := range []string{"a", "b", "c", "d"} {
		for _, f := range []string{"1.sh", "2.sh", "3.sh"} {
			files[d+"/"+f] = "x\n" + leaked + leaked
		}
	}
	dir := tree(t, files)
	var first []byte
	for _, w := range []string{"1", "2", "8"} {
		out := filepath.Join(t.TempDir(), "r.json")
		r := tokenward(t, dir, "", "scan", ".", "-f", "json", "-o", out, "--workers", w)
		if r.code != 1 || r.stdout != "" {
			t.Fatalf("exit %d stdout %q", r.code, r.stdout)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var fs []map[string]any
		if err := json.Unmarshal(data, &fs); err != nil || len(fs) != 24 {
			t.Fatalf("%d findings, %v", len(fs), err)
		}
		if first == nil {
			first = data
		} else if !bytes.Equal(first, data) {
			t.Fatalf("output with --workers %s differs from --workers 1", w)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name, config, want string
	}{
		{"malformed toml", "[[rule]]\nid = \"x\nregex = 'a'\n", "bad.toml:2"},
		{"invalid regex", "[[rule]]\nid = \"bad-re\"\nregex = '''(unclosed'''\n", `bad.toml:1: rule "bad-re": regex does not compile`},
		{"unknown key", "[[rule]]\nid = \"x-y\"\nregex = '''abcdef'''\nregexx = 'a'\n", `bad.toml:4: unknown key "rule.regexx"`},
		{"duplicate id", "[[rule]]\nid = \"x-y\"\nregex = '''abcdef'''\n[[rule]]\nid = \"x-y\"\nregex = '''ghijkl'''\n", `bad.toml:4: rule "x-y": duplicate id`},
		{"secret group", "[[rule]]\nid = \"x-y\"\nregex = '''abc(def)'''\nsecret_group = 3\n", "secret_group 3 is out of range"},
		{"no anchor", "[[rule]]\nid = \"x-y\"\nregex = '''[a-z]{40}'''\n", "add `keywords`"},
		{"failing example", "[extend]\nbuiltin = false\n[[rule]]\nid = \"x-y\"\nregex = '''abcdef'''\nexamples = [\"nope\"]\n", "example does not match"},
		{"failing example at scan", "[[rule]]\nid = \"x-y\"\nregex = '''zq8x[a-z]{4}'''\nnegative_examples = [\"zq8xmwpt\"]\n", `bad.toml:1: rule "x-y": negative example matches`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := tree(t, map[string]string{"bad.toml": c.config, "f.txt": "hello"})
			args := []string{"scan", ".", "--config", "bad.toml"}
			if c.name == "failing example" {
				args = []string{"rules", "test", "--config", "bad.toml"}
			}
			r := tokenward(t, dir, "", args...)
			want := 2
			if c.name == "failing example" {
				want = 1
			}
			if r.code != want || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("exit %d stderr %q, want exit %d and %q", r.code, r.stderr, want, c.want)
			}
		})
	}
}

func TestConfigInRootExtendsBuiltin(t *testing.T) {
	dir := tree(t, map[string]string{
		".tokenward.toml": "disabled = [\"authorization-token-header\"]\n[[rule]]\nid = \"acme-key\"\ndescription = \"Acme\"\nregex = '''acme_[a-z0-9]{20}'''\n",
		"a.txt":           leaked + "k = acme_q8z1m3x7r5w1y6n4h0j3\n",
	})
	// Disabling a built-in rule takes the operator's trust (see trust_test.go).
	if r := tokenward(t, dir, "", "scan", ".", "-f", "jsonl"); r.code != 2 || !strings.Contains(r.stderr, "--trust-repo-config") {
		t.Fatalf("untrusted: exit %d\n%s", r.code, r.stderr)
	}
	r := tokenward(t, dir, "", "scan", ".", "-f", "jsonl", "--trust-repo-config")
	if r.code != 1 || !strings.Contains(r.stdout, `"acme-key"`) || strings.Contains(r.stdout, "authorization-token-header") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = tokenward(t, dir, "", "rules", "list", "--trust-repo-config")
	if !strings.Contains(r.stdout, "acme-key") || strings.Contains(r.stdout, "authorization-token-header ") {
		t.Fatalf("rules list:\n%s", r.stdout)
	}
}

// TestUnreadableFile runs as an unprivileged user (root reads everything): the
// unreadable file is named on stderr, the others are still scanned, exit 2.
func TestUnreadableFile(t *testing.T) {
	dir := tree(t, map[string]string{"ok.sh": leaked, "locked.sh": leaked})
	if err := os.Chmod(filepath.Join(dir, "locked.sh"), 0); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "scan", dir, "-f", "jsonl")
	if os.Getuid() == 0 {
		for p := dir; p != "/"; p = filepath.Dir(p) {
			st, err := os.Stat(p)
			if err != nil || st.Mode().Perm()&0o005 != 0o005 {
				if err := os.Chmod(p, st.Mode().Perm()|0o755); err != nil {
					t.Skip("cannot open the temp dir to an unprivileged user")
				}
			}
		}
		for _, exe := range []string{binary, filepath.Dir(binary)} {
			os.Chmod(exe, 0o755)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("err %v, stderr %s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "locked.sh") || !strings.Contains(out.String(), "ok.sh") {
		t.Fatalf("stdout %s\nstderr %s", out.String(), errb.String())
	}
}

func TestIgnoreFileFingerprints(t *testing.T) {
	dir := tree(t, map[string]string{"a.sh": leaked})
	r := tokenward(t, dir, "", "scan", ".", "-f", "json")
	var fs []struct{ Fingerprint string }
	if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil || len(fs) != 1 {
		t.Fatalf("%v %s", err, r.stdout)
	}
	if err := os.WriteFile(filepath.Join(dir, ".tokenwardignore"), []byte("# accepted test key\n"+fs[0].Fingerprint+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = tokenward(t, dir, "", "scan", ".")
	if r.code != 0 || !strings.Contains(r.stdout, "1 suppressed") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	os.WriteFile(filepath.Join(dir, ".tokenwardignore"), []byte("sha256:nothex\n"), 0o644)
	if r = tokenward(t, dir, "", "scan", "."); r.code != 2 || !strings.Contains(r.stderr, ".tokenwardignore:1") {
		t.Fatalf("malformed ignore file: exit %d %s", r.code, r.stderr)
	}
}

// The README's quick start scans this checkout and promises exit 0: the fake tokens
// of tests, fixtures, rule examples and the generated rule table are covered by
// .tokenwardignore. Only tracked files are scanned, so a developer's untracked
// files cannot fail the test.
func TestQuickStartScanIsClean(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	ignore, err := os.ReadFile(filepath.Join(root, ".tokenwardignore"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{".tokenwardignore": string(ignore)}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the working tree
		}
		files[name] = string(b)
	}
	r := tokenward(t, tree(t, files), "", "scan", ".")
	if r.code != 0 {
		t.Fatalf("scan of the tracked files exits %d, want 0 (extend .tokenwardignore or fix the leak):\n%s", r.code, r.stdout)
	}
}

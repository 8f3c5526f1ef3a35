package action

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeAction lays out a copy of build.sh in a minimal module whose ./cmd/tokenward
// prints its -X main.version, so the script's own logic (key, cache, build) is
// tested without compiling the real tokenward.
func fakeAction(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	script, err := os.ReadFile("build.sh")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"action/build.sh":         string(script),
		"go.mod":                  "module example.com/fake\n\ngo 1.21\n",
		"cmd/tokenward/main.go":   "package main\n\nimport \"fmt\"\n\nvar version string\n\nfunc main() { fmt.Println(\"tokenward\", version) }\n",
		"cmd/tokenward/x_test.go": "package main\n",
		"rules/builtin/seed.toml": "# rules\n",
		"docs/unrelated.md":       "docs\n",
		"engine/testdata/fixture": "data\n",
	}
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

type buildRun struct {
	code              int
	out               string
	outputs, env, pth string // $GITHUB_OUTPUT, $GITHUB_ENV, $GITHUB_PATH after the run
}

// buildScript runs action/build.sh in dir as a composite step would, with PATH as given.
func buildScript(t *testing.T, dir, mode, binDir, path string, extra ...string) buildRun {
	t.Helper()
	tmp := t.TempDir()
	files := map[string]string{"GITHUB_OUTPUT": "", "GITHUB_ENV": "", "GITHUB_PATH": ""}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GITHUB_") && !strings.HasPrefix(kv, "RUNNER_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	for k := range files {
		files[k] = filepath.Join(tmp, k)
		if err := os.WriteFile(files[k], nil, 0o644); err != nil {
			t.Fatal(err)
		}
		env = append(env, k+"="+files[k])
	}
	env = append(env, "PATH="+path, "RUNNER_TEMP="+tmp, "RUNNER_OS=Linux", "RUNNER_ARCH=X64", "TOKENWARD_BIN_DIR="+binDir)
	env = append(env, extra...)
	cmd := exec.Command("bash", filepath.Join(dir, "action", "build.sh"), mode)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	r := buildRun{out: string(out)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	read := func(k string) string {
		b, err := os.ReadFile(files[k])
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	r.outputs, r.env, r.pth = read("GITHUB_OUTPUT"), read("GITHUB_ENV"), read("GITHUB_PATH")
	return r
}

// TestBuildScript covers the Action's build: a cache key that changes exactly when
// a file the build reads changes; a build that names the pinned ref as its version
// and leaves the caller's Go settings alone; and a second run that takes the
// restored binary without running go at all.
func TestBuildScript(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	sysPath := os.Getenv("PATH")
	dir := fakeAction(t)
	bin := filepath.Join(t.TempDir(), "tokenward-bin")

	key := func() string {
		t.Helper()
		r := buildScript(t, dir, "key", bin, sysPath)
		if r.code != 0 || !strings.HasPrefix(r.outputs, "key=tokenward-bin-v1-Linux-X64-") || strings.Count(r.outputs, "\n") != 1 {
			t.Fatalf("key: exit %d, GITHUB_OUTPUT %q\n%s", r.code, r.outputs, r.out)
		}
		return strings.TrimSpace(r.outputs)
	}
	k1 := key()
	if k2 := key(); k2 != k1 {
		t.Fatalf("the key is not stable: %s then %s", k1, k2)
	}
	for _, c := range []struct {
		file    string
		changes bool
	}{
		{"cmd/tokenward/x_test.go", false}, // tests are not built
		{"docs/unrelated.md", false},
		{"engine/testdata/fixture", false},
		{"rules/builtin/seed.toml", true}, // embedded
		{"go.mod", true},
		{"cmd/tokenward/main.go", true},
	} {
		before := key()
		p := filepath.Join(dir, c.file)
		old, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, append(old, "\n// edited\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		if after := key(); (after != before) != c.changes {
			t.Errorf("editing %s: key changed %v, want %v", c.file, after != before, c.changes)
		}
	}

	// A build: the version is the pinned ref (a commit SHA here); nothing reaches
	// GITHUB_ENV or GITHUB_PATH, so the caller's later steps keep their Go.
	const sha = "0123456789abcdef0123456789abcdef01234567"
	r := buildScript(t, dir, "build", bin, sysPath, "ACTION_REF="+sha, "GOTOOLCHAIN=local")
	if r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.out)
	}
	out, err := exec.Command(filepath.Join(bin, "tokenward")).Output()
	if err != nil || strings.TrimSpace(string(out)) != "tokenward "+sha {
		t.Fatalf("built binary prints %q (%v), want the pinned ref as its version", out, err)
	}
	if r.env != "" || r.pth != "" {
		t.Errorf("build.sh changed the job's environment: GITHUB_ENV %q, GITHUB_PATH %q", r.env, r.pth)
	}

	// A restored binary: no go needed (PATH without it), nothing rebuilt.
	info, err := os.Stat(filepath.Join(bin, "tokenward"))
	if err != nil {
		t.Fatal(err)
	}
	r = buildScript(t, dir, "build", bin, "/usr/bin:/bin")
	if r.code != 0 || !strings.Contains(r.out, "using the cached binary") {
		t.Fatalf("cached build: exit %d\n%s", r.code, r.out)
	}
	if again, err := os.Stat(filepath.Join(bin, "tokenward")); err != nil || !again.ModTime().Equal(info.ModTime()) {
		t.Error("the cached binary was rebuilt")
	}

	// Without a cached binary and without go: a clear error, exit 2.
	if filepath.Dir(goBin) == "/usr/bin" || filepath.Dir(goBin) == "/bin" {
		t.Skip("go is in /usr/bin: cannot hide it")
	}
	r = buildScript(t, dir, "build", filepath.Join(t.TempDir(), "empty"), "/usr/bin:/bin")
	if r.code != 2 || !strings.Contains(r.out, "needs a go command on PATH") {
		t.Errorf("build without go: exit %d\n%s", r.code, r.out)
	}
}

// Package examples holds deployment examples for tokenward sweep; this test runs
// their commands against a fake GitHub organisation served on loopback.
package examples

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/tokenward/tokenward/sweep/sweeptest"
)

// org serves a fake GitHub organisation "acme" of n repositories: its API at
// /api/v3/ and the repositories over git smart HTTP, on one loopback server.
func org(t *testing.T, n int) string {
	t.Helper()
	sweeptest.NeedGit(t)
	root := t.TempDir()
	for i := range n {
		name := fmt.Sprintf("r%02d", i)
		sweeptest.MakeRepo(t, filepath.Join(root, "acme"), name, map[string]string{"app/config.sh": sweeptest.SecretLine(name)})
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v3/orgs/acme/repos" {
			http.NotFound(w, r)
			return
		}
		var repos []map[string]any
		for i := range n {
			repos = append(repos, map[string]any{"full_name": fmt.Sprintf("acme/r%02d", i), "clone_url": fmt.Sprintf("http://%s/acme/r%02d.git", r.Host, i)})
		}
		json.NewEncoder(w).Encode(repos)
	})
	srv := sweeptest.NewGitServer(t, root, api)
	return srv.URL
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// build compiles tokenward (once) into a directory to put on PATH.
func build(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "tokenward-examples"); buildErr != nil {
			return
		}
		if out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "tokenward"), "../cmd/tokenward").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	// tokenward keeps a per-user fingerprint key under the configuration
	// directory: the examples must not create one in the real home.
	cfg, err := os.MkdirTemp("", "tokenward-examples-config")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CONFIG_HOME", cfg)
	code := m.Run()
	os.RemoveAll(cfg)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func sh(t *testing.T, dir string, env []string, script string) string {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out.String())
	}
	return out.String()
}

func decodeAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			break
		}
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		t.Fatalf("%s: no YAML documents", path)
	}
	return docs
}

// get walks a decoded YAML document: keys for maps, ints for lists.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: not a map", p)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %v: not a list of %d", p, k+1)
			}
			v = l[k]
		}
	}
	return v
}

// The Indexed Job's pods, run as the Job controller would (JOB_COMPLETION_INDEX,
// $(VAR) expansion), then the merge Job: the merged store equals one unsharded sweep.
func TestKubernetesIndexedJob(t *testing.T) {
	api := org(t, 8)
	bin := build(t)
	data := t.TempDir()
	var job map[string]any
	for _, d := range decodeAll(t, "kubernetes/sweep-indexed-job.yaml") {
		if d["kind"] == "Job" {
			job = d
		}
	}
	spec := get(t, job, "spec")
	if get(t, spec, "completionMode") != "Indexed" {
		t.Fatal("the sweep Job is not Indexed")
	}
	completions := get(t, spec, "completions").(int)
	if get(t, spec, "parallelism").(int) != completions {
		t.Error("parallelism differs from completions")
	}
	var args []string
	for _, a := range get(t, spec, "template", "spec", "containers", 0, "args").([]any) {
		args = append(args, fmt.Sprint(a))
	}
	joined := strings.Join(args, " ")
	if !strings.Contains(joined, fmt.Sprintf("--shard-count %d", completions)) {
		t.Fatalf("args %q: --shard-count must equal completions (%d)", joined, completions)
	}
	for i := range completions {
		var expanded []string
		for _, a := range args {
			a = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", fmt.Sprint(i))
			expanded = append(expanded, strings.ReplaceAll(a, "/data", data))
		}
		expanded = append(expanded, "--github-api", api)
		cmd := exec.Command(filepath.Join(bin, "tokenward"), expanded...)
		cmd.Env = append(os.Environ(), fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i), "GITHUB_TOKEN=x")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pod %d: %v\n%s", i, err, out)
		}
	}
	var merge map[string]any
	for _, d := range decodeAll(t, "kubernetes/merge-job.yaml") {
		if d["kind"] == "Job" {
			merge = d
		}
	}
	script := fmt.Sprint(get(t, merge, "spec", "template", "spec", "containers", 0, "args", 0))
	sh(t, t.TempDir(), []string{"PATH=" + bin + ":" + os.Getenv("PATH")}, strings.ReplaceAll(script, "/data", data))
	if _, err := os.Stat(filepath.Join(data, "org.sarif")); err != nil {
		t.Error("the merge Job wrote no SARIF report")
	}
	ref := filepath.Join(t.TempDir(), "ref.db")
	out, err := exec.Command(filepath.Join(bin, "tokenward"), "sweep", "--github-org", "acme", "--github-api", api, "--db", ref, "--cache", t.TempDir(), "--exit-code", "0").CombinedOutput()
	if err != nil {
		t.Fatalf("unsharded sweep: %v\n%s", err, out)
	}
	if got, want := sweeptest.Canonical(t, filepath.Join(data, "org.db")), sweeptest.Canonical(t, ref); got != want {
		t.Errorf("merged Indexed Job stores differ from an unsharded sweep:\n%s\nwant\n%s", got, want)
	}
}

// The Actions workflow's run steps, as each matrix job and the merge job run them.
func TestGitHubActionsMatrix(t *testing.T) {
	api := org(t, 8)
	bin := build(t)
	wf := decodeAll(t, "github-actions/org-sweep.yml")[0]
	env := get(t, wf, "env").(map[string]any)
	shards := get(t, wf, "jobs", "sweep", "strategy", "matrix", "shard").([]any)
	if fmt.Sprint(len(shards)) != fmt.Sprint(env["SHARDS"]) {
		t.Fatalf("matrix has %d shards, SHARDS is %v", len(shards), env["SHARDS"])
	}
	runStep := func(job, name string) string {
		for _, s := range get(t, wf, "jobs", job, "steps").([]any) {
			if m := s.(map[string]any); m["name"] == name {
				return fmt.Sprint(m["run"])
			}
		}
		t.Fatalf("job %s has no step %q", job, name)
		return ""
	}
	work := t.TempDir() // one directory: the artifacts land together for the merge job
	shellEnv := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), fmt.Sprintf("ORG=%v", env["ORG"]), fmt.Sprintf("SHARDS=%v", env["SHARDS"]), "GITHUB_TOKEN=x"}
	sweepRun := runStep("sweep", "sweep")
	for _, s := range shards {
		script := strings.ReplaceAll(sweepRun, "${{ matrix.shard }}", fmt.Sprint(s))
		dir := filepath.Join(work, fmt.Sprint("runner-", s))
		os.MkdirAll(dir, 0o755)
		sh(t, dir, shellEnv, script+" --github-api "+api)
		db := fmt.Sprintf("shard-%v.db", s)
		if err := os.Rename(filepath.Join(dir, db), filepath.Join(work, db)); err != nil { // upload + download-artifact
			t.Fatal(err)
		}
	}
	summary := filepath.Join(work, "summary.md")
	sh(t, work, append(shellEnv, "GITHUB_STEP_SUMMARY="+summary), runStep("merge", "merge")+"\n"+runStep("merge", "report"))
	if s, _ := os.ReadFile(summary); !strings.Contains(string(s), "8 findings") {
		t.Errorf("step summary %q", s)
	}
	ref := filepath.Join(t.TempDir(), "ref.db")
	out, err := exec.Command(filepath.Join(bin, "tokenward"), "sweep", "--github-org", "acme", "--github-api", api, "--db", ref, "--cache", t.TempDir(), "--exit-code", "0").CombinedOutput()
	if err != nil {
		t.Fatalf("unsharded sweep: %v\n%s", err, out)
	}
	if got, want := sweeptest.Canonical(t, filepath.Join(work, "org.db")), sweeptest.Canonical(t, ref); got != want {
		t.Errorf("merged matrix stores differ from an unsharded sweep:\n%s\nwant\n%s", got, want)
	}
}

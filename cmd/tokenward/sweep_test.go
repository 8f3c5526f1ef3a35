package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tokenward/tokenward/sweep/store"
	"github.com/tokenward/tokenward/sweep/sweeptest"
)

// twEnv runs the binary in dir with extra environment variables.
func twEnv(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
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

// orgOnDisk makes n bare repositories under root (r00, r01, ...), each with a
// secret of its own, some noise, and a second commit.
func orgOnDisk(t *testing.T, root string, n int) {
	t.Helper()
	for i := range n {
		name := fmt.Sprintf("r%02d", i)
		sweeptest.MakeRepo(t, root, name,
			map[string]string{"app/config.sh": sweeptest.SecretLine(name), "docs/notes.txt": sweeptest.Noise(name, 300)},
			map[string]string{"main.go": "package main\n\n// " + name + "\nfunc main() {}\n"})
	}
}

func reposCount(t *testing.T, path string) int {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Counts()
	if err != nil {
		t.Fatal(err)
	}
	return c.Repos
}

// A sweep killed with SIGKILL halfway, then run again, ends with the same store
// as a sweep that was never interrupted: nothing lost, nothing duplicated. The
// kill comes while a fetch hangs, or just after a repository was reported done
// (the next one may be mid-scan or mid-commit).
func TestSweepKilledAndResumed(t *testing.T) {
	sweeptest.NeedGit(t)
	root := t.TempDir()
	const n = 10
	orgOnDisk(t, root, n)
	srv := sweeptest.NewGitServer(t, root, nil)
	work := t.TempDir()
	var list strings.Builder
	for i := range n {
		fmt.Fprintf(&list, "%s/r%02d.git\n", srv.URL, i)
	}
	os.WriteFile(filepath.Join(work, "repos.txt"), []byte(list.String()), 0o644)
	r := twEnv(t, work, nil, "sweep", "--repos", "repos.txt", "--db", "ref.db", "--cache", "cache-ref", "--progress", "none", "--exit-code", "0")
	if r.code != 0 {
		t.Fatalf("uninterrupted sweep: exit %d\n%s", r.code, r.stderr)
	}
	want := sweeptest.Canonical(t, filepath.Join(work, "ref.db"))
	if !strings.Contains(want, fmt.Sprintf("# locations (%d)", n)) {
		t.Fatalf("want %d locations:\n%s", n, want)
	}

	tests := []struct {
		name      string
		gate      bool // hang the fetch of r06 and kill then
		afterDone int  // otherwise kill when this many repositories are reported done
	}{
		{name: "during a fetch", gate: true},
		{name: "after a commit", afterDone: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, cache := strings.ReplaceAll(tt.name, " ", "-")+".db", "cache-"+strings.ReplaceAll(tt.name, " ", "-")
			args := []string{"sweep", "--repos", "repos.txt", "--db", db, "--cache", cache, "--progress", "log", "--exit-code", "0", "--parallel", "2", "--fetch-parallel", "1"}
			release := make(chan struct{})
			killNow := make(chan struct{})
			var once sync.Once
			if tt.gate {
				srv.SetGate(func(r *http.Request) {
					if strings.HasPrefix(r.URL.Path, "/r06.git/") {
						once.Do(func() { close(killNow) })
						<-release
					}
				})
			}
			cmd := exec.Command(binary, args...)
			cmd.Dir = work
			pipe, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			lines := make(chan struct{})
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(pipe)
				done := 0
				for sc.Scan() {
					stderr.WriteString(sc.Text() + "\n")
					if strings.Contains(sc.Text(), "tokenward: sweep [") {
						if done++; tt.afterDone > 0 && done == tt.afterDone {
							once.Do(func() { close(killNow) })
						}
					}
				}
			}()
			select {
			case <-killNow:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				t.Fatal("the sweep never reached the kill point")
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-lines
			cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("the sweep was not killed (%v):\n%s", cmd.ProcessState, stderr.String())
			}
			close(release)
			srv.SetGate(nil)
			committed := reposCount(t, filepath.Join(work, db))
			t.Logf("%d of %d repositories stored before the kill", committed, n)
			if committed == 0 || committed >= n {
				t.Fatalf("%d repositories stored before the kill, want some but not all", committed)
			}

			// Resume: the stored repositories are unchanged, the rest are swept.
			r := twEnv(t, work, nil, args...)
			if r.code != 0 {
				t.Fatalf("resumed sweep: exit %d\n%s", r.code, r.stderr)
			}
			if got := strings.Count(r.stderr, ": unchanged\n"); got != committed {
				t.Errorf("resumed sweep found %d repositories unchanged, want the %d stored before the kill:\n%s", got, committed, r.stderr)
			}
			if got := strings.Count(r.stderr, ": scanned, "); got != n-committed {
				t.Errorf("resumed sweep scanned %d repositories, want %d:\n%s", got, n-committed, r.stderr)
			}
			if got := sweeptest.Canonical(t, filepath.Join(work, db)); got != want {
				t.Errorf("killed and resumed store differs from an uninterrupted one:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// A GitHub organisation end to end: listing through the API, clones over smart
// HTTP with the token, the store rendered in several formats, triage, and
// shards from $JOB_COMPLETION_INDEX merged into the unsharded result.
func TestSweepGitHubOrg(t *testing.T) {
	sweeptest.NeedGit(t)
	root := t.TempDir()
	const n = 6
	orgOnDisk(t, filepath.Join(root, "acme"), n)
	var apiAuth atomic.Value
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v3/orgs/acme/repos" {
			http.NotFound(w, r)
			return
		}
		apiAuth.Store(r.Header.Get("Authorization"))
		var repos []map[string]any
		for i := range n + 1 {
			repos = append(repos, map[string]any{"full_name": fmt.Sprintf("acme/r%02d", i),
				"clone_url": fmt.Sprintf("http://%s/acme/r%02d.git", r.Host, i), "fork": i == n})
		}
		json.NewEncoder(w).Encode(repos)
	})
	srv := sweeptest.NewGitServer(t, root, api)
	work := t.TempDir()
	env := []string{"GITHUB_TOKEN=ghs_sweeptesttoken"}
	sweep := func(db string, extra ...string) result {
		return twEnv(t, work, append(env, extra...), "sweep", "--github-org", "acme", "--github-api", srv.URL, "--db", db, "--cache", "cache-"+db, "--progress", "none")
	}
	r := sweep("all.db")
	if r.code != 1 {
		t.Fatalf("sweep: exit %d, want 1 (open findings)\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "skipped 1 repository: 1 fork") || !strings.Contains(r.stderr, "6 repositories (6 scanned)") {
		t.Errorf("summary:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "sweeptesttoken") || strings.Contains(r.stderr, sweeptest.Token("r00")) {
		t.Errorf("a token or secret on stderr:\n%s", r.stderr)
	}
	if got := apiAuth.Load(); got != "Bearer ghs_sweeptesttoken" {
		t.Errorf("API Authorization %q", got)
	}
	if got := srv.Auth("/acme/r00.git"); got != "x-access-token:ghs_sweeptesttoken" {
		t.Errorf("clone credentials %q, want the token for the API's own host", got)
	}

	// Reports from the store.
	r = tokenward(t, work, "", "report", "--db", "all.db", "-f", "jsonl")
	if r.code != 1 || findingLines(t, r.stdout) != n {
		t.Fatalf("report jsonl: exit %d, %d findings\n%s%s", r.code, findingLines(t, r.stdout), r.stdout, r.stderr)
	}
	var first struct{ File, Fingerprint, Commit, Secret string }
	json.Unmarshal([]byte(strings.SplitN(r.stdout, "\n", 2)[0]), &first)
	if first.File != "acme/r00/app/config.sh" || first.Commit == "" || first.Secret != "" {
		t.Errorf("first finding %+v", first)
	}
	r = tokenward(t, work, "", "report", "--db", "all.db", "-f", "sarif")
	var sarif struct {
		Runs []struct{ Results []json.RawMessage } `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sarif); err != nil || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) != n {
		t.Errorf("report sarif: %v, %+v", err, sarif)
	}
	if r = tokenward(t, work, "", "report", "--db", "all.db", "--show-secrets", "--repo", "acme/r03", "-f", "json"); !strings.Contains(r.stdout, sweeptest.Token("r03")) || strings.Contains(r.stdout, "acme/r00/") {
		t.Errorf("report --repo --show-secrets:\n%s", r.stdout)
	}

	// Triage every finding but one: the report and the exit status follow.
	var fps []string
	for _, f := range decodeFindings(t, tokenward(t, work, "", "report", "--db", "all.db", "-f", "jsonl").stdout) {
		fps = append(fps, f.Fingerprint)
	}
	if r = tokenward(t, work, "", append([]string{"triage", "--db", "all.db", "--status", "false-positive", "--note", "fixture"}, fps[1:]...)...); r.code != 0 {
		t.Fatalf("triage: %d %s", r.code, r.stderr)
	}
	if r = tokenward(t, work, "", "triage", "--db", "all.db", "--status", "bogus", fps[0]); r.code != 2 {
		t.Errorf("triage --status bogus: exit %d", r.code)
	}
	if r = tokenward(t, work, "", "report", "--db", "all.db", "-f", "jsonl"); findingLines(t, r.stdout) != 1 || !strings.Contains(r.stdout, fps[0]) {
		t.Errorf("report after triage:\n%s", r.stdout)
	}
	if r = tokenward(t, work, "", "report", "--db", "all.db", "-f", "jsonl", "--triage", "false-positive"); findingLines(t, r.stdout) != n-1 {
		t.Errorf("report --triage false-positive: %d lines", findingLines(t, r.stdout))
	}
	if r = tokenward(t, work, "", "triage", "--db", "all.db", "--status", "revoked", fps[0][:20]); r.code != 0 {
		t.Fatalf("triage by prefix: %d %s", r.code, r.stderr)
	}
	if r = sweep("all.db"); r.code != 0 || !strings.Contains(r.stderr, "6 unchanged") {
		t.Errorf("re-sweep with everything triaged: exit %d, want 0\n%s", r.code, r.stderr)
	}

	// Three Indexed Job workers, merged: the same as the single sweep (before triage).
	if r = sweep("single.db"); r.code != 1 {
		t.Fatalf("single sweep: exit %d\n%s", r.code, r.stderr)
	}
	var dbs []string
	for i := range 3 {
		db := fmt.Sprintf("shard-%d.db", i)
		r := twEnv(t, work, append(env, fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i)), "sweep", "--github-org", "acme", "--github-api", srv.URL,
			"--shard-count", "3", "--db", db, "--cache", "cache-shards", "--progress", "none", "--exit-code", "0")
		if r.code != 0 || !strings.Contains(r.stderr, fmt.Sprintf("shard %d/3", i)) {
			t.Fatalf("shard %d: exit %d\n%s", i, r.code, r.stderr)
		}
		dbs = append(dbs, db)
	}
	if r = tokenward(t, work, "", append([]string{"merge", "-o", "merged.db"}, dbs...)...); r.code != 0 {
		t.Fatalf("merge: %d %s", r.code, r.stderr)
	}
	if r = tokenward(t, work, "", "merge", "-o", "merged.db", dbs[2], dbs[0]); r.code != 0 { // again, another order
		t.Fatalf("merge again: %d %s", r.code, r.stderr)
	}
	if got, want := sweeptest.Canonical(t, filepath.Join(work, "merged.db")), sweeptest.Canonical(t, filepath.Join(work, "single.db")); got != want {
		t.Errorf("merged shards differ from the single sweep:\n%s\nwant\n%s", got, want)
	}
	if r = tokenward(t, work, "", "merge", "shard-0.db"); r.code != 2 {
		t.Errorf("merge without -o: exit %d", r.code)
	}
}

func TestSweepVerifiesAndStores(t *testing.T) {
	sweeptest.NeedGit(t)
	root := t.TempDir()
	orgOnDisk(t, root, 3)
	var calls atomic.Int64
	live := "Token " + sweeptest.Token("r01")
	verifier := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") == live {
			w.WriteHeader(200)
			fmt.Fprint(w, `{"ok":true}`)
			return
		}
		w.WriteHeader(401)
	})}
	srv := sweeptest.NewGitServer(t, root, verifier.Handler)
	work := t.TempDir()
	var list strings.Builder
	for i := range 3 {
		fmt.Fprintf(&list, "file://%s/r%02d.git\n", root, i)
	}
	os.WriteFile(filepath.Join(work, "repos.txt"), []byte(list.String()), 0o644)
	args := []string{"sweep", "--repos", "repos.txt", "--db", "v.db", "--cache", "c", "--progress", "none", "--verify", "--endpoint", "seed=" + srv.URL + "/me"}
	r := tokenward(t, work, "", args...)
	if r.code != 1 || calls.Load() != 3 {
		t.Fatalf("sweep --verify: exit %d, %d checks\n%s", r.code, calls.Load(), r.stderr)
	}
	r = tokenward(t, work, "", "report", "--db", "v.db", "--only-live", "-f", "jsonl")
	if findingLines(t, r.stdout) != 1 || !strings.Contains(r.stdout, `"status":"live"`) || !strings.Contains(r.stdout, "/r01/") {
		t.Errorf("live findings from the store:\n%s", r.stdout)
	}
	// Verification results are stored: a rescan checks nothing again.
	r = tokenward(t, work, "", append(args, "--rescan")...)
	if calls.Load() != 3 {
		t.Errorf("rescan verified again: %d checks", calls.Load())
	}
	// report --verify checks again and stores the new results.
	r = tokenward(t, work, "", "report", "--db", "v.db", "--verify", "--endpoint", "seed="+srv.URL+"/me", "-f", "jsonl")
	if calls.Load() != 6 || strings.Count(r.stdout, `"status":"invalid"`) != 2 {
		t.Errorf("report --verify: %d checks\n%s%s", calls.Load(), r.stdout, r.stderr)
	}
}

func TestSweepUsageErrors(t *testing.T) {
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "bad.txt"), []byte("ftp://example.com/x\n"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sweep"}, "nothing to sweep"},
		{[]string{"sweep", "--repos", "bad.txt"}, "bad.txt:1:"},
		{[]string{"sweep", "--repos", "bad.txt", "--shard", "3/3"}, "--shard \"3/3\""},
		{[]string{"sweep", "--repos", "bad.txt", "--shard-count", "4"}, "JOB_COMPLETION_INDEX"},
		{[]string{"sweep", "--repos", "bad.txt", "--progress", "fancy"}, "--progress"},
		// Checked before any request: a plain-http API would carry the token in clear.
		{[]string{"sweep", "--github-org", "acme", "--github-api", "http://ghe.example.com/api/v3"}, "--github-api: \"http://ghe.example.com/api/v3\": plain http is allowed only to a loopback host"},
		{[]string{"sweep", "--gitlab-group", "acme", "--gitlab-api", "ftp://gitlab.example.com"}, "--gitlab-api: \"ftp://gitlab.example.com\": scheme must be https"},
		{[]string{"report", "--db", "missing.db"}, "missing.db"},
		{[]string{"report", "--db", "missing.db", "--triage", "nope"}, "--triage \"nope\""},
		{[]string{"triage", "--db", "missing.db", "sha256:abc"}, "missing.db"},
	}
	for _, tt := range tests {
		r := tokenward(t, work, "", tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "missing.db")); err == nil {
		t.Error("report created the missing store")
	}
}

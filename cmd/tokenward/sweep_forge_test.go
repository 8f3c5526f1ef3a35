package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/tokenward/tokenward/sweep/sweeptest"
)

// tokenward sweep --include code,wiki,comments,actions-logs over a fake
// GitHub: the code and the wiki are mirrored over smart HTTP, a comment and
// an Actions log read through the API (the log from a second host, without
// the token); every finding is in the report at its location, and a re-sweep
// downloads nothing again and reports the same findings.
func TestSweepGitHubBeyondCode(t *testing.T) {
	sweeptest.NeedGit(t)
	root := t.TempDir()
	orgOnDisk(t, filepath.Join(root, "acme"), 2)
	sweeptest.MakeRepo(t, filepath.Join(root, "acme"), "r00.wiki", map[string]string{"Home.md": "# Deploying\n\n" + sweeptest.SecretLine("wiki")})
	web := "https://github.example/acme"

	var logZip bytes.Buffer
	zw := zip.NewWriter(&logZip)
	w, _ := zw.Create("build/2_Run tests.txt")
	fmt.Fprint(w, "2026-01-04T00:00:02Z go test ./...\nok\n"+sweeptest.SecretLine("actions-log"))
	zw.Close()
	var mu sync.Mutex
	var downloads int
	var storageAuth []string
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		downloads++
		storageAuth = append(storageAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write(logZip.Bytes())
	}))
	defer storage.Close()

	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer ghs_forgetoken" {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		p := strings.TrimPrefix(r.URL.Path, "/api/v3")
		var out any = []any{}
		switch p {
		case "/orgs/acme/repos":
			var repos []map[string]any
			for i := range 2 {
				repos = append(repos, map[string]any{"name": fmt.Sprintf("r%02d", i), "full_name": fmt.Sprintf("acme/r%02d", i),
					"owner": map[string]any{"login": "acme"}, "html_url": fmt.Sprintf("%s/r%02d", web, i),
					"clone_url": fmt.Sprintf("http://%s/acme/r%02d.git", r.Host, i), "has_wiki": true})
			}
			out = repos
		case "/repos/acme/r00/issues/comments":
			if r.URL.Query().Get("since") == "" {
				out = []map[string]any{{"id": 501, "body": "Try this:\n" + sweeptest.SecretLine("pr-comment"), "updated_at": "2026-01-03T00:00:00Z",
					"html_url": web + "/r00/pull/2#issuecomment-501", "user": map[string]any{"login": "dev"}}}
			}
		case "/repos/acme/r00/actions/runs":
			out = map[string]any{"total_count": 1, "workflow_runs": []map[string]any{{"id": 77, "status": "completed", "run_attempt": 1,
				"updated_at": "2026-01-04T00:00:00Z", "html_url": web + "/r00/actions/runs/77"}}}
		case "/repos/acme/r01/actions/runs":
			out = map[string]any{"total_count": 0, "workflow_runs": []any{}}
		case "/repos/acme/r00/actions/runs/77/logs":
			w.Header().Set("Location", storage.URL+"/blob/run-77.zip?sig=abc")
			w.WriteHeader(http.StatusFound)
			return
		}
		json.NewEncoder(w).Encode(out)
	})
	srv := sweeptest.NewGitServer(t, root, api)
	work := t.TempDir()
	env := []string{"GITHUB_TOKEN=ghs_forgetoken"}
	sweep := func() result {
		return twEnv(t, work, env, "sweep", "--github-org", "acme", "--github-api", srv.URL, "--include", "code,wiki,comments,actions-logs",
			"--db", "f.db", "--cache", "cache", "--progress", "log")
	}
	r := sweep()
	if r.code != 1 {
		t.Fatalf("sweep: exit %d, want 1\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "acme/r01.wiki: absent") || !strings.Contains(r.stderr, "2 new or changed items scanned") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "ghs_forgetoken") || strings.Contains(r.stderr, sweeptest.Token("pr-comment")) {
		t.Errorf("a token on stderr:\n%s", r.stderr)
	}
	locations := func() []string {
		t.Helper()
		rep := tokenward(t, work, "", "report", "--db", "f.db", "-f", "jsonl")
		var out []string
		for _, f := range decodeFindings(t, rep.stdout) {
			out = append(out, fmt.Sprintf("%s:%d", f.File, f.Line))
		}
		sort.Strings(out)
		return out
	}
	want := []string{
		"acme/r00.wiki/Home.md:3",
		"acme/r00/app/config.sh:1",
		"acme/r01/app/config.sh:1",
		web + "/r00/actions/runs/77!build/2_Run tests.txt:3",
		web + "/r00/pull/2#issuecomment-501:2",
	}
	sort.Strings(want)
	if got := locations(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("report:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	mu.Lock()
	if downloads != 1 || storageAuth[0] != "" {
		t.Errorf("%d log downloads, Authorization %q to the storage host", downloads, storageAuth)
	}
	mu.Unlock()

	r = sweep()
	if r.code != 1 || !strings.Contains(r.stderr, "0 new or changed items scanned") {
		t.Errorf("re-sweep: exit %d\n%s", r.code, r.stderr)
	}
	mu.Lock()
	if downloads != 1 {
		t.Errorf("the re-sweep downloaded the logs again (%d downloads)", downloads)
	}
	mu.Unlock()
	if got := locations(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("report after the re-sweep:\n%s", strings.Join(got, "\n"))
	}
	// The JSON output of the sweep itself carries the same locations.
	r = twEnv(t, work, env, "sweep", "--github-org", "acme", "--github-api", srv.URL, "--include", "code,wiki,comments,actions-logs",
		"--db", "f.db", "--cache", "cache", "--progress", "none", "-f", "jsonl")
	if r.code != 1 || findingLines(t, r.stdout) != len(want) || !strings.Contains(r.stdout, "issuecomment-501") {
		t.Errorf("sweep -f jsonl: exit %d, %d findings\n%s%s", r.code, findingLines(t, r.stdout), r.stdout, r.stderr)
	}
}

func TestSweepIncludeUsage(t *testing.T) {
	work := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "--github-org", "acme", "--include", "merge-requests"}, "--include merge-requests reads GitLab"},
		{[]string{"sweep", "--gitlab-group", "acme", "--include", "pulls"}, "--include pulls reads GitHub"},
		{[]string{"sweep", "--github-org", "acme", "--include", "code,wikis"}, `unknown "wikis"`},
		{[]string{"sweep", "--repo", "acme", "--github-api", "http://127.0.0.1:9/api/v3", "--db", "x.db"}, "--repo \"acme\": want OWNER/NAME"},
	} {
		r := tokenward(t, work, "", tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// tokenward sweep --gitlab-group with --include merge-requests,ci-logs: a token
// in a merge request note and one in a job log, at their web URLs.
func TestSweepGitLabBeyondCode(t *testing.T) {
	web := "https://gitlab.example/acme/api"
	var mu sync.Mutex
	var traces int
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("PRIVATE-TOKEN") != "glpat-forge" {
			http.Error(w, `{"message":"401 Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		const proj = "/api/v4/projects/acme%2Fapi"
		var out any = []any{}
		switch r.URL.EscapedPath() {
		case "/api/v4/groups/acme/projects":
			out = []map[string]any{{"id": 1, "path_with_namespace": "acme/api", "web_url": web, "http_url_to_repo": web + ".git"}}
		case proj + "/merge_requests":
			if r.URL.Query().Get("updated_after") == "" {
				out = []map[string]any{{"iid": 4, "description": "Adds the client", "updated_at": "2026-01-03T00:00:00.000Z", "web_url": web + "/-/merge_requests/4"}}
			}
		case proj + "/merge_requests/4/notes":
			out = []map[string]any{{"id": 155, "body": "use\n" + sweeptest.SecretLine("gl-note"), "updated_at": "2026-01-03T00:00:00.000Z"}}
		case proj + "/jobs":
			out = []map[string]any{{"id": 300, "status": "success", "finished_at": "2026-01-04T00:00:00.000Z", "web_url": web + "/-/jobs/300"}}
		case proj + "/jobs/300/trace":
			mu.Lock()
			traces++
			mu.Unlock()
			fmt.Fprint(w, "$ make deploy\n"+sweeptest.SecretLine("gl-job"))
			return
		}
		json.NewEncoder(w).Encode(out)
	}))
	defer api.Close()
	work := t.TempDir()
	args := []string{"sweep", "--gitlab-group", "acme", "--gitlab-api", api.URL + "/api/v4", "--include", "merge-requests,ci-logs", "--db", "g.db", "--progress", "none", "-f", "jsonl"}
	env := []string{"GITLAB_TOKEN=glpat-forge"}
	for i := range 2 {
		r := twEnv(t, work, env, args...)
		var got []string
		for _, f := range decodeFindings(t, r.stdout) {
			got = append(got, fmt.Sprintf("%s:%d", f.File, f.Line))
		}
		sort.Strings(got)
		want := []string{web + "/-/jobs/300:2", web + "/-/merge_requests/4#note_155:2"}
		if r.code != 1 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("sweep %d: exit %d, findings %v, want %v\n%s", i, r.code, got, want, r.stderr)
		}
	}
	if traces != 1 {
		t.Errorf("the job log was read %d times, want once", traces)
	}
}

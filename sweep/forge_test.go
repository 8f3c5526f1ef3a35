package sweep

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenward/tokenward/hygiene"
	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/sweep/store"
	"github.com/tokenward/tokenward/sweep/sweeptest"
)

// ghItem is an issue, pull request or comment of the fake.
type ghItem struct {
	kind    string // issue, pull, issue-comment, review-comment
	number  int
	id      int64
	body    string
	updated string
}

// fakeForge replays the GitHub REST API's documented shapes for one
// repository, acme/api: issues (pull requests among them, with a pull_request
// key), issue and review comments (filtered by since=), releases, workflow runs
// and their logs (302 to a storage host, another loopback server).
type fakeForge struct {
	api, storage *httptest.Server
	web          string

	mu       sync.Mutex
	items    []ghItem
	runs     []map[string]any
	logs     map[int64][]byte
	requests []string // METHOD path?query, in order, API and storage
	apiAuth  []string // Authorization of API requests
	blobAuth []string // Authorization of storage requests (must be empty)
	quirk    func(path string, w http.ResponseWriter) bool
}

func newFakeForge(t testing.TB) *fakeForge {
	f := &fakeForge{web: "https://github.example/acme/api", logs: map[int64][]byte{}}
	f.storage = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, "storage "+r.URL.Path)
		f.blobAuth = append(f.blobAuth, r.Header.Get("Authorization"))
		id, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/signed/run-"), ".zip"), 10, 64)
		data, ok := f.logs[id]
		f.mu.Unlock()
		if !ok || r.URL.Query().Get("sig") != "s3cr3t" {
			http.Error(w, "no such blob", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Write(data)
	}))
	t.Cleanup(f.storage.Close)
	f.api = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.api.Close)
	return f
}

func (f *fakeForge) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func (f *fakeForge) resetLog() {
	f.mu.Lock()
	f.requests, f.apiAuth, f.blobAuth = nil, nil, nil
	f.mu.Unlock()
}

func (f *fakeForge) user(login string) map[string]any { return map[string]any{"login": login, "id": 1} }

func (f *fakeForge) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, "api "+r.URL.Path+"?"+r.URL.RawQuery)
	f.apiAuth = append(f.apiAuth, r.Header.Get("Authorization"))
	quirk := f.quirk
	f.mu.Unlock()
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4000")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	if quirk != nil && quirk(r.URL.Path, w) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	since := r.URL.Query().Get("since")
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	after := func(updated string) bool { return since == "" || updated >= since }
	var out any
	p := strings.TrimPrefix(r.URL.Path, "/api/v3")
	switch {
	case p == "/orgs/acme/repos":
		out = []map[string]any{{"name": "api", "full_name": "acme/api", "owner": f.user("acme"), "html_url": f.web,
			"clone_url": "https://github.example/acme/api.git", "has_wiki": false}}
	case p == "/repos/acme/api/issues":
		if r.URL.Query().Get("state") != "all" {
			http.Error(w, "want state=all", http.StatusBadRequest)
			return
		}
		var list []map[string]any
		for _, it := range f.items {
			if (it.kind == "issue" || it.kind == "pull") && after(it.updated) {
				m := map[string]any{"number": it.number, "body": it.body, "updated_at": it.updated, "user": f.user("dev"),
					"html_url": fmt.Sprintf("%s/issues/%d", f.web, it.number)}
				if it.kind == "pull" {
					m["html_url"] = fmt.Sprintf("%s/pull/%d", f.web, it.number)
					m["pull_request"] = map[string]any{"url": "x", "html_url": m["html_url"]}
				}
				list = append(list, m)
			}
		}
		out = list
	case p == "/repos/acme/api/issues/comments", p == "/repos/acme/api/pulls/comments":
		kind := "issue-comment"
		if strings.Contains(p, "pulls") {
			kind = "review-comment"
		}
		var list []map[string]any
		for _, it := range f.items {
			if it.kind == kind && after(it.updated) {
				if len(list) == 100*max(page, 1) {
					q := r.URL.Query()
					q.Set("page", strconv.Itoa(max(page, 1)+1))
					w.Header().Set("Link", fmt.Sprintf(`<%s%s?%s>; rel="next"`, f.api.URL, r.URL.Path, q.Encode()))
					break
				}
				u := fmt.Sprintf("%s/pull/%d#issuecomment-%d", f.web, it.number, it.id)
				if kind == "review-comment" {
					u = fmt.Sprintf("%s/pull/%d#discussion_r%d", f.web, it.number, it.id)
				}
				list = append(list, map[string]any{"id": it.id, "body": it.body, "updated_at": it.updated, "user": f.user("dev"), "html_url": u})
			}
		}
		out = list[min(len(list), 100*(max(page, 1)-1)):]
	case p == "/repos/acme/api/releases":
		out = []map[string]any{{"id": 1, "name": "v1.0", "body": "First release.\n", "html_url": f.web + "/releases/tag/v1.0",
			"created_at": "2026-01-01T00:00:00Z", "published_at": "2026-01-01T00:00:00Z", "assets": []map[string]any{{"name": "api-linux-amd64.tar.gz"}}}}
	case p == "/repos/acme/api/actions/runs":
		out = map[string]any{"total_count": len(f.runs), "workflow_runs": f.runs}
	case strings.HasPrefix(p, "/repos/acme/api/actions/runs/") && strings.HasSuffix(p, "/logs"):
		id := strings.TrimSuffix(strings.TrimPrefix(p, "/repos/acme/api/actions/runs/"), "/logs")
		w.Header().Set("Location", fmt.Sprintf("%s/signed/run-%s.zip?sig=s3cr3t", f.storage.URL, id))
		w.WriteHeader(http.StatusFound)
		return
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// addRun adds a completed workflow run whose logs zip holds files.
func (f *fakeForge) addRun(t testing.TB, id int64, updated string, files map[string]string) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fw, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(files[n]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs[id] = buf.Bytes()
	f.runs = append([]map[string]any{{"id": id, "name": "ci", "status": "completed", "conclusion": "success", "run_attempt": 1,
		"updated_at": updated, "html_url": fmt.Sprintf("%s/actions/runs/%d", f.web, id), "actor": f.user("dev")}}, f.runs...)
}

// itemsConfig is a sweep configuration whose pipeline opens archives, as the
// command's does.
func itemsConfig(t testing.TB, dir string) Config {
	t.Helper()
	cfg := testConfig(t, filepath.Join(dir, "s.db"), filepath.Join(dir, "cache"))
	set, eng := testEngine(t)
	hc, err := hygiene.FromSet(set)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Pipeline, err = pipeline.New(pipeline.Options{Rules: set, Engine: eng, Hygiene: hc, Content: pipeline.ContentOptions{MaxArchiveDepth: 4}}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

type located struct {
	file string
	line int
}

func storedLocations(t *testing.T, st *store.Store, keys []string) []located {
	t.Helper()
	ls, err := st.Findings(store.Query{Repos: keys})
	if err != nil {
		t.Fatal(err)
	}
	var out []located
	for _, l := range ls {
		out = append(out, located{l.File, l.Line})
	}
	return out
}

// The Done-when of issue 18 for GitHub: a token planted in a pull request
// comment and one in an Actions log are found, located by their web URLs and
// lines; the logs are fetched from the storage host without the token; a
// re-sweep reads only what changed (counted requests) and still reports the
// stored findings.
func TestSweepGitHubItems(t *testing.T) {
	f := newFakeForge(t)
	prToken, logToken := sweeptest.SecretLine("pr-comment"), sweeptest.SecretLine("actions-log")
	f.items = []ghItem{
		{kind: "issue", number: 1, body: "It crashes.\n", updated: "2026-01-01T00:00:00Z"},
		{kind: "pull", number: 2, body: "Adds a client.\n", updated: "2026-01-02T00:00:00Z"},
		{kind: "issue-comment", number: 2, id: 501, body: "Try this:\n" + prToken, updated: "2026-01-03T00:00:00Z"},
		{kind: "review-comment", number: 2, id: 601, body: "nit: naming\n", updated: "2026-01-03T00:00:00Z"},
	}
	f.addRun(t, 9001, "2026-01-04T00:00:00Z", map[string]string{
		"build/1_Set up job.txt": "2026-01-04T00:00:01Z Runner 2.3\n",
		"build/2_Run tests.txt":  "2026-01-04T00:00:02Z go test ./...\nok\n" + logToken,
	})
	dir := t.TempDir()
	cfg := itemsConfig(t, dir)
	var waits []time.Duration
	limits := Limits{Retries: 3, Sleep: func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return ctx.Err() }}
	list := func() Listing {
		t.Helper()
		l, err := ListGitHubForge(context.Background(), GitHubOptions{API: f.api.URL, Token: "ghs_forgetoken", Org: "acme", Limits: limits,
			Include: Include{Issues: true, Pulls: true, Comments: true, Releases: true, ActionsLogs: true}})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := list()
	if len(l.Targets) != 0 || len(l.Collections) != 5 {
		t.Fatalf("listing: %d targets, %d collections; want 0 and 5", len(l.Targets), len(l.Collections))
	}
	var keys []string
	for _, c := range l.Collections {
		keys = append(keys, c.Key)
	}
	sum := RunItems(context.Background(), cfg, l.Collections, nil)
	if sum.Failed != 0 || sum.Items != 6 {
		t.Fatalf("first sweep: %+v; want 6 items (issue, pull, 2 comments, release, run)", sum)
	}
	want := []located{
		{f.web + "/actions/runs/9001!build/2_Run tests.txt", 3},
		{f.web + "/pull/2#issuecomment-501", 2},
	}
	got := storedLocations(t, cfg.Store, keys)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings at %v, want %v", got, want)
	}
	for _, a := range f.blobAuth {
		if a != "" {
			t.Errorf("the logs download carried Authorization %q to the storage host", a)
		}
	}
	for _, a := range f.apiAuth {
		if a != "Bearer ghs_forgetoken" {
			t.Errorf("an API request carried Authorization %q", a)
		}
	}
	if n := f.count("storage "); n != 1 {
		t.Errorf("%d log downloads, want 1", n)
	}

	// Nothing changed: one request per listing, no logs, nothing scanned; the
	// findings are still in the store.
	f.resetLog()
	sum = RunItems(context.Background(), cfg, list().Collections, nil)
	if sum.Items != 0 || sum.Failed != 0 {
		t.Errorf("unchanged re-sweep scanned %d items: %+v", sum.Items, sum)
	}
	// Listings: repos, issues (twice: issues and pulls), issue comments, review comments, releases, runs.
	if n := f.count("api "); n != 7 || f.count("storage ") != 0 || f.count("api /api/v3/repos/acme/api/actions/runs/") != 0 {
		t.Errorf("unchanged re-sweep: %d API requests, %d downloads; want 7 and 0\n%s", n, f.count("storage "), strings.Join(f.requests, "\n"))
	}
	f.mu.Lock()
	for _, r := range f.requests {
		if strings.Contains(r, "/issues/comments?") && !strings.Contains(r, "since=2026-01-03T00%3A00%3A00Z") {
			t.Errorf("issue comments listed without the watermark: %s", r)
		}
	}
	f.mu.Unlock()
	if got := storedLocations(t, cfg.Store, keys); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after an unchanged re-sweep, findings at %v, want %v", got, want)
	}

	// One comment edited, one run added: only they are read and scanned.
	f.mu.Lock()
	f.items[3].body, f.items[3].updated = "nit: naming\n"+sweeptest.SecretLine("review"), "2026-01-05T00:00:00Z"
	f.mu.Unlock()
	f.addRun(t, 9002, "2026-01-05T00:00:00Z", map[string]string{"build/1_Set up job.txt": "nothing\n"})
	f.resetLog()
	sum = RunItems(context.Background(), cfg, list().Collections, nil)
	if sum.Items != 2 || sum.Failed != 0 {
		t.Errorf("re-sweep after changes scanned %d items, want 2: %+v", sum.Items, sum)
	}
	if n := f.count("storage "); n != 1 || f.count("api /api/v3/repos/acme/api/actions/runs/9001") != 0 {
		t.Errorf("logs downloaded again: %d downloads\n%s", n, strings.Join(f.requests, "\n"))
	}
	want = append(want, located{f.web + "/pull/2#discussion_r601", 2})
	sort.Slice(want, func(i, j int) bool { return want[i].file < want[j].file })
	if got := storedLocations(t, cfg.Store, keys); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings at %v, want %v", got, want)
	}
	if len(waits) != 0 {
		t.Errorf("waited %v without a rate limit", waits)
	}
}

// Rate limits while reading items: a 403 with the quota exhausted waits for
// the reset, a 429 for its Retry-After, both through the injected sleep; a
// reset too far ahead fails the collection at once, is recorded, and the next
// sweep reads it again.
func TestSweepGitHubItemsRateLimits(t *testing.T) {
	tests := []struct {
		name     string
		quirk    func(w http.ResponseWriter)
		wantWait time.Duration
		wantFail string
	}{
		{name: "primary 403", quirk: func(w http.ResponseWriter) {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Unix(), 10))
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"API rate limit exceeded for installation ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`)
		}, wantWait: time.Second},
		{name: "429 Retry-After", quirk: func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"message":"Too Many Requests"}`)
		}, wantWait: 7 * time.Second},
		{name: "429 beyond the longest wait", quirk: func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "7200")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"message":"Too Many Requests"}`)
		}, wantFail: "--rate-limit-wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeForge(t)
			f.items = []ghItem{{kind: "issue-comment", number: 2, id: 501, body: sweeptest.SecretLine("rl"), updated: "2026-01-03T00:00:00Z"}}
			limited := 0
			f.quirk = func(path string, w http.ResponseWriter) bool {
				if strings.HasSuffix(path, "/issues/comments") && limited == 0 {
					limited++
					tt.quirk(w)
					return true
				}
				return false
			}
			var waits []time.Duration
			limits := Limits{MaxWait: time.Minute, Retries: 3, Sleep: func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
			cfg := itemsConfig(t, t.TempDir())
			l, err := ListGitHubForge(context.Background(), GitHubOptions{API: f.api.URL, Org: "acme", Limits: limits, Include: Include{Comments: true}})
			if err != nil {
				t.Fatal(err)
			}
			sum := RunItems(context.Background(), cfg, l.Collections, nil)
			if tt.wantFail != "" {
				if sum.Failed != 1 || !strings.Contains(sum.Problems[0].Detail, tt.wantFail) || len(waits) != 0 {
					t.Fatalf("want a failure naming %s without waiting: %+v, waits %v", tt.wantFail, sum, waits)
				}
				r, _, _ := cfg.Store.Repo(l.Collections[0].Key)
				if r.Status != store.StatusError {
					t.Errorf("failed collection stored as %+v", r)
				}
				f.quirk = nil
				if sum = RunItems(context.Background(), cfg, l.Collections, nil); sum.Failed != 0 || sum.Findings != 1 {
					t.Errorf("the sweep after the failure: %+v", sum)
				}
				return
			}
			if sum.Failed != 0 || sum.Findings != 1 {
				t.Fatalf("sweep: %+v", sum)
			}
			if len(waits) != 1 || waits[0] < tt.wantWait || waits[0] > tt.wantWait+2*time.Second {
				t.Errorf("waits %v, want one of about %s", waits, tt.wantWait)
			}
			if n := f.count("api /api/v3/repos/acme/api/issues/comments"); n != 2 {
				t.Errorf("%d requests of the limited listing, want 2", n)
			}
		})
	}
}

// The logs redirect is followed only to a URL that may be fetched: plain http
// to a host that is not loopback is refused before anything is sent.
func TestRunLogsRedirectRefused(t *testing.T) {
	f := newFakeForge(t)
	f.addRun(t, 7, "2026-01-04T00:00:00Z", map[string]string{"a.txt": "x\n"})
	f.quirk = func(path string, w http.ResponseWriter) bool {
		if strings.HasSuffix(path, "/logs") {
			w.Header().Set("Location", "http://storage.example.com/signed/run-7.zip?sig=s3cr3t")
			w.WriteHeader(http.StatusFound)
			return true
		}
		return false
	}
	cfg := itemsConfig(t, t.TempDir())
	l, err := ListGitHubForge(context.Background(), GitHubOptions{API: f.api.URL, Token: "ghs_x", Org: "acme", Limits: fastLimits(), Include: Include{ActionsLogs: true}})
	if err != nil {
		t.Fatal(err)
	}
	sum := RunItems(context.Background(), cfg, l.Collections, nil)
	if sum.Failed != 1 || !strings.Contains(sum.Problems[0].Detail, "refused the redirect") || strings.Contains(sum.Problems[0].Detail, "s3cr3t") {
		t.Fatalf("want the redirect refused: %+v", sum)
	}
	if f.count("storage ") != 0 {
		t.Error("the storage server was reached")
	}
}

// What is mirrored beside the code: GitHub wikis (only where has_wiki) and the
// gists of an organisation's members; one repository with Repo; GitLab wikis
// and snippets; the token only for clones from the API's own host.
func TestForgeListingsMirrorTargets(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		host := "http://" + r.Host
		repo := func(name string, wiki bool) map[string]any {
			return map[string]any{"name": name, "full_name": "acme/" + name, "owner": map[string]any{"login": "acme"}, "html_url": "https://github.example/acme/" + name,
				"clone_url": host + "/acme/" + name + ".git", "has_wiki": wiki}
		}
		var out any
		switch r.URL.Path {
		case "/api/v3/orgs/acme/repos":
			out = []any{repo("api", true), repo("web", false)}
		case "/api/v3/repos/acme/web":
			out = repo("web", true)
		case "/api/v3/orgs/acme/members":
			out = []any{map[string]any{"login": "dev"}}
		case "/api/v3/users/dev/gists":
			out = []any{map[string]any{"id": "aa5a315d61ae9438b18d", "html_url": "https://gist.github.example/aa5a315d61ae9438b18d",
				"git_pull_url": "https://gist.github.example/aa5a315d61ae9438b18d.git", "updated_at": "2026-01-02T00:00:00Z"},
				map[string]any{"id": "evil", "git_pull_url": "file:///etc/secrets.git"}, map[string]any{"id": "evil2", "git_pull_url": "http://gist.example.com/x.git"}}
		default:
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(out)
	}))
	defer gh.Close()
	l, err := ListGitHubForge(context.Background(), GitHubOptions{API: gh.URL, Token: "ghs_x", Org: "acme", Limits: fastLimits(), Include: Include{Code: true, Wiki: true, Gists: true}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range l.Targets {
		got = append(got, fmt.Sprintf("%s %s stamp=%q auth=%v optional=%v", tg.Name, strings.TrimPrefix(tg.URL, gh.URL), tg.Stamp, tg.Auth != nil, tg.Optional))
	}
	want := []string{
		`acme/api /acme/api.git stamp="" auth=true optional=false`,
		`acme/api.wiki /acme/api.wiki.git stamp="" auth=true optional=true`,
		`acme/web /acme/web.git stamp="" auth=true optional=false`,
		`gist.github.example/aa5a315d61ae9438b18d https://gist.github.example/aa5a315d61ae9438b18d.git stamp="updated_at=2026-01-02T00:00:00Z" auth=false optional=false`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("targets:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	l, err = ListGitHubForge(context.Background(), GitHubOptions{API: gh.URL, Repo: "acme/web", Limits: fastLimits(), Include: Include{Wiki: true, Gists: true, Issues: true}})
	if err != nil || len(l.Targets) != 1 || l.Targets[0].Name != "acme/web.wiki" || len(l.Collections) != 1 || l.Collections[0].Key != "https://github.example/acme/web/issues" {
		t.Errorf("--repo acme/web: %+v, %v", l, err)
	}

	gl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := "http://" + r.Host
		var out any
		switch r.URL.EscapedPath() {
		case "/api/v4/projects/acme%2Fapi":
			out = map[string]any{"id": 3, "path_with_namespace": "acme/api", "web_url": host + "/acme/api", "http_url_to_repo": host + "/acme/api.git", "empty_repo": true}
		case "/api/v4/projects/acme%2Fapi/snippets":
			out = []any{map[string]any{"id": 9, "web_url": host + "/acme/api/-/snippets/9", "http_url_to_repo": host + "/acme/api/snippets/9.git", "updated_at": "2026-01-02T00:00:00.000Z"},
				map[string]any{"id": 8, "web_url": "https://old.example/acme/api/snippets/8"}, map[string]any{"id": 7, "http_url_to_repo": "ssh://localhost/x.git"}}
		default:
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(out)
	}))
	defer gl.Close()
	l, err = ListGitLabForge(context.Background(), GitLabOptions{API: gl.URL + "/api/v4", Token: "glpat-x", Project: "acme/api", Limits: fastLimits(),
		Include: Include{Code: true, Wiki: true, Snippets: true, CILogs: true}})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, tg := range l.Targets {
		got = append(got, fmt.Sprintf("%s %s auth=%v optional=%v", strings.TrimPrefix(tg.Name, strings.TrimPrefix(gl.URL, "http://")), strings.TrimPrefix(tg.URL, gl.URL), tg.Auth != nil, tg.Optional))
	}
	want = []string{`acme/api.wiki /acme/api.wiki.git auth=true optional=true`, `/acme/api/-/snippets/9 /acme/api/snippets/9.git auth=true optional=false`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(l.Skipped) != 1 || l.Skipped[0].Reason != "empty" || len(l.Collections) != 1 || l.Collections[0].Kind != "ci-logs" {
		t.Errorf("GitLab project: targets\n%s\nskipped %v, collections %+v", strings.Join(got, "\n"), l.Skipped, l.Collections)
	}
}

func TestIsWebURL(t *testing.T) {
	for _, tt := range []struct {
		u  string
		ok bool
	}{
		{"https://github.com/acme/api/pull/2#issuecomment-1", true},
		{"http://127.0.0.1:8080/acme/api/-/jobs/3", true},
		{"", false},
		{"javascript:alert(1)", false},
		{"https://h/x\x1b[2J", false},
		{"https://h/x\nfake: line", false},
		{"https://user:pw@h/x", false},
		{"/relative/path", false},
	} {
		if got := isWebURL(tt.u); got != tt.ok {
			t.Errorf("isWebURL(%q) = %v, want %v", tt.u, got, tt.ok)
		}
	}
}

// Item listings follow Link pagination, at most MaxPages pages: a longer one
// is scanned as far as it was read, and the collection is incomplete, its
// watermark held back; the next sweep reads on and scans only what is new.
func TestSweepGitHubItemsPages(t *testing.T) {
	f := newFakeForge(t)
	for i := range 250 {
		body := fmt.Sprintf("comment %d\n", i)
		if i == 120 || i == 240 {
			body = sweeptest.SecretLine(fmt.Sprintf("c%d", i))
		}
		f.items = append(f.items, ghItem{kind: "issue-comment", number: 2, id: int64(1000 + i), body: body, updated: fmt.Sprintf("2026-01-%02dT00:00:00Z", 1+i/10)})
	}
	cfg := itemsConfig(t, t.TempDir())
	list := func(maxPages int) []Collection {
		l, err := ListGitHubForge(context.Background(), GitHubOptions{API: f.api.URL, Org: "acme", Limits: fastLimits(), MaxPages: maxPages, Include: Include{Comments: true}})
		if err != nil {
			t.Fatal(err)
		}
		return l.Collections
	}
	sum := RunItems(context.Background(), cfg, list(2), nil)
	if sum.Items != 200 || sum.Findings != 1 || len(sum.Problems) != 1 || !strings.Contains(sum.Problems[0].Detail, "--max-pages") {
		t.Fatalf("two pages of three: %+v", sum)
	}
	if n := f.count("api /api/v3/repos/acme/api/issues/comments"); n != 2 {
		t.Errorf("%d pages requested, want 2", n)
	}
	sum = RunItems(context.Background(), cfg, list(0), nil)
	if sum.Items != 50 || sum.Findings != 1 || len(sum.Problems) != 0 {
		t.Errorf("the rest: %+v", sum)
	}
}

// Collections are partitioned by key: every collection in exactly one shard.
func TestShardCollections(t *testing.T) {
	var cs []Collection
	for i := range 40 {
		cs = append(cs, Collection{Key: fmt.Sprintf("https://github.example/acme/r%02d/comments", i)})
	}
	seen := map[string]int{}
	for i := range 3 {
		for _, c := range ShardCollections(cs, i, 3) {
			seen[c.Key]++
			if ShardOf(c.Key, 3) != i {
				t.Errorf("%s in shard %d, ShardOf says %d", c.Key, i, ShardOf(c.Key, 3))
			}
		}
	}
	if len(seen) != len(cs) {
		t.Errorf("%d of %d collections in some shard", len(seen), len(cs))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s in %d shards", k, n)
		}
	}
	if got := ShardCollections(cs, 0, 1); len(got) != len(cs) {
		t.Errorf("one shard holds %d of %d", len(got), len(cs))
	}
}

package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenward/tokenward/sweep/sweeptest"
)

type glNote struct {
	id      int64
	body    string
	system  bool
	updated string
}

type glNoted struct {
	iid     int64
	desc    string
	updated string
	notes   []glNote
}

// fakeGitLab replays the GitLab REST API v4's documented shapes for one
// project, acme/platform/api: issues and merge requests (updated_after=), their
// notes, jobs and their traces; 60 notes on the merge request come in pages of
// 50 with X-Next-Page.
type fakeGitLab struct {
	*httptest.Server
	web string

	mu       sync.Mutex
	issues   []glNoted
	mrs      []glNoted
	jobs     []map[string]any
	traces   map[int64]string
	requests []string
	tokens   []string
	quirk    func(path string, w http.ResponseWriter) bool
}

func newFakeGitLab(t *testing.T) *fakeGitLab {
	f := &fakeGitLab{web: "https://gitlab.example/acme/platform/api", traces: map[int64]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGitLab) count(prefix string) int {
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

func (f *fakeGitLab) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := r.URL.EscapedPath()
	f.requests = append(f.requests, p+"?"+r.URL.RawQuery)
	f.tokens = append(f.tokens, r.Header.Get("PRIVATE-TOKEN"))
	if f.quirk != nil && f.quirk(p, w) {
		return
	}
	const proj = "/api/v4/projects/acme%2Fplatform%2Fapi"
	after := r.URL.Query().Get("updated_after")
	user := map[string]any{"username": "dev"}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	var out any
	noted := func(list []glNoted, kind string) {
		var res []map[string]any
		for _, it := range list {
			if after == "" || it.updated >= after {
				res = append(res, map[string]any{"iid": it.iid, "description": it.desc, "updated_at": it.updated, "author": user,
					"web_url": fmt.Sprintf("%s/-/%s/%d", f.web, kind, it.iid)})
			}
		}
		out = res
	}
	notes := func(list []glNoted, iid string) {
		for _, it := range list {
			if strconv.FormatInt(it.iid, 10) != iid {
				continue
			}
			var res []map[string]any
			for _, n := range it.notes {
				res = append(res, map[string]any{"id": n.id, "body": n.body, "system": n.system, "updated_at": n.updated, "author": user})
			}
			const per = 50
			lo, hi := min((max(page, 1)-1)*per, len(res)), min(max(page, 1)*per, len(res))
			if hi < len(res) {
				w.Header().Set("X-Next-Page", strconv.Itoa(max(page, 1)+1))
			}
			out = res[lo:hi]
		}
	}
	switch {
	case p == "/api/v4/groups/acme%2Fplatform/projects":
		out = []map[string]any{{"id": 7, "path_with_namespace": "acme/platform/api", "web_url": f.web,
			"http_url_to_repo": f.web + ".git", "wiki_enabled": false, "snippets_enabled": false}}
	case p == proj+"/issues":
		noted(f.issues, "issues")
	case p == proj+"/merge_requests":
		if r.URL.Query().Get("state") != "all" {
			http.Error(w, "want state=all", 400)
			return
		}
		noted(f.mrs, "merge_requests")
	case strings.HasPrefix(p, proj+"/issues/") && strings.HasSuffix(p, "/notes"):
		notes(f.issues, strings.TrimSuffix(strings.TrimPrefix(p, proj+"/issues/"), "/notes"))
	case strings.HasPrefix(p, proj+"/merge_requests/") && strings.HasSuffix(p, "/notes"):
		notes(f.mrs, strings.TrimSuffix(strings.TrimPrefix(p, proj+"/merge_requests/"), "/notes"))
	case p == proj+"/jobs":
		out = f.jobs
	case strings.HasPrefix(p, proj+"/jobs/") && strings.HasSuffix(p, "/trace"):
		id, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(p, proj+"/jobs/"), "/trace"), 10, 64)
		tr, ok := f.traces[id]
		if !ok {
			http.Error(w, `{"message":"404 Not Found"}`, 404)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, tr)
		return
	default:
		http.Error(w, `{"message":"404 Not Found"}`, 404)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (f *fakeGitLab) addJob(id int64, status, finished, trace string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs = append([]map[string]any{{"id": id, "status": status, "finished_at": finished, "web_url": fmt.Sprintf("%s/-/jobs/%d", f.web, id),
		"user": map[string]any{"username": "dev"}}}, f.jobs...)
	if trace != "" {
		f.traces[id] = trace
	}
}

// GitLab: a token in a merge request note (on the second page of notes) and
// one in a CI job log are found at their web URLs; a re-sweep lists from the
// watermarks and reads nothing unchanged; an exhausted quota waits for the
// reset through the injected sleep.
func TestSweepGitLabItems(t *testing.T) {
	f := newFakeGitLab(t)
	var mrNotes []glNote
	for i := range 60 {
		mrNotes = append(mrNotes, glNote{id: int64(100 + i), body: fmt.Sprintf("looks good %d\n", i), updated: "2026-01-03T00:00:00.000Z"})
	}
	mrNotes[55].body = "use\n\n" + sweeptest.SecretLine("mr-note")
	mrNotes[56].system, mrNotes[56].body = true, sweeptest.SecretLine("system") // GitLab's own: not read
	f.issues = []glNoted{{iid: 1, desc: "Crash on start\n", updated: "2026-01-01T00:00:00.000Z", notes: []glNote{{id: 10, body: "same here\n", updated: "2026-01-01T00:00:00.000Z"}}}}
	f.mrs = []glNoted{{iid: 4, desc: "Adds the client\n", updated: "2026-01-03T00:00:00.000Z", notes: mrNotes}}
	f.addJob(300, "success", "2026-01-04T00:00:00.000Z", "\x1b[0KRunning with gitlab-runner 17.0\n$ make test\n"+sweeptest.SecretLine("ci-log"))
	f.addJob(301, "running", "", "")
	f.addJob(302, "failed", "2026-01-04T01:00:00.000Z", "") // log erased
	var waits []time.Duration
	limits := Limits{Retries: 2, Sleep: func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	cfg := itemsConfig(t, t.TempDir())
	list := func() Listing {
		t.Helper()
		l, err := ListGitLabForge(context.Background(), GitLabOptions{API: f.URL + "/api/v4", Token: "glpat-test", Group: "acme/platform", Limits: limits,
			Include: Include{Issues: true, MergeRequests: true, CILogs: true}})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := list()
	if len(l.Collections) != 3 || len(l.Targets) != 0 {
		t.Fatalf("listing %+v", l)
	}
	var keys []string
	for _, c := range l.Collections {
		keys = append(keys, c.Key)
	}
	sum := RunItems(context.Background(), cfg, l.Collections, nil)
	// issue + note, MR + 59 notes, one job log.
	if sum.Failed != 0 || sum.Items != 63 {
		t.Fatalf("first sweep: %+v", sum)
	}
	want := []located{{f.web + "/-/jobs/300", 3}, {f.web + "/-/merge_requests/4#note_155", 3}}
	if got := storedLocations(t, cfg.Store, keys); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings at %v, want %v", got, want)
	}
	for _, tok := range f.tokens {
		if tok != "glpat-test" {
			t.Errorf("a request with PRIVATE-TOKEN %q", tok)
		}
	}

	// Nothing changed: the three listings (and the group's), nothing else.
	f.mu.Lock()
	f.requests = nil
	f.mu.Unlock()
	sum = RunItems(context.Background(), cfg, list().Collections, nil)
	if sum.Items != 0 || f.count("/api/v4/projects/acme%2Fplatform%2Fapi/jobs/") != 0 || f.count("/api/v4/projects/acme%2Fplatform%2Fapi/merge_requests/") != 0 {
		t.Errorf("unchanged re-sweep: %+v\n%s", sum, strings.Join(f.requests, "\n"))
	}
	if n := len(f.requests); n != 4 {
		t.Errorf("unchanged re-sweep: %d requests, want 4\n%s", n, strings.Join(f.requests, "\n"))
	}
	if f.count("/api/v4/projects/acme%2Fplatform%2Fapi/merge_requests?") != 1 || !strings.Contains(strings.Join(f.requests, "\n"), "updated_after=2026-01-03T00%3A00%3A00Z") {
		t.Errorf("merge requests listed without the watermark:\n%s", strings.Join(f.requests, "\n"))
	}
	if got := storedLocations(t, cfg.Store, keys); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after an unchanged re-sweep, findings at %v, want %v", got, want)
	}

	// A new note on the issue (which bumps its updated_at) and a quota
	// exhausted on the issues listing.
	f.mu.Lock()
	f.issues[0].updated = "2026-01-05T00:00:00.000Z"
	f.issues[0].notes = append(f.issues[0].notes, glNote{id: 11, body: sweeptest.SecretLine("issue-note"), updated: "2026-01-05T00:00:00.000Z"})
	f.requests = nil
	limited := false
	f.quirk = func(p string, w http.ResponseWriter) bool {
		if strings.HasSuffix(p, "/issues") && !limited {
			limited = true
			w.Header().Set("RateLimit-Remaining", "0")
			w.Header().Set("RateLimit-Reset", strconv.FormatInt(time.Now().Add(30*time.Second).Unix(), 10))
			w.Header().Set("Retry-After", "30")
			http.Error(w, `{"message":"429 Too Many Requests"}`, http.StatusTooManyRequests)
			return true
		}
		return false
	}
	f.mu.Unlock()
	sum = RunItems(context.Background(), cfg, list().Collections, nil)
	// The issue and its new note; the old note is unchanged.
	if sum.Items != 2 || sum.Failed != 0 {
		t.Errorf("re-sweep after a new note: %+v", sum)
	}
	if len(waits) != 1 || waits[0] < 29*time.Second || waits[0] > 31*time.Second {
		t.Errorf("waits %v, want one of 30s", waits)
	}
	want = append(want, located{f.web + "/-/issues/1#note_11", 1})
	sort.Slice(want, func(i, j int) bool { return want[i].file < want[j].file })
	if got := storedLocations(t, cfg.Store, keys); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings at %v, want %v", got, want)
	}
}

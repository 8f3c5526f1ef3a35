package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHub serves /api/v3/orgs/ORG/repos and /api/v3/users/USER/repos with n
// repositories, 100 a page. Every 20th is a fork, every 50th archived.
type fakeGitHub struct {
	*httptest.Server
	n     int
	mu    sync.Mutex
	log   []ghRequest
	quirk func(page, attempt int, w http.ResponseWriter) bool // true: it answered
	token string
}

type ghRequest struct {
	page int
	at   time.Time
}

func newFakeGitHub(t *testing.T, n int, quirk func(page, attempt int, w http.ResponseWriter) bool) *fakeGitHub {
	f := &fakeGitHub{n: n, quirk: quirk}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	var owner string
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/v3/orgs/") && strings.HasSuffix(r.URL.Path, "/repos"):
		owner = strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v3/orgs/"), "/repos")
	case strings.HasPrefix(r.URL.Path, "/api/v3/users/") && strings.HasSuffix(r.URL.Path, "/repos"):
		owner = strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v3/users/"), "/repos")
	default:
		http.NotFound(w, r)
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page == 0 {
		page = 1
	}
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per != 100 {
		http.Error(w, "want per_page=100", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	attempt := 0
	for _, q := range f.log {
		if q.page == page {
			attempt++
		}
	}
	f.token = r.Header.Get("Authorization")
	f.log = append(f.log, ghRequest{page: page, at: time.Now()})
	f.mu.Unlock()
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4000")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	if f.quirk != nil && f.quirk(page, attempt, w) {
		return
	}
	last := (f.n + per - 1) / per
	var links []string
	base := fmt.Sprintf("%s%s?per_page=100", f.URL, r.URL.Path)
	if page < last {
		links = append(links, fmt.Sprintf(`<%s&page=%d>; rel="next"`, base, page+1), fmt.Sprintf(`<%s&page=%d>; rel="last"`, base, last))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	var repos []map[string]any
	for i := (page - 1) * per; i < min(page*per, f.n); i++ {
		name := fmt.Sprintf("repo-%03d", i)
		repos = append(repos, map[string]any{
			"name": name, "full_name": owner + "/" + name,
			"clone_url": fmt.Sprintf("%s/%s/%s.git", f.URL, owner, name),
			"fork":      i%20 == 19, "archived": i%50 == 49,
			"pushed_at": fmt.Sprintf("2026-01-%02dT10:00:00Z", 1+i%28),
		})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(repos)
}

func secondaryLimit(w http.ResponseWriter, retryAfter string, code int) {
	w.Header().Set("Retry-After", retryAfter)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
}

func TestListGitHub(t *testing.T) {
	tests := []struct {
		name     string
		quirk    func(page, attempt int, w http.ResponseWriter) bool
		maxWait  time.Duration
		wantErr  string
		requests []int         // pages requested, in order
		minGap   time.Duration // between the rate-limited response and the next request
	}{
		{name: "plain", requests: []int{1, 2, 3}},
		{
			name: "secondary rate limit midway (403, Retry-After)",
			quirk: func(page, attempt int, w http.ResponseWriter) bool {
				if page == 2 && attempt == 0 {
					secondaryLimit(w, "1", http.StatusForbidden)
					return true
				}
				return false
			},
			requests: []int{1, 2, 2, 3}, minGap: time.Second,
		},
		{
			name: "secondary rate limit as 429",
			quirk: func(page, attempt int, w http.ResponseWriter) bool {
				if page == 3 && attempt == 0 {
					secondaryLimit(w, "1", http.StatusTooManyRequests)
					return true
				}
				return false
			},
			requests: []int{1, 2, 3, 3}, minGap: time.Second,
		},
		{
			name: "primary limit exhausted: nothing is sent before the reset",
			quirk: func(page, attempt int, w http.ResponseWriter) bool {
				if page == 2 {
					w.Header().Set("X-RateLimit-Remaining", "0")
					// Epoch seconds truncate: two seconds ahead is at least one second away.
					w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(2*time.Second).Unix(), 10))
				}
				return false
			},
			requests: []int{1, 2, 3}, minGap: 500 * time.Millisecond,
		},
		{
			name: "a wait longer than allowed fails at once",
			quirk: func(page, attempt int, w http.ResponseWriter) bool {
				if page == 2 {
					secondaryLimit(w, "7200", http.StatusForbidden)
					return true
				}
				return false
			},
			maxWait: time.Minute, wantErr: "--rate-limit-wait", requests: []int{1, 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := newFakeGitHub(t, 230, tt.quirk)
			var waits []string
			start := time.Now()
			ts, skipped, err := ListGitHub(context.Background(), GitHubOptions{
				API: gh.URL, Token: "test-token", Org: "acme",
				Limits: Limits{MaxWait: tt.maxWait, Log: func(m string) { waits = append(waits, m) }},
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				if time.Since(start) > 5*time.Second {
					t.Errorf("failing took %s: it waited", time.Since(start))
				}
			} else if err != nil {
				t.Fatal(err)
			}
			var pages []int
			for _, q := range gh.log {
				pages = append(pages, q.page)
			}
			if fmt.Sprint(pages) != fmt.Sprint(tt.requests) {
				t.Errorf("pages requested %v, want %v (waits: %q)", pages, tt.requests, waits)
			}
			if tt.minGap > 0 {
				gapOK := false
				for i := 1; i < len(gh.log); i++ {
					if gap := gh.log[i].at.Sub(gh.log[i-1].at); gap >= tt.minGap {
						gapOK = true
					}
				}
				if !gapOK || len(waits) == 0 {
					t.Errorf("no wait of %s between requests (waits logged: %q)", tt.minGap, waits)
				}
			}
			if gh.token != "Bearer test-token" {
				t.Errorf("Authorization %q, want the token", gh.token)
			}
			if tt.wantErr != "" {
				return
			}
			// 230 repositories: 11 forks (i%20==19), 2 more archived (i%50==49
			// but not 99 and 199, which are forks).
			reasons := map[string]int{}
			for _, s := range skipped {
				reasons[s.Reason]++
			}
			if len(ts) != 230-13 || reasons["fork"] != 11 || reasons["archived"] != 2 {
				t.Errorf("%d targets, skipped %v; want 217, 11 forks, 2 archived", len(ts), reasons)
			}
			if ts[0].Name != "acme/repo-000" || ts[0].URL != gh.URL+"/acme/repo-000.git" || ts[0].Auth == nil || ts[0].Source != "github:acme" || ts[0].Stamp != "pushed_at=2026-01-01T10:00:00Z" {
				t.Errorf("first target %+v", ts[0])
			}
		})
	}
}

func TestListGitHubUserAndFlags(t *testing.T) {
	gh := newFakeGitHub(t, 40, nil)
	ts, skipped, err := ListGitHub(context.Background(), GitHubOptions{API: gh.URL, User: "bob", IncludeForks: true, IncludeArchived: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 40 || len(skipped) != 0 || ts[0].Name != "bob/repo-000" || ts[0].Auth != nil {
		t.Errorf("%d targets, %d skipped, first %+v; want 40, 0, no auth without a token", len(ts), len(skipped), ts[0])
	}
	if gh.token != "" {
		t.Errorf("sent Authorization %q without a token", gh.token)
	}
	if _, _, err := ListGitHub(context.Background(), GitHubOptions{API: gh.URL + "/nope/", Org: "acme"}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a 404 listing: %v", err)
	}
}

func TestSameService(t *testing.T) {
	tests := []struct {
		api, clone string
		want       bool
	}{
		{"https://api.github.com/", "https://github.com/acme/x.git", true},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com/acme/x.git", true},
		{"https://api.github.com/", "https://evil.example.com/acme/x.git", false},
		{"https://api.github.com/", "http://github.com/acme/x.git", false},   // never over plain http
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/acme/x.git", true}, // loopback tests
		{"https://gitlab.com/api/v4", "https://gitlab.com/acme/x.git", true},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.api)
		if got := sameService(u, tt.clone); got != tt.want {
			t.Errorf("sameService(%s, %s) = %v, want %v", tt.api, tt.clone, got, tt.want)
		}
	}
}

// fakeGitLab serves /api/v4/groups/GROUP/projects with n projects, 100 a page
// (X-Next-Page), rate limited (429) on the first attempt at page 2.
func TestListGitLab(t *testing.T) {
	var mu sync.Mutex
	var log []ghRequest
	const n = 150
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != "/api/v4/groups/acme%2Fplatform/projects" || r.URL.Query().Get("include_subgroups") != "true" {
			http.Error(w, "unexpected "+r.URL.String(), 404)
			return
		}
		if r.Header.Get("PRIVATE-TOKEN") != "gl-token" {
			http.Error(w, `{"message":"401 Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		mu.Lock()
		attempt := 0
		for _, q := range log {
			if q.page == page {
				attempt++
			}
		}
		log = append(log, ghRequest{page: page, at: time.Now()})
		mu.Unlock()
		if page == 2 && attempt == 0 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"message":"429 Too Many Requests"}`, http.StatusTooManyRequests)
			return
		}
		var ps []map[string]any
		for i := (page - 1) * 100; i < min(page*100, n); i++ {
			p := map[string]any{
				"path_with_namespace": fmt.Sprintf("acme/platform/p%03d", i),
				"http_url_to_repo":    fmt.Sprintf("https://gitlab.example.com/acme/platform/p%03d.git", i),
				"archived":            i%50 == 7,
				"empty_repo":          i == 3,
				"last_activity_at":    "2026-02-03T04:05:06.000Z",
			}
			if i%25 == 0 {
				p["forked_from_project"] = map[string]any{"id": 1}
			}
			ps = append(ps, p)
		}
		if page*100 < n {
			w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
		}
		json.NewEncoder(w).Encode(ps)
	}))
	defer srv.Close()
	var waits []string
	ts, skipped, err := ListGitLab(context.Background(), GitLabOptions{API: srv.URL + "/api/v4", Token: "gl-token", Group: "acme/platform",
		Limits: Limits{Log: func(m string) { waits = append(waits, m) }}})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	for _, s := range skipped {
		reasons[s.Reason]++
	}
	// forks: 0,25,...,125 (6); archived: 7,57,107 (3); empty: 3.
	if len(ts) != n-10 || reasons["fork"] != 6 || reasons["archived"] != 3 || reasons["empty"] != 1 {
		t.Errorf("%d targets, skipped %v", len(ts), reasons)
	}
	if len(log) != 3 || log[2].at.Sub(log[1].at) < time.Second || len(waits) != 1 {
		t.Errorf("requests %v, waits %q: want page 2 retried once, after Retry-After", log, waits)
	}
	if ts[0].Auth != nil {
		t.Error("the GitLab token would be sent to another host for cloning")
	}
	if ts[0].Stamp != "last_activity_at=2026-02-03T04:05:06.000Z" || ts[0].Name != "acme/platform/p001" {
		t.Errorf("first target %+v", ts[0])
	}
	if _, _, err := ListGitLab(context.Background(), GitLabOptions{API: srv.URL + "/api/v4", Group: "acme/platform"}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without a token: %v, want the 401", err)
	}
}

func TestReadReposFile(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "local-repo")
	os.MkdirAll(local, 0o755)
	tests := []struct {
		name, content string
		want          []string // URL|Name|auth
		wantErr       string
	}{
		{
			name: "mixed",
			content: "# comment\n\nhttps://github.com/acme/api.git\n" +
				"https://user:s3cret@git.example.com/acme/web.git  # with credentials\n" +
				"https://tok123@git.example.com/acme/tok.git\n" +
				"git@github.com:acme/ssh.git\nfile:///srv/git/x.git\nlocal-repo\nssh://git:s3cret@git.example.com/acme/s.git\n",
			want: []string{
				"https://github.com/acme/api.git|github.com/acme/api|false",
				"https://git.example.com/acme/web.git|git.example.com/acme/web|true",
				"https://git.example.com/acme/tok.git|git.example.com/acme/tok|true",
				"git@github.com:acme/ssh.git|github.com/acme/ssh|false",
				"file:///srv/git/x.git|srv/git/x|false",
				local + "|local-repo|false",
				"ssh://git@git.example.com/acme/s.git|git.example.com/acme/s|false",
			},
		},
		{name: "bad scheme", content: "ftp://x/y\n", wantErr: "repos.txt:1: \"ftp://x/y\": unsupported scheme"},
		{name: "missing path", content: "\n\nno/such/dir\n", wantErr: "repos.txt:3: no/such/dir"},
		{name: "credentials not echoed", content: "ftp://u:s3cret@x/y\n", wantErr: "repos.txt:1: \"ftp://***@x/y\": unsupported scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "repos.txt")
			os.WriteFile(p, []byte(tt.content), 0o644)
			ts, problems, err := ReadReposFile(p)
			if err == nil {
				err = errors.Join(problems...)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range ts {
				got = append(got, fmt.Sprintf("%s|%s|%v", x.URL, x.Name, x.Auth != nil))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for _, x := range ts {
				if strings.Contains(x.URL, "s3cret") || strings.Contains(x.URL, "tok123") {
					t.Errorf("credentials kept in %s", x.URL)
				}
			}
		})
	}
}

func TestShard(t *testing.T) {
	var ts []Target
	for i := range 300 {
		ts = append(ts, Target{URL: fmt.Sprintf("https://github.com/acme/r%d.git", i)})
	}
	seen := map[string]int{}
	for i := range 3 {
		part := Shard(ts, i, 3)
		if len(part) < 70 || len(part) > 130 {
			t.Errorf("shard %d has %d of 300", i, len(part))
		}
		for _, x := range part {
			seen[x.URL]++
		}
	}
	if len(seen) != 300 {
		t.Errorf("shards cover %d of 300", len(seen))
	}
	for u, n := range seen {
		if n != 1 {
			t.Errorf("%s in %d shards", u, n)
		}
	}
	// The partition is part of the interface: workers of different versions
	// must agree. Credentials do not move a repository.
	if got := ShardOf("https://github.com/acme/api.git", 7); got != ShardOf("https://x:y@github.com/acme/api.git", 7) {
		t.Error("credentials change the shard")
	}
	var got []int
	for _, u := range []string{"https://github.com/acme/api.git", "https://github.com/acme/web.git", "https://gitlab.com/g/p.git", "git@github.com:acme/ssh.git", "/srv/repos/local"} {
		got = append(got, ShardOf(u, 7))
	}
	if fmt.Sprint(got) != pinnedShards {
		t.Errorf("ShardOf changed: %v, was %s", got, pinnedShards)
	}
}

const pinnedShards = "[0 0 6 2 2]"

func TestMirrorPath(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://github.com/acme/api.git", "c/github.com/acme/api.git"},
		{"https://github.com/acme/api", "c/github.com/acme/api.git"},
		{"git@github.com:acme/api.git", "c/github.com/acme/api.git"},
		{"https://h.example/../../etc/passwd", "c/h.example/__/__/etc/passwd.git"},
		{"file:///srv/git/x.git", "c/local/srv/git/x.git"},
		{"http://127.0.0.1:8080/a b/c.git", "c/127.0.0.1_8080/a_b/c.git"},
	}
	for _, tt := range tests {
		if got := filepath.ToSlash(MirrorPath("c", tt.url)); got != tt.want {
			t.Errorf("MirrorPath(%s) = %s, want %s", tt.url, got, tt.want)
		}
	}
}

// A bad line is a problem for that entry: the others are still listed. No
// message repeats credentials written into a clone URL.
func TestReadReposFileProblemsPerEntry(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "local-repo")
	if err := os.MkdirAll(local, 0o755); err != nil {
		t.Fatal(err)
	}
	content := "https://github.com/acme/api.git\n" +
		"no/such/dir\n" +
		"ftp://deploy:hunter2pass@git.example.com/x.git\n" +
		"https://deploy:hunter2pass@git.example.com/a%zz.git\n" +
		"https://ghp_tok3nvalue@/nohost.git\n" +
		"local-repo\n" +
		"deploy:hunter2pass@git.example.com/x.git\n"
	p := filepath.Join(dir, "repos.txt")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	ts, problems, err := ReadReposFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range ts {
		got = append(got, x.URL)
	}
	if want := []string{"https://github.com/acme/api.git", local}; !slices.Equal(got, want) {
		t.Errorf("targets %q, want %q", got, want)
	}
	if len(problems) != 5 {
		t.Fatalf("problems %q, want 5 (one per bad line)", problems)
	}
	for i, line := range []int{2, 3, 4, 5, 7} {
		msg := problems[i].Error()
		if !strings.Contains(msg, fmt.Sprintf("repos.txt:%d:", line)) {
			t.Errorf("problem %q does not name repos.txt:%d", msg, line)
		}
		for _, secret := range []string{"hunter2pass", "ghp_tok3nvalue", "deploy:"} {
			if strings.Contains(msg, secret) {
				t.Errorf("problem %q repeats the credential %q", msg, secret)
			}
		}
	}
	if _, _, err := ReadReposFile(filepath.Join(dir, "missing.txt")); err == nil {
		t.Error("a missing repos file is an error")
	}
}

// FuzzParseTarget: whatever a repos-file line holds, neither the error nor the
// target's URL repeats the password written into its userinfo.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"https://u:PW@github.com/a/b.git", "ftp://u:PW@x/y", "https://u:PW@[::1/x", "ssh://git:PW@h/r", "https://PW@/x", "u@h:p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		const pw = "Hunter2xyzPW"
		s := strings.ReplaceAll(line, "PW", pw)
		if !strings.Contains(s, "://") || !strings.Contains(s, pw+"@") || strings.ContainsAny(s, "\n\r") {
			return
		}
		// Only a password in the userinfo (right after the first "://", before any
		// / ? # @) is a credential: elsewhere the fuzzer made it a path or host.
		i := strings.Index(s, "://")
		j := strings.Index(s, pw)
		if strings.Count(s, pw) != 1 || j < i+3 || strings.ContainsAny(s[i+3:j], "/?#@") {
			return
		}
		// A lone user name is a credential only over http(s) (https://TOKEN@host);
		// ssh://git@host names a login.
		if scheme := strings.ToLower(s[:i]); !strings.Contains(s[i+3:j], ":") && scheme != "https" && scheme != "http" {
			return
		}
		tg, err := parseTarget(s, t.TempDir())
		if err != nil {
			if strings.Contains(err.Error(), pw) {
				t.Fatalf("error repeats the password: %v", err)
			}
			return
		}
		if strings.Contains(tg.URL, pw) || strings.Contains(tg.Name, pw) {
			t.Fatalf("target %+v keeps the password", tg)
		}
	})
}

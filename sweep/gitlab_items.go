package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/tokenward/tokenward/internal/netx"
	"github.com/tokenward/tokenward/source"
	"github.com/tokenward/tokenward/source/forge"
)

// The GitLab REST API v4 shapes read here:
// https://docs.gitlab.com/ee/api/issues.html#list-project-issues (updated_after, order_by=updated_at),
// https://docs.gitlab.com/ee/api/merge_requests.html#list-project-merge-requests,
// https://docs.gitlab.com/ee/api/notes.html (issue and merge request notes),
// https://docs.gitlab.com/ee/api/jobs.html#list-project-jobs and #get-a-log-file,
// https://docs.gitlab.com/ee/api/project_snippets.html (http_url_to_repo),
// https://docs.gitlab.com/ee/api/rest/index.html#pagination (X-Next-Page).

// gitLab is an API client for one sweep source.
type gitLab struct {
	o    GitLabOptions
	api  string // base URL without a trailing slash
	base *url.URL
	hc   *http.Client
	lim  Limits
	auth *githttp.BasicAuth
}

func newGitLabClient(o GitLabOptions) (*gitLab, error) {
	api := strings.TrimSuffix(o.API, "/")
	if api == "" {
		api = "https://gitlab.com/api/v4"
	}
	if err := CheckAPIURL("--gitlab-api", api); err != nil {
		return nil, err
	}
	base, err := url.Parse(api)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("--gitlab-api %q is not a URL", o.API)
	}
	if o.MaxPages <= 0 {
		o.MaxPages = 1000
	}
	g := &gitLab{o: o, api: api, base: base, hc: apiClient(o.HTTPClient), lim: o.Limits.withDefaults()}
	if o.Token != "" {
		g.auth = &githttp.BasicAuth{Username: "oauth2", Password: o.Token}
	}
	return g, nil
}

// cloneAuth is the token for cloning u when u is on the API's own host.
func (g *gitLab) cloneAuth(u string) transport.AuthMethod {
	if g.auth != nil && sameService(g.base, u) {
		return g.auth
	}
	return nil
}

// maxResponse bounds a JSON response or a job log read into memory.
const maxResponse = 64 << 20

// get sends one GET to the API (the token only to it), retried as the rate
// limits ask, and returns the body (at most limit bytes; 0: maxResponse).
func (g *gitLab) get(ctx context.Context, what, u string) ([]byte, http.Header, error) {
	return g.getLimit(ctx, what, u, 0)
}

func (g *gitLab) getLimit(ctx context.Context, what, u string, limit int64) ([]byte, http.Header, error) {
	if limit <= 0 {
		limit = maxResponse
	}
	var body []byte
	var hdr http.Header
	err := g.lim.do(ctx, what, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		if g.o.Token != "" {
			req.Header.Set("PRIVATE-TOKEN", g.o.Token)
		}
		resp, err := g.hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			msg := strings.TrimSpace(string(b))
			if len(msg) > 200 {
				msg = msg[:200] + "…"
			}
			return &errHTTP{status: resp.StatusCode, header: resp.Header, body: msg}
		}
		if int64(len(b)) > limit {
			return errTooLarge
		}
		body, hdr = b, resp.Header
		return nil
	}, func(err error) (waitReason, bool) {
		if errors.Is(err, errTooLarge) {
			return waitReason{}, false
		}
		return classifyHTTP(err)
	})
	if err == nil {
		err = g.waitQuota(ctx, what, hdr)
	}
	return body, hdr, err
}

// waitQuota waits for the reset when a response says the quota is exhausted,
// before the next request.
func (g *gitLab) waitQuota(ctx context.Context, what string, hdr http.Header) error {
	if hdr.Get("RateLimit-Remaining") != "0" {
		return nil
	}
	d, ok := resetIn(hdr, "RateLimit-Reset", time.Now())
	if !ok || d <= 0 {
		return nil
	}
	if d > g.lim.MaxWait {
		return fmt.Errorf("%s: rate limit exhausted for %s, longer than the longest wait (%s): retry later or allow a longer wait (--rate-limit-wait)", what, d.Round(time.Second), g.lim.MaxWait)
	}
	g.lim.Log(fmt.Sprintf("%s: rate limit exhausted (RateLimit-Remaining: 0); waiting %s", what, d.Round(time.Millisecond)))
	return g.lim.Sleep(ctx, d)
}

// pages reads a paginated listing from path with query q, following
// X-Next-Page (or a Link rel="next" on the API's origin), at most MaxPages.
func (g *gitLab) pages(ctx context.Context, what, path string, q url.Values, use func(body []byte) error) error {
	q.Set("page", "1")
	next := path + "?" + q.Encode()
	for n := 1; next != ""; n++ {
		if n > g.o.MaxPages {
			return fmt.Errorf("%s: %w (%d): the rest is not swept", what, errTooManyPages, g.o.MaxPages)
		}
		body, hdr, err := g.get(ctx, fmt.Sprintf("%s (page %d)", what, n), next)
		if err != nil {
			return err
		}
		if err := use(body); err != nil {
			return fmt.Errorf("%s (page %d): %w", what, n, err)
		}
		next = ""
		if np := hdr.Get("X-Next-Page"); np != "" {
			if _, err := strconv.Atoi(np); err != nil {
				return fmt.Errorf("%s: X-Next-Page %q is not a page number", what, np)
			}
			q.Set("page", np)
			next = path + "?" + q.Encode()
		} else if m := linkNext.FindStringSubmatch(hdr.Get("Link")); m != nil {
			u, err := url.Parse(m[1])
			if err != nil || netx.Origin(u) != netx.Origin(g.base) {
				return fmt.Errorf("%s: next page link %q is not on %s", what, m[1], netx.Origin(g.base))
			}
			next = u.String()
		}
	}
	return nil
}

func (g *gitLab) project(p gitlabProject) string {
	return g.api + "/projects/" + url.PathEscape(p.PathWithNamespace)
}

// collections are the API-read collections o includes for project p.
func (g *gitLab) collections(p gitlabProject, src string) []Collection {
	in := g.o.Include
	web := strings.TrimSuffix(p.WebURL, "/")
	if web == "" || p.PathWithNamespace == "" {
		return nil
	}
	var out []Collection
	add := func(on bool, kind, key string, fetch func(ctx context.Context, fe *fetchEnv) error) {
		if on {
			out = append(out, Collection{Key: key, Name: p.PathWithNamespace, Kind: kind, Source: src, fetch: fetch})
		}
	}
	add(in.Issues && enabled(p.IssuesEnabled), "issues", web+"/-/issues", func(ctx context.Context, fe *fetchEnv) error {
		return g.fetchNoted(ctx, fe, p, "issues")
	})
	add(in.MergeRequests && enabled(p.MergeRequestsEnabled), "merge-requests", web+"/-/merge_requests", func(ctx context.Context, fe *fetchEnv) error {
		return g.fetchNoted(ctx, fe, p, "merge_requests")
	})
	add(in.CILogs && enabled(p.JobsEnabled), "ci-logs", web+"/-/jobs", func(ctx context.Context, fe *fetchEnv) error {
		return g.fetchJobLogs(ctx, fe, p)
	})
	return out
}

type glUser struct {
	Username string `json:"username"`
}

// fetchNoted reads the issues or merge requests (kind) updated since the
// watermark, their descriptions, and the notes of each (a note bumps its
// issue's updated_at); system notes are GitLab's own and skipped.
func (g *gitLab) fetchNoted(ctx context.Context, fe *fetchEnv, p gitlabProject, kind string) error {
	type noted struct {
		IID         int64  `json:"iid"`
		Description string `json:"description"`
		WebURL      string `json:"web_url"`
		UpdatedAt   string `json:"updated_at"`
		Author      glUser `json:"author"`
	}
	q := url.Values{"per_page": {"100"}, "order_by": {"updated_at"}, "sort": {"asc"}, "scope": {"all"}}
	if kind == "merge_requests" {
		q.Set("state", "all")
	}
	if s := fe.since.Get(kind); s != "" {
		q.Set("updated_after", s)
	}
	var changed []noted
	what := fmt.Sprintf("listing the %s of %s", strings.ReplaceAll(kind, "_", " "), p.PathWithNamespace)
	err := g.pages(ctx, what, g.project(p)+"/"+kind, q, func(body []byte) error {
		var batch []noted
		if err := json.Unmarshal(body, &batch); err != nil {
			return fmt.Errorf("response is not a JSON list: %w", err)
		}
		for _, it := range batch {
			t, _ := time.Parse(time.RFC3339, it.UpdatedAt)
			fe.advance(kind, t)
			if it.WebURL == "" || !fe.changed(it.WebURL, it.UpdatedAt) {
				continue
			}
			changed = append(changed, it)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, it := range changed {
		fe.add(forge.Item{URL: it.WebURL, Data: []byte(it.Description), Author: it.Author.Username, Date: it.UpdatedAt}, it.UpdatedAt)
		nq := url.Values{"per_page": {"100"}, "sort": {"asc"}, "order_by": {"updated_at"}}
		err := g.pages(ctx, fmt.Sprintf("listing the notes of %s", it.WebURL), fmt.Sprintf("%s/%s/%d/notes", g.project(p), kind, it.IID), nq, func(body []byte) error {
			var notes []struct {
				ID        int64  `json:"id"`
				Body      string `json:"body"`
				System    bool   `json:"system"`
				UpdatedAt string `json:"updated_at"`
				Author    glUser `json:"author"`
			}
			if err := json.Unmarshal(body, &notes); err != nil {
				return fmt.Errorf("response is not a JSON list of notes: %w", err)
			}
			for _, n := range notes {
				u := fmt.Sprintf("%s#note_%d", it.WebURL, n.ID)
				if n.System || !fe.changed(u, n.UpdatedAt) {
					continue
				}
				fe.add(forge.Item{URL: u, Data: []byte(n.Body), Author: n.Author.Username, Date: n.UpdatedAt}, n.UpdatedAt)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// fetchJobLogs lists the project's jobs and reads the log (trace) of each
// finished job not read before; a job's log does not change once it finished
// (a retry is a new job).
func (g *gitLab) fetchJobLogs(ctx context.Context, fe *fetchEnv, p gitlabProject) error {
	type job struct {
		ID         int64  `json:"id"`
		Status     string `json:"status"`
		WebURL     string `json:"web_url"`
		FinishedAt string `json:"finished_at"`
		User       glUser `json:"user"`
	}
	var todo []job
	err := g.pages(ctx, "listing the CI jobs of "+p.PathWithNamespace, g.project(p)+"/jobs", url.Values{"per_page": {"100"}}, func(body []byte) error {
		var batch []job
		if err := json.Unmarshal(body, &batch); err != nil {
			return fmt.Errorf("response is not a JSON list of jobs: %w", err)
		}
		for _, j := range batch {
			switch j.Status {
			case "success", "failed", "canceled":
			default:
				continue // not started, running, or without a log (skipped, manual)
			}
			if j.WebURL == "" || !fe.changed(j.WebURL, "finished_at="+j.FinishedAt) {
				continue
			}
			todo = append(todo, j)
		}
		return nil
	})
	if err != nil {
		return err
	}
	limit := int64(maxResponse)
	if fe.maxSize > 0 {
		limit = min(limit, fe.maxSize)
	}
	for _, j := range todo {
		st := "finished_at=" + j.FinishedAt
		body, _, err := g.getLimit(ctx, "reading the log of "+j.WebURL, fmt.Sprintf("%s/jobs/%d/trace", g.project(p), j.ID), limit)
		var he *errHTTP
		switch {
		case errors.As(err, &he) && (he.status == http.StatusNotFound || he.status == http.StatusGone):
			fe.stamps[j.WebURL] = st // erased or expired: nothing to read, now or later
			continue
		case errors.Is(err, errTooLarge):
			fe.skipped = append(fe.skipped, source.Skip{Path: j.WebURL, Reason: fmt.Sprintf("log larger than %d bytes (--max-file-size, at most 64 MiB)", limit)})
			fe.stamps[j.WebURL] = st
			continue
		case err != nil:
			return err
		}
		if len(body) <= 4<<20 { // held in memory, the per-file checks see it too (as archive members up to 4 MiB)
			fe.add(forge.Item{URL: j.WebURL, Data: body, Author: j.User.Username, Date: j.FinishedAt}, st)
			continue
		}
		// Larger logs wait on disk: the logs of many jobs are not held at once.
		path := filepath.Join(fe.tempDir, fmt.Sprintf("job-%d.log", j.ID))
		if err := os.WriteFile(path, body, 0o600); err != nil {
			return fmt.Errorf("keeping the log of %s: %w", j.WebURL, err)
		}
		fe.add(forge.Item{URL: j.WebURL, Open: func() (io.ReadCloser, error) { return os.Open(path) }, Author: j.User.Username, Date: j.FinishedAt}, st)
	}
	return nil
}

// snippets lists a project's snippets as repositories to mirror (every
// revision of every file), fetched again only when updated_at moves.
func (g *gitLab) snippets(ctx context.Context, p gitlabProject, src string) ([]Target, error) {
	var out []Target
	err := g.pages(ctx, "listing the snippets of "+p.PathWithNamespace, g.project(p)+"/snippets", url.Values{"per_page": {"100"}}, func(body []byte) error {
		var batch []struct {
			WebURL    string `json:"web_url"`
			Repo      string `json:"http_url_to_repo"`
			UpdatedAt string `json:"updated_at"`
		}
		if err := json.Unmarshal(body, &batch); err != nil {
			return fmt.Errorf("response is not a JSON list of snippets: %w", err)
		}
		for _, s := range batch {
			if s.Repo == "" {
				continue // servers before 13.0 keep no snippet repositories
			}
			if netx.CheckURL(stripCredentials(s.Repo)) != nil {
				continue // only https (or loopback http) clones: never a local path or another transport named by a response
			}
			name := s.WebURL
			if u, err := url.Parse(s.WebURL); err == nil && u.Host != "" {
				name = u.Host + u.Path
			}
			t := Target{URL: stripCredentials(s.Repo), Name: name, Source: src + " snippets", Auth: g.cloneAuth(s.Repo)}
			if s.UpdatedAt != "" {
				t.Stamp = "updated_at=" + s.UpdatedAt
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/google/go-github/v66/github"

	"github.com/tokenward/tokenward/internal/netx"
	"github.com/tokenward/tokenward/source"
	"github.com/tokenward/tokenward/source/forge"
)

// The GitHub REST API shapes read here:
// https://docs.github.com/rest/issues/issues#list-repository-issues (pull requests carry a pull_request key),
// https://docs.github.com/rest/issues/comments#list-issue-comments-for-a-repository,
// https://docs.github.com/rest/pulls/comments#list-review-comments-in-a-repository,
// https://docs.github.com/rest/releases/releases#list-releases,
// https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository,
// https://docs.github.com/rest/actions/workflow-runs#download-workflow-run-logs (302 to the archive),
// https://docs.github.com/rest/gists/gists#list-gists-for-a-user,
// https://docs.github.com/rest/orgs/members#list-organization-members.

// gitHub is an API client for one sweep source.
type gitHub struct {
	c    *github.Client
	o    GitHubOptions
	raw  *http.Client // without the token: log downloads from storage hosts
	auth *githttp.BasicAuth
}

func newGitHubClient(o GitHubOptions) (*gitHub, error) {
	if err := CheckAPIURL("--github-api", o.API); err != nil {
		return nil, err
	}
	if o.MaxPages <= 0 {
		o.MaxPages = 1000
	}
	c := github.NewClient(apiClient(o.HTTPClient))
	if o.Token != "" {
		c = c.WithAuthToken(o.Token)
	}
	if o.API != "" {
		var err error
		if c, err = c.WithEnterpriseURLs(o.API, o.API); err != nil {
			return nil, fmt.Errorf("--github-api %q: %w", o.API, err)
		}
	}
	g := &gitHub{c: c, o: o, raw: apiClient(o.HTTPClient)}
	if o.Token != "" {
		g.auth = &githttp.BasicAuth{Username: "x-access-token", Password: o.Token}
	}
	return g, nil
}

// pages runs a paginated listing: call fetches one page (retried as the rate
// limits ask), use takes what it got. At most MaxPages pages are read.
func (g *gitHub) pages(ctx context.Context, what string, call func(github.ListOptions) (*github.Response, error), use func()) error {
	page := 1
	for n := 1; ; n++ {
		if n > g.o.MaxPages {
			return fmt.Errorf("%s: %w (%d): the rest is not swept", what, errTooManyPages, g.o.MaxPages)
		}
		var resp *github.Response
		err := g.o.Limits.do(ctx, fmt.Sprintf("%s (page %d)", what, n), func() error {
			var err error
			resp, err = call(github.ListOptions{Page: page, PerPage: 100})
			return err
		}, classifyGitHub)
		if err != nil {
			return err
		}
		use()
		if resp == nil || resp.NextPage == 0 {
			return nil
		}
		page = resp.NextPage
	}
}

// collections are the API-read collections o includes for repository r.
func (g *gitHub) collections(r *github.Repository, src string) []Collection {
	in := g.o.Include
	web := strings.TrimSuffix(r.GetHTMLURL(), "/")
	owner, name := r.GetOwner().GetLogin(), r.GetName()
	if owner == "" || name == "" {
		owner, name, _ = strings.Cut(r.GetFullName(), "/")
	}
	if web == "" || owner == "" || name == "" {
		return nil
	}
	full := r.GetFullName()
	var out []Collection
	add := func(on bool, kind, key string, fetch func(ctx context.Context, fe *fetchEnv) error) {
		if on {
			out = append(out, Collection{Key: key, Name: full, Kind: kind, Source: src, fetch: fetch})
		}
	}
	add(in.Issues, "issues", web+"/issues", func(ctx context.Context, fe *fetchEnv) error { return g.fetchIssues(ctx, fe, owner, name, false) })
	add(in.Pulls, "pulls", web+"/pulls", func(ctx context.Context, fe *fetchEnv) error { return g.fetchIssues(ctx, fe, owner, name, true) })
	add(in.Comments, "comments", web+"/comments", func(ctx context.Context, fe *fetchEnv) error { return g.fetchComments(ctx, fe, owner, name) })
	add(in.Releases, "releases", web+"/releases", func(ctx context.Context, fe *fetchEnv) error { return g.fetchReleases(ctx, fe, owner, name) })
	add(in.ActionsLogs, "actions-logs", web+"/actions", func(ctx context.Context, fe *fetchEnv) error { return g.fetchRunLogs(ctx, fe, owner, name) })
	return out
}

func ts(t *github.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func stampOf(t *github.Timestamp) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// sincePtr is a listing's watermark for go-github (nil: everything).
func sincePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fetchIssues reads the issues (pulls false) or the pull requests (pulls true)
// updated since the watermark: both come from the issues listing, pull
// requests with a pull_request key. The body is the item.
func (g *gitHub) fetchIssues(ctx context.Context, fe *fetchEnv, owner, name string, pulls bool) error {
	kind := "issues"
	if pulls {
		kind = "pull requests"
	}
	since := fe.sinceTime("issues")
	var batch []*github.Issue
	return g.pages(ctx, fmt.Sprintf("listing the %s of %s/%s", kind, owner, name), func(lo github.ListOptions) (*github.Response, error) {
		var resp *github.Response
		var err error
		batch, resp, err = g.c.Issues.ListByRepo(ctx, owner, name, &github.IssueListByRepoOptions{State: "all", Sort: "updated", Direction: "asc", Since: since, ListOptions: lo})
		return resp, err
	}, func() {
		for _, is := range batch {
			fe.advance("issues", ts(is.UpdatedAt))
			if is.IsPullRequest() != pulls || is.GetHTMLURL() == "" {
				continue
			}
			st := stampOf(is.UpdatedAt)
			if !fe.changed(is.GetHTMLURL(), st) {
				continue
			}
			fe.add(forge.Item{URL: is.GetHTMLURL(), Data: []byte(is.GetBody()), Author: is.GetUser().GetLogin(), Date: st}, st)
		}
	})
}

// fetchComments reads the issue and pull request comments and the review
// comments updated since their watermarks.
func (g *gitHub) fetchComments(ctx context.Context, fe *fetchEnv, owner, name string) error {
	since := sincePtr(fe.sinceTime("issue-comments"))
	var ic []*github.IssueComment
	err := g.pages(ctx, fmt.Sprintf("listing the issue comments of %s/%s", owner, name), func(lo github.ListOptions) (*github.Response, error) {
		var resp *github.Response
		var err error
		ic, resp, err = g.c.Issues.ListComments(ctx, owner, name, 0, &github.IssueListCommentsOptions{Sort: github.String("updated"), Direction: github.String("asc"), Since: since, ListOptions: lo})
		return resp, err
	}, func() {
		for _, c := range ic {
			fe.advance("issue-comments", ts(c.UpdatedAt))
			st := stampOf(c.UpdatedAt)
			if c.GetHTMLURL() == "" || !fe.changed(c.GetHTMLURL(), st) {
				continue
			}
			fe.add(forge.Item{URL: c.GetHTMLURL(), Data: []byte(c.GetBody()), Author: c.GetUser().GetLogin(), Date: st}, st)
		}
	})
	if err != nil {
		return err
	}
	rsince := fe.sinceTime("review-comments")
	var rc []*github.PullRequestComment
	return g.pages(ctx, fmt.Sprintf("listing the review comments of %s/%s", owner, name), func(lo github.ListOptions) (*github.Response, error) {
		var resp *github.Response
		var err error
		rc, resp, err = g.c.PullRequests.ListComments(ctx, owner, name, 0, &github.PullRequestListCommentsOptions{Sort: "updated", Direction: "asc", Since: rsince, ListOptions: lo})
		return resp, err
	}, func() {
		for _, c := range rc {
			fe.advance("review-comments", ts(c.UpdatedAt))
			st := stampOf(c.UpdatedAt)
			if c.GetHTMLURL() == "" || !fe.changed(c.GetHTMLURL(), st) {
				continue
			}
			fe.add(forge.Item{URL: c.GetHTMLURL(), Data: []byte(c.GetBody()), Author: c.GetUser().GetLogin(), Date: st}, st)
		}
	})
}

// fetchReleases reads every release (the API has no update filter): the text
// is the name on line 1, the notes from line 2, then one line per asset name.
// A release whose text did not change is not scanned again.
func (g *gitHub) fetchReleases(ctx context.Context, fe *fetchEnv, owner, name string) error {
	var batch []*github.RepositoryRelease
	return g.pages(ctx, fmt.Sprintf("listing the releases of %s/%s", owner, name), func(lo github.ListOptions) (*github.Response, error) {
		var resp *github.Response
		var err error
		batch, resp, err = g.c.Repositories.ListReleases(ctx, owner, name, &lo)
		return resp, err
	}, func() {
		for _, r := range batch {
			if r.GetHTMLURL() == "" {
				continue
			}
			var b strings.Builder
			b.WriteString(r.GetName() + "\n" + r.GetBody() + "\n")
			for _, a := range r.Assets {
				b.WriteString(a.GetName() + "\n")
			}
			sum := sha256.Sum256([]byte(b.String()))
			st := "sha256:" + hex.EncodeToString(sum[:])
			if !fe.changed(r.GetHTMLURL(), st) {
				continue
			}
			date := stampOf(r.PublishedAt)
			if date == "" {
				date = stampOf(r.CreatedAt)
			}
			fe.add(forge.Item{URL: r.GetHTMLURL(), Data: []byte(b.String()), Author: r.GetAuthor().GetLogin(), Date: date}, st)
		}
	})
}

// fetchRunLogs lists the workflow runs and downloads the logs of each completed
// run not scanned in its current attempt: a zip of one text file per job step,
// which the pipeline opens as any archive.
func (g *gitHub) fetchRunLogs(ctx context.Context, fe *fetchEnv, owner, name string) error {
	type run struct {
		id        int64
		url, date string
		stamp     string
		actor     string
	}
	var todo []run
	var batch *github.WorkflowRuns
	err := g.pages(ctx, fmt.Sprintf("listing the workflow runs of %s/%s", owner, name), func(lo github.ListOptions) (*github.Response, error) {
		var resp *github.Response
		var err error
		batch, resp, err = g.c.Actions.ListRepositoryWorkflowRuns(ctx, owner, name, &github.ListWorkflowRunsOptions{ListOptions: lo})
		return resp, err
	}, func() {
		if batch == nil {
			return
		}
		for _, r := range batch.WorkflowRuns {
			if r.GetStatus() != "completed" || r.GetHTMLURL() == "" || r.GetID() == 0 {
				continue // logs of a run in progress are read when it completes
			}
			st := fmt.Sprintf("attempt=%d updated_at=%s", r.GetRunAttempt(), stampOf(r.UpdatedAt))
			if !fe.changed(r.GetHTMLURL(), st) {
				continue
			}
			todo = append(todo, run{id: r.GetID(), url: r.GetHTMLURL(), date: stampOf(r.UpdatedAt), stamp: st, actor: r.GetActor().GetLogin()})
		}
	})
	if err != nil {
		return err
	}
	for _, r := range todo {
		path, err := g.downloadRunLogs(ctx, fe, owner, name, r.id)
		switch {
		case errors.Is(err, errGone):
			fe.stamps[r.url] = r.stamp // expired or deleted logs: nothing to read, now or later
			continue
		case errors.Is(err, errTooLarge):
			fe.skipped = append(fe.skipped, source.Skip{Path: r.url, Reason: fmt.Sprintf("logs larger than --max-file-size (%d bytes)", fe.maxSize)})
			fe.stamps[r.url] = r.stamp
			continue
		case err != nil:
			return err
		}
		p := path
		fe.add(forge.Item{URL: r.url, Open: func() (io.ReadCloser, error) { return os.Open(p) }, Author: r.actor, Date: r.date}, r.stamp)
	}
	return nil
}

var (
	errGone     = errors.New("gone")
	errTooLarge = errors.New("too large")
)

// downloadRunLogs saves the logs archive of a run under fe.tempDir. The API
// answers 302 with a short-lived signed URL on a storage host: that one
// redirect is followed to any https origin (plain http only to loopback), with
// a fresh request that carries no Authorization header and no cookies, and
// whose own redirects must stay on the storage origin. Logs that expired or
// were deleted (404, 410) are errGone.
func (g *gitHub) downloadRunLogs(ctx context.Context, fe *fetchEnv, owner, name string, id int64) (string, error) {
	what := fmt.Sprintf("downloading the logs of workflow run %d of %s/%s", id, owner, name)
	var location string
	err := g.o.Limits.do(ctx, what, func() error {
		req, err := g.c.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/actions/runs/%d/logs", url.PathEscape(owner), url.PathEscape(name), id), nil)
		if err != nil {
			return err
		}
		// The token is added by the client's transport: send it only here, and
		// stop at the redirect.
		hc := *g.c.Client()
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := hc.Do(req.WithContext(ctx))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusMovedPermanently || resp.StatusCode == http.StatusTemporaryRedirect || resp.StatusCode == http.StatusSeeOther:
			location = resp.Header.Get("Location")
			return nil
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
			return errGone
		}
		if err := github.CheckResponse(resp); err != nil {
			return err
		}
		return fmt.Errorf("HTTP %d, want a redirect to the logs archive", resp.StatusCode)
	}, func(err error) (waitReason, bool) {
		if errors.Is(err, errGone) {
			return waitReason{}, false
		}
		return classifyGitHub(err)
	})
	if err != nil {
		return "", err
	}
	loc, err := g.c.BaseURL.Parse(location)
	if err != nil || location == "" {
		return "", fmt.Errorf("%s: the API redirected to %q, not a URL", what, location)
	}
	// The signed URL is a credential while it lasts: messages show its origin only.
	if err := netx.CheckURL((&url.URL{Scheme: loc.Scheme, Host: loc.Host, User: loc.User}).String()); err != nil {
		return "", fmt.Errorf("%s: refused the redirect: %v", what, err)
	}
	f, err := os.CreateTemp(fe.tempDir, "run-"+strconv.FormatInt(id, 10)+"-*.zip")
	if err != nil {
		return "", err
	}
	defer f.Close()
	var n int64
	err = g.o.Limits.do(ctx, what, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
		if err != nil {
			return err
		}
		resp, err := g.raw.Do(req) // no token: g.raw has no auth transport, and redirects stay on loc's origin
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = fmt.Errorf("GET %s://%s: %w", loc.Scheme, loc.Host, ue.Err) // not the signed URL
			}
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
			return errGone
		}
		if resp.StatusCode != http.StatusOK {
			return &errHTTP{status: resp.StatusCode, header: resp.Header}
		}
		if err := f.Truncate(0); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		var r io.Reader = resp.Body
		if fe.maxSize > 0 {
			r = io.LimitReader(resp.Body, fe.maxSize+1)
		}
		if n, err = io.Copy(f, r); err != nil {
			return err
		}
		if fe.maxSize > 0 && n > fe.maxSize {
			return errTooLarge
		}
		return nil
	}, func(err error) (waitReason, bool) {
		if errors.Is(err, errGone) || errors.Is(err, errTooLarge) {
			return waitReason{}, false
		}
		return classifyHTTP(err)
	})
	if err != nil {
		return "", err
	}
	return filepath.Clean(f.Name()), nil
}

// gists lists the gists of the user, or of every member of the organisation,
// as repositories to mirror: every revision of every file, fetched again only
// when the gist's updated_at moves.
func (g *gitHub) gists(ctx context.Context, src string) ([]Target, error) {
	users := []string{g.o.User}
	if g.o.Org != "" {
		users = nil
		var batch []*github.User
		err := g.pages(ctx, "listing the members of GitHub organisation "+g.o.Org, func(lo github.ListOptions) (*github.Response, error) {
			var resp *github.Response
			var err error
			batch, resp, err = g.c.Organizations.ListMembers(ctx, g.o.Org, &github.ListMembersOptions{ListOptions: lo})
			return resp, err
		}, func() {
			for _, u := range batch {
				if u.GetLogin() != "" {
					users = append(users, u.GetLogin())
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	var out []Target
	for _, u := range users {
		var batch []*github.Gist
		err := g.pages(ctx, "listing the gists of GitHub user "+u, func(lo github.ListOptions) (*github.Response, error) {
			var resp *github.Response
			var err error
			batch, resp, err = g.c.Gists.List(ctx, u, &github.GistListOptions{ListOptions: lo})
			return resp, err
		}, func() {
			for _, gi := range batch {
				pull := gi.GetGitPullURL()
				if pull == "" || netx.CheckURL(stripCredentials(pull)) != nil {
					continue // only https (or loopback http) clones: never a local path or another transport named by a response
				}
				web := gi.GetHTMLURL()
				if web == "" {
					web = strings.TrimSuffix(pull, ".git")
				}
				name := web
				if u, err := url.Parse(web); err == nil && u.Host != "" {
					name = u.Host + u.Path
				}
				t := Target{URL: stripCredentials(pull), Name: name, Source: src + " gists"}
				if gi.UpdatedAt != nil {
					t.Stamp = "updated_at=" + stampOf(gi.UpdatedAt)
				}
				if g.auth != nil && sameService(g.c.BaseURL, pull) {
					t.Auth = g.auth
				}
				out = append(out, t)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

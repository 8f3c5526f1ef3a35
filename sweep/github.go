package sweep

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/tokenward/tokenward/internal/netx"
)

// GitHubOptions selects the repositories of a GitHub organisation or user, or
// one repository, and what of them is swept.
type GitHubOptions struct {
	API   string // API base URL; "" means https://api.github.com/ (GitHub Enterprise: https://HOST/api/v3/)
	Token string // sent to the API, and to the API's own git host for cloning
	Org   string // exactly one of Org, User and Repo
	User  string
	Repo  string // OWNER/NAME

	Include         Include // what to list (ListGitHub: code)
	IncludeForks    bool
	IncludeArchived bool
	Limits          Limits
	MaxPages        int          // longest listing, in pages of 100 (default 1000)
	HTTPClient      *http.Client // default: one with a 60 s timeout; redirects are always kept to the API's origin
}

// ListGitHub lists the repositories to sweep and those skipped (forks, archived
// and disabled repositories), following pagination and waiting out primary and
// secondary rate limits.
func ListGitHub(ctx context.Context, o GitHubOptions) ([]Target, []Skip, error) {
	o.Include = Include{Code: true}
	l, err := ListGitHubForge(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	return l.Targets, l.Skipped, nil
}

// ListGitHubForge lists what o includes: repositories (code), wikis and gists to
// mirror, and the collections of issues, pull requests, comments, releases and
// Actions logs to read through the API.
func ListGitHubForge(ctx context.Context, o GitHubOptions) (Listing, error) {
	var l Listing
	n := 0
	for _, s := range []string{o.Org, o.User, o.Repo} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return l, errors.New("github: give an organisation, a user or a repository")
	}
	g, err := newGitHubClient(o)
	if err != nil {
		return l, err
	}
	source, what := "github:"+o.Org, "listing the repositories of GitHub organisation "+o.Org
	switch {
	case o.User != "":
		source, what = "github-user:"+o.User, "listing the repositories of GitHub user "+o.User
	case o.Repo != "":
		source, what = "github-repo:"+o.Repo, "reading GitHub repository "+o.Repo
	}
	var repos []*github.Repository
	if o.Repo != "" {
		owner, name, ok := strings.Cut(o.Repo, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return l, fmt.Errorf("--repo %q: want OWNER/NAME", o.Repo)
		}
		var r *github.Repository
		err := o.Limits.do(ctx, what, func() error {
			var err error
			r, _, err = g.c.Repositories.Get(ctx, owner, name)
			return err
		}, classifyGitHub)
		if err != nil {
			return l, err
		}
		repos = []*github.Repository{r}
	} else {
		var batch []*github.Repository
		err := g.pages(ctx, what, func(lo github.ListOptions) (*github.Response, error) {
			var resp *github.Response
			var err error
			if o.Org != "" {
				batch, resp, err = g.c.Repositories.ListByOrg(ctx, o.Org, &github.RepositoryListByOrgOptions{Type: "all", Sort: "full_name", Direction: "asc", ListOptions: lo})
			} else {
				batch, resp, err = g.c.Repositories.ListByUser(ctx, o.User, &github.RepositoryListByUserOptions{Type: "owner", Sort: "full_name", Direction: "asc", ListOptions: lo})
			}
			return resp, err
		}, func() { repos = append(repos, batch...) })
		if err != nil {
			return l, err
		}
	}
	for _, r := range repos {
		name := r.GetFullName()
		switch {
		case r.GetFork() && !o.IncludeForks && o.Repo == "":
			l.Skipped = append(l.Skipped, Skip{name, "fork"})
			continue
		case r.GetArchived() && !o.IncludeArchived && o.Repo == "":
			l.Skipped = append(l.Skipped, Skip{name, "archived"})
			continue
		case r.GetDisabled():
			l.Skipped = append(l.Skipped, Skip{name, "disabled"})
			continue
		}
		clone := r.GetCloneURL()
		if clone == "" && (o.Include.Code || o.Include.Wiki) {
			l.Skipped = append(l.Skipped, Skip{name, "no clone URL in the API response"})
			continue
		}
		if o.Include.Code {
			t := Target{URL: stripCredentials(clone), Name: name, Source: source}
			if r.PushedAt != nil && !r.PushedAt.IsZero() {
				t.Stamp = "pushed_at=" + r.PushedAt.UTC().Format(time.RFC3339Nano)
			}
			if g.auth != nil && sameService(g.c.BaseURL, clone) {
				t.Auth = g.auth
			}
			l.Targets = append(l.Targets, t)
		}
		if o.Include.Wiki && r.GetHasWiki() {
			wiki := strings.TrimSuffix(stripCredentials(clone), ".git") + ".wiki.git"
			t := Target{URL: wiki, Name: name + ".wiki", Source: source, Optional: true}
			if g.auth != nil && sameService(g.c.BaseURL, wiki) {
				t.Auth = g.auth
			}
			l.Targets = append(l.Targets, t)
		}
		l.Collections = append(l.Collections, g.collections(r, source)...)
	}
	if o.Include.Gists && o.Repo == "" {
		ts, err := g.gists(ctx, source)
		if err != nil {
			return l, err
		}
		l.Targets = append(l.Targets, ts...)
	}
	return l, nil
}

// classifyGitHub maps go-github's errors to waits: primary limits until the
// reset time, secondary limits for Retry-After (a minute when absent).
func classifyGitHub(err error) (waitReason, bool) {
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		d := time.Until(rl.Rate.Reset.Time) + time.Second
		return waitReason{d: max(d, time.Second), why: "primary rate limit exhausted (X-RateLimit-Reset)"}, true
	}
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) {
		if ab.RetryAfter != nil {
			return waitReason{d: *ab.RetryAfter, why: "secondary rate limit (Retry-After)"}, true
		}
		return waitReason{d: time.Minute, why: "secondary rate limit (no Retry-After given)"}, true
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		body := er.Message
		return classifyHTTP(&errHTTP{status: er.Response.StatusCode, header: er.Response.Header, body: body})
	}
	return classifyHTTP(err)
}

// sameService reports whether a clone URL is served by the API's own host (or,
// for api.HOST, by HOST), so that the API token may be sent to it.
func sameService(api *url.URL, clone string) bool {
	u, err := url.Parse(clone)
	if err != nil || api == nil || u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return false
	}
	h, ah := strings.ToLower(u.Host), strings.ToLower(api.Host)
	return h == ah || "api."+h == ah
}

func isLoopback(host string) bool { return netx.IsLoopbackHost(host) }

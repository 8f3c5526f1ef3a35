package sweep

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/google/go-github/v66/github"

	"github.com/tokenward/tokenward/internal/netx"
)

// GitHubOptions selects the repositories of a GitHub organisation or user.
type GitHubOptions struct {
	API   string // API base URL; "" means https://api.github.com/ (GitHub Enterprise: https://HOST/api/v3/)
	Token string // sent to the API, and to the API's own git host for cloning
	Org   string // exactly one of Org and User
	User  string

	IncludeForks    bool
	IncludeArchived bool
	Limits          Limits
	HTTPClient      *http.Client // default: one with a 60 s timeout; redirects are always kept to the API's origin
}

// ListGitHub lists the repositories to sweep and those skipped (forks, archived
// and disabled repositories), following pagination and waiting out primary and
// secondary rate limits.
func ListGitHub(ctx context.Context, o GitHubOptions) ([]Target, []Skip, error) {
	if (o.Org == "") == (o.User == "") {
		return nil, nil, errors.New("github: give an organisation or a user")
	}
	if err := CheckAPIURL("--github-api", o.API); err != nil {
		return nil, nil, err
	}
	c := github.NewClient(apiClient(o.HTTPClient))
	if o.Token != "" {
		c = c.WithAuthToken(o.Token)
	}
	if o.API != "" {
		var err error
		if c, err = c.WithEnterpriseURLs(o.API, o.API); err != nil {
			return nil, nil, fmt.Errorf("--github-api %q: %w", o.API, err)
		}
	}
	source, what := "github:"+o.Org, "listing the repositories of GitHub organisation "+o.Org
	if o.User != "" {
		source, what = "github-user:"+o.User, "listing the repositories of GitHub user "+o.User
	}
	var auth *githttp.BasicAuth
	if o.Token != "" {
		auth = &githttp.BasicAuth{Username: "x-access-token", Password: o.Token}
	}
	var out []Target
	var skipped []Skip
	page := 1
	for {
		var repos []*github.Repository
		var resp *github.Response
		err := o.Limits.do(ctx, fmt.Sprintf("%s (page %d)", what, page), func() error {
			var err error
			lo := github.ListOptions{Page: page, PerPage: 100}
			if o.Org != "" {
				repos, resp, err = c.Repositories.ListByOrg(ctx, o.Org, &github.RepositoryListByOrgOptions{Type: "all", Sort: "full_name", Direction: "asc", ListOptions: lo})
			} else {
				repos, resp, err = c.Repositories.ListByUser(ctx, o.User, &github.RepositoryListByUserOptions{Type: "owner", Sort: "full_name", Direction: "asc", ListOptions: lo})
			}
			return err
		}, classifyGitHub)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range repos {
			name := r.GetFullName()
			switch {
			case r.GetFork() && !o.IncludeForks:
				skipped = append(skipped, Skip{name, "fork"})
				continue
			case r.GetArchived() && !o.IncludeArchived:
				skipped = append(skipped, Skip{name, "archived"})
				continue
			case r.GetDisabled():
				skipped = append(skipped, Skip{name, "disabled"})
				continue
			}
			clone := r.GetCloneURL()
			if clone == "" {
				skipped = append(skipped, Skip{name, "no clone URL in the API response"})
				continue
			}
			t := Target{URL: stripCredentials(clone), Name: name, Source: source}
			if r.PushedAt != nil && !r.PushedAt.IsZero() {
				t.Stamp = "pushed_at=" + r.PushedAt.UTC().Format(time.RFC3339Nano)
			}
			if auth != nil && sameService(c.BaseURL, clone) {
				t.Auth = auth
			}
			out = append(out, t)
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		page = resp.NextPage
	}
	return out, skipped, nil
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

package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/tokenward/tokenward/internal/netx"
)

// GitLabOptions selects the projects of a GitLab group (and its subgroups).
type GitLabOptions struct {
	API   string // API base URL; "" means https://gitlab.com/api/v4
	Token string // PRIVATE-TOKEN for the API, and oauth2 password for cloning from the same host
	Group string // full path, e.g. acme or acme/platform

	IncludeForks    bool
	IncludeArchived bool
	Limits          Limits
	HTTPClient      *http.Client // default: one with a 60 s timeout; redirects are always kept to the API's origin
}

type gitlabProject struct {
	PathWithNamespace string          `json:"path_with_namespace"`
	HTTPURLToRepo     string          `json:"http_url_to_repo"`
	Archived          bool            `json:"archived"`
	EmptyRepo         bool            `json:"empty_repo"`
	ForkedFrom        json.RawMessage `json:"forked_from_project"`
	LastActivityAt    string          `json:"last_activity_at"`
}

var linkNext = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// ListGitLab lists a group's projects, subgroups included, following pagination
// (X-Next-Page or Link headers) and waiting out rate limits (429 with
// Retry-After or RateLimit-Reset; an exhausted RateLimit-Remaining waits for the
// reset before the next request).
func ListGitLab(ctx context.Context, o GitLabOptions) ([]Target, []Skip, error) {
	if o.Group == "" {
		return nil, nil, errors.New("gitlab: give a group")
	}
	api := strings.TrimSuffix(o.API, "/")
	if api == "" {
		api = "https://gitlab.com/api/v4"
	}
	if err := CheckAPIURL("--gitlab-api", api); err != nil {
		return nil, nil, err
	}
	base, err := url.Parse(api)
	if err != nil || base.Host == "" {
		return nil, nil, fmt.Errorf("--gitlab-api %q is not a URL", o.API)
	}
	hc := apiClient(o.HTTPClient)
	lim := o.Limits.withDefaults()
	next := fmt.Sprintf("%s/groups/%s/projects?include_subgroups=true&per_page=100&order_by=id&sort=asc&page=1", api, url.PathEscape(o.Group))
	what := "listing the projects of GitLab group " + o.Group
	var auth *githttp.BasicAuth
	if o.Token != "" {
		auth = &githttp.BasicAuth{Username: "oauth2", Password: o.Token}
	}
	var out []Target
	var skipped []Skip
	for page := 1; next != ""; page++ {
		var projects []gitlabProject
		var hdr http.Header
		err := lim.do(ctx, fmt.Sprintf("%s (page %d)", what, page), func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
			if err != nil {
				return err
			}
			if o.Token != "" {
				req.Header.Set("PRIVATE-TOKEN", o.Token)
			}
			req.Header.Set("Accept", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				msg := strings.TrimSpace(string(body))
				if len(msg) > 200 {
					msg = msg[:200] + "…"
				}
				return &errHTTP{status: resp.StatusCode, header: resp.Header, body: msg}
			}
			projects = nil
			if err := json.Unmarshal(body, &projects); err != nil {
				return fmt.Errorf("response is not a JSON list of projects: %w", err)
			}
			hdr = resp.Header
			return nil
		}, classifyHTTP)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range projects {
			name := p.PathWithNamespace
			switch {
			case len(p.ForkedFrom) > 0 && string(p.ForkedFrom) != "null" && !o.IncludeForks:
				skipped = append(skipped, Skip{name, "fork"})
				continue
			case p.Archived && !o.IncludeArchived:
				skipped = append(skipped, Skip{name, "archived"})
				continue
			case p.EmptyRepo:
				skipped = append(skipped, Skip{name, "empty"})
				continue
			case p.HTTPURLToRepo == "":
				skipped = append(skipped, Skip{name, "no clone URL in the API response"})
				continue
			}
			t := Target{URL: stripCredentials(p.HTTPURLToRepo), Name: name, Source: "gitlab:" + o.Group}
			if p.LastActivityAt != "" {
				t.Stamp = "last_activity_at=" + p.LastActivityAt
			}
			if auth != nil && sameService(base, p.HTTPURLToRepo) {
				t.Auth = auth
			}
			out = append(out, t)
		}
		next = ""
		if np := hdr.Get("X-Next-Page"); np != "" {
			u, _ := url.Parse(api + "/groups/" + url.PathEscape(o.Group) + "/projects")
			q := url.Values{"include_subgroups": {"true"}, "per_page": {"100"}, "order_by": {"id"}, "sort": {"asc"}, "page": {np}}
			u.RawQuery = q.Encode()
			next = u.String()
		} else if m := linkNext.FindStringSubmatch(hdr.Get("Link")); m != nil {
			u, err := url.Parse(m[1])
			if err != nil || netx.Origin(u) != netx.Origin(base) {
				return nil, nil, fmt.Errorf("%s: next page link %q is not on %s", what, m[1], netx.Origin(base))
			}
			next = u.String()
		}
		// An exhausted quota: wait for the reset before asking again.
		if next != "" && hdr.Get("RateLimit-Remaining") == "0" {
			if d, ok := resetIn(hdr, "RateLimit-Reset", time.Now()); ok && d > 0 {
				if d > lim.MaxWait {
					return nil, nil, fmt.Errorf("%s: rate limit exhausted for %s, longer than the longest wait (%s): retry later or allow a longer wait (--rate-limit-wait)", what, d.Round(time.Second), lim.MaxWait)
				}
				lim.Log(fmt.Sprintf("%s: rate limit exhausted (RateLimit-Remaining: 0); waiting %s", what, d.Round(time.Millisecond)))
				if err := lim.Sleep(ctx, d); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return out, skipped, nil
}

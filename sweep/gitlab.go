package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// GitLabOptions selects the projects of a GitLab group (and its subgroups), or
// one project, and what of them is swept.
type GitLabOptions struct {
	API     string // API base URL; "" means https://gitlab.com/api/v4
	Token   string // PRIVATE-TOKEN for the API, and oauth2 password for cloning from the same host
	Group   string // full path, e.g. acme or acme/platform; or
	Project string // one project's full path, e.g. acme/platform/api

	Include         Include // what to list (ListGitLab: code)
	IncludeForks    bool
	IncludeArchived bool
	Limits          Limits
	MaxPages        int          // longest listing, in pages of 100 (default 1000)
	HTTPClient      *http.Client // default: one with a 60 s timeout; redirects are always kept to the API's origin
}

type gitlabProject struct {
	ID                   int64           `json:"id"`
	PathWithNamespace    string          `json:"path_with_namespace"`
	WebURL               string          `json:"web_url"`
	HTTPURLToRepo        string          `json:"http_url_to_repo"`
	Archived             bool            `json:"archived"`
	EmptyRepo            bool            `json:"empty_repo"`
	ForkedFrom           json.RawMessage `json:"forked_from_project"`
	LastActivityAt       string          `json:"last_activity_at"`
	WikiEnabled          *bool           `json:"wiki_enabled"`
	IssuesEnabled        *bool           `json:"issues_enabled"`
	MergeRequestsEnabled *bool           `json:"merge_requests_enabled"`
	SnippetsEnabled      *bool           `json:"snippets_enabled"`
	JobsEnabled          *bool           `json:"jobs_enabled"`
}

// enabled reads a feature flag of the project: absent means enabled (older
// servers and restricted tokens leave them out; the listing then says).
func enabled(b *bool) bool { return b == nil || *b }

var linkNext = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// ListGitLab lists a group's projects, subgroups included, following pagination
// (X-Next-Page or Link headers) and waiting out rate limits (429 with
// Retry-After or RateLimit-Reset; an exhausted RateLimit-Remaining waits for the
// reset before the next request).
func ListGitLab(ctx context.Context, o GitLabOptions) ([]Target, []Skip, error) {
	o.Include = Include{Code: true}
	l, err := ListGitLabForge(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	return l.Targets, l.Skipped, nil
}

// ListGitLabForge lists what o includes: projects (code), wikis and snippets
// to mirror, and the collections of issues, merge requests and CI job logs to
// read through the API.
func ListGitLabForge(ctx context.Context, o GitLabOptions) (Listing, error) {
	var l Listing
	if (o.Group == "") == (o.Project == "") {
		return l, errors.New("gitlab: give a group or a project")
	}
	g, err := newGitLabClient(o)
	if err != nil {
		return l, err
	}
	var projects []gitlabProject
	src := "gitlab:" + o.Group
	if o.Project != "" {
		src = "gitlab-project:" + o.Project
		var p gitlabProject
		body, _, err := g.get(ctx, "reading GitLab project "+o.Project, g.api+"/projects/"+url.PathEscape(o.Project))
		if err != nil {
			return l, err
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return l, fmt.Errorf("reading GitLab project %s: the response is not a project: %w", o.Project, err)
		}
		projects = []gitlabProject{p}
	} else {
		q := url.Values{"include_subgroups": {"true"}, "per_page": {"100"}, "order_by": {"id"}, "sort": {"asc"}}
		err := g.pages(ctx, "listing the projects of GitLab group "+o.Group, g.api+"/groups/"+url.PathEscape(o.Group)+"/projects", q, func(body []byte) error {
			var batch []gitlabProject
			if err := json.Unmarshal(body, &batch); err != nil {
				return fmt.Errorf("response is not a JSON list of projects: %w", err)
			}
			projects = append(projects, batch...)
			return nil
		})
		if err != nil {
			return l, err
		}
	}
	in := o.Include
	for _, p := range projects {
		name := p.PathWithNamespace
		switch {
		case len(p.ForkedFrom) > 0 && string(p.ForkedFrom) != "null" && !o.IncludeForks && o.Project == "":
			l.Skipped = append(l.Skipped, Skip{name, "fork"})
			continue
		case p.Archived && !o.IncludeArchived && o.Project == "":
			l.Skipped = append(l.Skipped, Skip{name, "archived"})
			continue
		}
		if in.Code {
			switch {
			case p.EmptyRepo:
				l.Skipped = append(l.Skipped, Skip{name, "empty"})
			case p.HTTPURLToRepo == "":
				l.Skipped = append(l.Skipped, Skip{name, "no clone URL in the API response"})
			default:
				t := Target{URL: stripCredentials(p.HTTPURLToRepo), Name: name, Source: src}
				if p.LastActivityAt != "" {
					t.Stamp = "last_activity_at=" + p.LastActivityAt
				}
				t.Auth = g.cloneAuth(p.HTTPURLToRepo)
				l.Targets = append(l.Targets, t)
			}
		}
		if in.Wiki && enabled(p.WikiEnabled) && p.HTTPURLToRepo != "" {
			wiki := strings.TrimSuffix(stripCredentials(p.HTTPURLToRepo), ".git") + ".wiki.git"
			l.Targets = append(l.Targets, Target{URL: wiki, Name: name + ".wiki", Source: src, Optional: true, Auth: g.cloneAuth(wiki)})
		}
		if in.Snippets && enabled(p.SnippetsEnabled) {
			ts, err := g.snippets(ctx, p, src)
			if err != nil {
				return l, err
			}
			l.Targets = append(l.Targets, ts...)
		}
		l.Collections = append(l.Collections, g.collections(p, src)...)
	}
	return l, nil
}

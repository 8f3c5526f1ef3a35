// Package sweep sweeps many repositories: it enumerates them (GitHub
// organisations and users, GitLab groups, a list file), keeps bare mirrors up to
// date, scans each one's history incrementally (blobs already scanned with the same
// rules are skipped) and commits each repository's results to the store
// atomically. Repositories can be partitioned into shards swept by separate
// machines whose stores are merged afterwards.
package sweep

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// Target is one repository to sweep.
type Target struct {
	URL    string // clone URL without credentials, or an absolute local path; the store's key
	Name   string // shown in reports, e.g. acme/api
	Source string // where it was listed: github:ORG, github-user:USER, gitlab:GROUP, file:PATH
	Local  bool   // a repository on this machine, scanned in place (no mirror)
	// Stamp is the listing's record of the last push (GitHub pushed_at, GitLab
	// last_activity_at), "" when unknown. While it equals the stamp stored when
	// the mirror was last fetched (within Config.RefetchAfter), the repository is
	// unchanged without asking git.
	Stamp string
	// Auth authenticates fetches; it is never stored or logged.
	Auth transport.AuthMethod
	// Optional says the repository may not exist (a wiki without pages): a
	// remote that answers "not found" is absent, not a failure.
	Optional bool
}

// Skip is a listed repository that is not swept, and why.
type Skip struct {
	Name   string
	Reason string // fork, archived, disabled, empty, ...
}

// ShardOf returns the shard (0..n-1) of a clone URL: a stable hash of the URL
// without credentials, so every worker computes the same partition.
func ShardOf(cloneURL string, n int) int {
	if n <= 1 {
		return 0
	}
	sum := sha256.Sum256([]byte(stripCredentials(cloneURL)))
	return int(binary.BigEndian.Uint64(sum[:8]) % uint64(n))
}

// Shard keeps the targets of shard i of n.
func Shard(ts []Target, i, n int) []Target {
	if n <= 1 {
		return ts
	}
	var out []Target
	for _, t := range ts {
		if ShardOf(t.URL, n) == i {
			out = append(out, t)
		}
	}
	return out
}

// ShardCollections keeps the collections of shard i of n (by their keys, as
// repositories by their clone URLs).
func ShardCollections(cs []Collection, i, n int) []Collection {
	if n <= 1 {
		return cs
	}
	var out []Collection
	for _, c := range cs {
		if ShardOf(c.Key, n) == i {
			out = append(out, c)
		}
	}
	return out
}

// Dedup sorts targets by URL and drops repeats (the first listing wins).
func Dedup(ts []Target) []Target {
	seen := map[string]bool{}
	var out []Target
	for _, t := range ts {
		if !seen[t.URL] {
			seen[t.URL] = true
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out
}

// stripCredentials removes user info from a URL (scp-like and local paths are
// returned as they are).
func stripCredentials(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" && u.Scheme != "file" {
		return raw
	}
	u.User = nil
	return u.String()
}

// ReadReposFile reads a list of repositories: one clone URL (https, http, ssh,
// git, file, or scp-like user@host:path) or local path per line; blank lines and
// lines starting with # are ignored, as is text after " #". Credentials in a URL
// are used for fetching and never stored, nor repeated in messages.
//
// A line that names no repository (a missing path, an unsupported URL) is a
// problem for that entry, returned in problems as file:line: what; the other
// lines are still listed. err is set only when the file cannot be read.
func ReadReposFile(path string) (targets []Target, problems []error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--repos: %w", err)
	}
	defer f.Close()
	base := filepath.Dir(path)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		t, err := parseTarget(line, base)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s:%d: %v", path, n, err))
			continue
		}
		t.Source = "file:" + path
		targets = append(targets, t)
	}
	if err := sc.Err(); err != nil {
		return targets, problems, fmt.Errorf("%s:%d: %w", path, n+1, err)
	}
	return targets, problems, nil
}

// userinfoRe finds the userinfo of a URL-like string, even one url.Parse rejects
// (a malformed scheme included).
var userinfoRe = regexp.MustCompile(`^(.*?://)[^/?#]*@`)

// redactUserinfo replaces a URL's user and password with *** for messages; in a
// line that is not a URL, whatever comes before the last @ of its first path
// segment (user:password@host/... written without a scheme).
func redactUserinfo(s string) string {
	if strings.Contains(s, "://") {
		return userinfoRe.ReplaceAllString(s, "${1}***@")
	}
	seg, _, _ := strings.Cut(s, "/")
	if i := strings.LastIndex(seg, "@"); i >= 0 {
		return "***" + s[i:]
	}
	return s
}

// parseTarget interprets one line of a repos file; relative paths are relative
// to base.
func parseTarget(s, base string) (Target, error) {
	if strings.Contains(s, "://") {
		shown := redactUserinfo(s)
		u, err := url.Parse(s)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // url.Error repeats the whole URL, credentials included
			}
			return Target{}, fmt.Errorf("%q is not a valid URL: %v", shown, err)
		}
		switch u.Scheme {
		case "https", "http", "ssh", "git", "file":
		default:
			return Target{}, fmt.Errorf("%q: unsupported scheme %q (want https, http, ssh, git or file)", shown, u.Scheme)
		}
		if u.Scheme != "file" && u.Host == "" {
			return Target{}, fmt.Errorf("%q has no host", shown)
		}
		t := Target{}
		if u.User != nil && (u.Scheme == "https" || u.Scheme == "http") {
			if pw, ok := u.User.Password(); ok {
				t.Auth = &githttp.BasicAuth{Username: u.User.Username(), Password: pw}
			} else {
				// https://TOKEN@host/...: the token as the password, as git does.
				t.Auth = &githttp.BasicAuth{Username: "x-access-token", Password: u.User.Username()}
			}
			u.User = nil
		}
		if _, ok := u.User.Password(); ok { // ssh://user:password@host: keep the user only
			u.User = url.User(u.User.Username())
		}
		t.URL = u.String()
		t.Name = nameFromPath(u.Host, u.Path)
		return t, nil
	}
	if at, colon := strings.Index(s, "@"), strings.Index(s, ":"); at > 0 && colon > at && !strings.ContainsAny(s[:at], "/\\") {
		// scp-like: git@github.com:acme/api.git
		return Target{URL: s, Name: nameFromPath(s[at+1:colon], s[colon+1:])}, nil
	}
	p := s
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[2:])
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	p = filepath.Clean(p)
	st, err := os.Stat(p)
	if err != nil {
		if pe, ok := err.(*fs.PathError); ok {
			err = pe.Err // it repeats the path
		}
		return Target{}, fmt.Errorf("%s: %v (want a clone URL or a local repository)", redactUserinfo(s), err)
	}
	if !st.IsDir() {
		return Target{}, fmt.Errorf("%s is not a directory (want a clone URL or a local repository)", redactUserinfo(s))
	}
	return Target{URL: p, Name: filepath.Base(strings.TrimSuffix(p, ".git")), Local: true}, nil
}

func nameFromPath(host, p string) string {
	p = strings.Trim(p, "/")
	p = strings.TrimSuffix(p, ".git")
	if host == "" {
		return p
	}
	return host + "/" + p
}

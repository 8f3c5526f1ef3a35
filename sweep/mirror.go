package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Refspecs a mirror fetches: branches and tags, force-updated. With allRefs,
// every ref (pull request heads, notes, ...).
func refSpecs(allRefs bool) []config.RefSpec {
	if allRefs {
		return []config.RefSpec{"+refs/*:refs/*"}
	}
	return []config.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"}
}

// MirrorPath is where the bare mirror of a clone URL lives under cache:
// HOST/PATH.git, each part made safe for a file name.
func MirrorPath(cache, cloneURL string) string {
	host, p := "local", cloneURL
	if u, err := url.Parse(cloneURL); err == nil && u.Scheme != "" && (u.Host != "" || u.Scheme == "file") {
		if u.Host != "" {
			host = u.Host
		}
		p = u.Path
	} else if at, colon := strings.Index(cloneURL, "@"), strings.Index(cloneURL, ":"); at > 0 && colon > at {
		host, p = cloneURL[at+1:colon], cloneURL[colon+1:]
	}
	var parts []string
	for _, s := range strings.Split(strings.TrimSuffix(strings.Trim(p, "/"), ".git"), "/") {
		if s = safeName(s); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		sum := sha256.Sum256([]byte(cloneURL))
		parts = []string{hex.EncodeToString(sum[:6])}
	}
	parts[len(parts)-1] += ".git"
	return filepath.Join(append([]string{cache, safeName(host)}, parts...)...)
}

// safeName keeps letters, digits and -_.+ (others become _), and never yields
// "." or "..".
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '+'
		if !ok {
			b[i] = '_'
		}
	}
	s = string(b)
	if strings.Trim(s, ".") == "" {
		return strings.Repeat("_", len(s))
	}
	return s
}

// Mirror brings the bare mirror of t under cache up to date and returns its
// path: a fetch of only what is new when it exists, otherwise a clone into a
// temporary directory renamed into place when complete (so an interrupted clone
// leaves nothing that looks like a mirror). A mirror whose repository cannot be
// opened is cloned again; a failed fetch keeps the mirror and returns the error.
func Mirror(ctx context.Context, cache string, t Target, allRefs bool) (dir string, fetched bool, err error) {
	dir = MirrorPath(cache, t.URL)
	if _, err := os.Stat(dir); err == nil {
		r, err := git.PlainOpen(dir)
		if err == nil {
			if cfg, err := r.Config(); err == nil {
				if rc, ok := cfg.Remotes["origin"]; ok && (len(rc.URLs) == 0 || rc.URLs[0] != t.URL) {
					return "", false, fmt.Errorf("mirror %s belongs to %v, not %s: use another --cache directory", dir, rc.URLs, t.URL)
				}
			}
			if localUpToDate(t.URL, r, allRefs) {
				return dir, false, nil
			}
			err = r.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", RefSpecs: refSpecs(allRefs), Auth: t.Auth, Force: true, Tags: git.NoTags})
			switch {
			case err == nil:
				return dir, true, nil
			case errors.Is(err, git.NoErrAlreadyUpToDate), errors.Is(err, transport.ErrEmptyRemoteRepository):
				return dir, false, nil
			default:
				return "", false, fmt.Errorf("fetching %s into %s: %w", t.URL, dir, err)
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			return "", false, fmt.Errorf("mirror %s is unreadable and cannot be removed: %w", dir, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", false, fmt.Errorf("--cache: %w", err)
	}
	// Remove what an interrupted clone left behind.
	if old, _ := filepath.Glob(dir + ".tmp-*"); len(old) > 0 {
		for _, o := range old {
			os.RemoveAll(o)
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		return "", false, fmt.Errorf("--cache: %w", err)
	}
	defer os.RemoveAll(tmp) // after a successful rename there is nothing left to remove
	r, err := git.PlainInit(tmp, true)
	if err != nil {
		return "", false, fmt.Errorf("creating mirror %s: %w", dir, err)
	}
	if _, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{t.URL}, Fetch: refSpecs(allRefs)}); err != nil {
		return "", false, fmt.Errorf("creating mirror %s: %w", dir, err)
	}
	err = r.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", RefSpecs: refSpecs(allRefs), Auth: t.Auth, Force: true, Tags: git.NoTags})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) && !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return "", false, fmt.Errorf("cloning %s: %w", t.URL, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", false, fmt.Errorf("creating mirror %s: %w", dir, err)
	}
	return dir, true, nil
}

// localUpToDate reports whether a file:// remote's refs (those the refspecs
// fetch) are all in the mirror already, read in-process: an unchanged local
// remote then costs no git-upload-pack.
func localUpToDate(remote string, mirror *git.Repository, allRefs bool) bool {
	u, err := url.Parse(remote)
	if err != nil || u.Scheme != "file" || u.Host != "" {
		return false
	}
	src, err := git.PlainOpenWithOptions(u.Path, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if err != nil {
		return false
	}
	it, err := src.Storer.IterReferences()
	if err != nil {
		return false
	}
	upToDate := true
	err = it.ForEach(func(ref *plumbing.Reference) error {
		name := ref.Name().String()
		if ref.Type() != plumbing.HashReference || !allRefs && !strings.HasPrefix(name, "refs/heads/") && !strings.HasPrefix(name, "refs/tags/") {
			return nil
		}
		if !allRefs && !strings.HasPrefix(name, "refs/") {
			return nil
		}
		have, err := mirror.Storer.Reference(ref.Name())
		if err != nil || have.Hash() != ref.Hash() {
			upToDate = false
			return storer.ErrStop
		}
		return nil
	})
	return err == nil && upToDate
}

// refsDigest hashes a repository's refs (name and target, sorted): equal
// digests mean the same history.
func refsDigest(dir string) (string, int, error) {
	r, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: false, EnableDotGitCommonDir: true})
	if err != nil {
		return "", 0, fmt.Errorf("opening %s: %w", dir, err)
	}
	it, err := r.Storer.IterReferences()
	if err != nil {
		return "", 0, fmt.Errorf("listing the refs of %s: %w", dir, err)
	}
	var lines []string
	err = it.ForEach(func(ref *plumbing.Reference) error {
		if ref.Type() == plumbing.HashReference {
			lines = append(lines, ref.Name().String()+" "+ref.Hash().String())
		}
		return nil
	})
	if err != nil {
		return "", 0, fmt.Errorf("listing the refs of %s: %w", dir, err)
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)), len(lines), nil
}

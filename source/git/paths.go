package git

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tokenward/tokenward/rules"
)

// PathClassFor returns an Options.PathClass for a rule set: the key of a path is
// which of the set's path regexes (rule paths, rule and global allow paths) match
// it, so two paths with the same key get the same engine result for a blob. It
// returns nil when no rule depends on the path.
func PathClassFor(set *rules.Set) func(string) string {
	if set == nil {
		return nil
	}
	var res []*regexp.Regexp
	seen := map[string]bool{}
	add := func(re *regexp.Regexp) { // the same pattern often guards many rules
		if re != nil && !seen[re.String()] {
			seen[re.String()] = true
			res = append(res, re)
		}
	}
	for _, a := range set.Allow {
		for _, re := range a.PathRegexps() {
			add(re)
		}
	}
	for _, r := range set.Rules {
		add(r.PathRe)
		for _, a := range r.Allow {
			for _, re := range a.PathRegexps() {
				add(re)
			}
		}
	}
	if len(res) == 0 {
		return nil
	}
	return func(path string) string {
		key := make([]byte, (len(res)+7)/8)
		for i, re := range res {
			if re.MatchString(path) {
				key[i/8] |= 1 << (i % 8)
			}
		}
		return string(key)
	}
}

// Info describes a repository for reports and hooks.
type Info struct {
	GitDir    string // the repository's git dir
	CommonDir string // shared git dir (differs from GitDir in linked worktrees)
	WorkTree  string // "" for a bare repository
	HooksDir  string // core.hooksPath if set, else CommonDir/hooks
	RemoteURL string // origin's URL with any credentials removed, "" if none
}

// Describe locates the repository at path (see Options.Repo).
func Describe(path string) (Info, error) {
	rp, err := openRepo(path)
	if err != nil {
		return Info{}, err
	}
	in := Info{GitDir: rp.gitDir, CommonDir: rp.commonDir, WorkTree: rp.workTree, HooksDir: filepath.Join(rp.commonDir, "hooks")}
	if cfg, err := rp.r.Config(); err == nil {
		if hp := cfg.Raw.Section("core").Option("hooksPath"); hp != "" {
			if strings.HasPrefix(hp, "~/") {
				if home, err := os.UserHomeDir(); err == nil {
					hp = filepath.Join(home, hp[2:])
				}
			}
			if !filepath.IsAbs(hp) {
				base := rp.workTree
				if base == "" {
					base = rp.gitDir
				}
				hp = filepath.Join(base, hp)
			}
			in.HooksDir = hp
		}
		if rc, ok := cfg.Remotes["origin"]; ok && len(rc.URLs) > 0 {
			in.RemoteURL = StripCredentials(rc.URLs[0])
		}
	}
	return in, nil
}

// StripCredentials removes user info (which may hold a token) from a URL.
func StripCredentials(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		// scp-like "git@host:owner/repo": the user is not a secret.
		return raw
	}
	u.User = nil
	return u.String()
}

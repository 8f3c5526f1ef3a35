package git

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

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

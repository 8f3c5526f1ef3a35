package hygiene

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/hygiene/config"
)

// hostFile is a well-known credential file under the home directory.
type hostFile struct {
	rel    string        // slash path relative to home
	format config.Format // syntax when the name does not tell it
	// always: the file is a credential by its nature (private keys, token files);
	// hasCred decides for those from the raw content.
	hasCred func([]byte) bool
}

func nonEmpty(b []byte) bool { return len(bytes.TrimSpace(b)) > 0 }

func containsAny(subs ...string) func([]byte) bool {
	return func(b []byte) bool {
		for _, s := range subs {
			if bytes.Contains(b, []byte(s)) {
				return true
			}
		}
		return false
	}
}

// pgpassLine: host:port:database:user:password with a non-empty password.
func pgpassLine(b []byte) bool {
	for _, l := range bytes.Split(b, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		if parts := bytes.SplitN(bytes.ReplaceAll(l, []byte(`\:`), []byte("__")), []byte(":"), 5); len(parts) == 5 && len(parts[4]) > 0 {
			return true
		}
	}
	return false
}

// HostFiles are the credential files HostConfig looks at, relative to home.
var hostFiles = []hostFile{
	{rel: ".netrc"}, {rel: "_netrc"},
	{rel: ".npmrc"}, {rel: ".yarnrc"}, {rel: ".yarnrc.yml"},
	{rel: ".pypirc"},
	{rel: ".git-credentials"}, {rel: ".config/git/credentials"},
	{rel: ".gitconfig", format: config.INI}, {rel: ".config/git/config", format: config.INI},
	{rel: ".docker/config.json"},
	{rel: ".kube/config"},
	{rel: ".aws/credentials"}, {rel: ".aws/config"},
	{rel: ".config/gh/hosts.yml"}, {rel: ".config/hub", format: config.YAML},
	{rel: ".terraform.d/credentials.tfrc.json"},
	{rel: ".cargo/credentials.toml"}, {rel: ".cargo/credentials", format: config.TOML},
	{rel: ".gem/credentials", format: config.YAML},
	{rel: ".my.cnf"}, {rel: ".s3cfg", format: config.INI}, {rel: ".boto", format: config.INI},
	{rel: ".config/gcloud/application_default_credentials.json"},
	{rel: ".config/gcloud/credentials.db", hasCred: nonEmpty},
	{rel: ".config/gcloud/access_tokens.db", hasCred: nonEmpty},
	{rel: ".azure/accessTokens.json"}, {rel: ".azure/msal_token_cache.json"},
	{rel: ".vault-token", hasCred: nonEmpty},
	{rel: ".pgpass", hasCred: pgpassLine},
	{rel: ".m2/settings.xml", hasCred: containsAny("<password>")},
	{rel: ".ssh/id_rsa", hasCred: containsAny("PRIVATE KEY")},
	{rel: ".ssh/id_ecdsa", hasCred: containsAny("PRIVATE KEY")},
	{rel: ".ssh/id_ecdsa_sk", hasCred: containsAny("PRIVATE KEY")},
	{rel: ".ssh/id_ed25519", hasCred: containsAny("PRIVATE KEY")},
	{rel: ".ssh/id_ed25519_sk", hasCred: containsAny("PRIVATE KEY")},
	{rel: ".ssh/id_dsa", hasCred: containsAny("PRIVATE KEY")},
}

// HostFileNames lists the files --host-config checks, relative to the home directory.
func HostFileNames() []string {
	out := make([]string, len(hostFiles))
	for i, h := range hostFiles {
		out[i] = h.rel
	}
	return out
}

// HostConfig checks the well-known credential files of the user whose home
// directory is home, with the default configuration. See (*Checker).HostConfig.
func HostConfig(home string) ([]finding.Finding, []error) {
	return New(DefaultConfig()).HostConfig(home)
}

// HostConfig checks the current user's credential files (HostFileNames) on a
// developer machine or CI runner: credentials stored in plain text (netrc,
// npmrc, pypirc, git credential store, Docker auths, kubeconfig tokens, cloud
// CLI files) and, on Unix, credential files readable by group or others
// (credential-file-permissions). Missing files are not errors; unreadable and
// oversized ones are, naming the file and what to do. No finding or error holds
// the credential itself.
func (c *Checker) HostConfig(home string) ([]finding.Finding, []error) {
	var (
		out  []finding.Finding
		errs []error
	)
	if !c.cfg.Enabled {
		return nil, nil
	}
	for _, hf := range hostFiles {
		p := filepath.Join(home, filepath.FromSlash(hf.rel))
		shown := "~/" + hf.rel
		st, err := os.Stat(p)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("%s: %v; check the file's ownership and permissions", shown, err))
			}
			continue
		}
		if !st.Mode().IsRegular() {
			continue
		}
		if st.Size() > c.cfg.MaxConfigBytes {
			errs = append(errs, fmt.Errorf("%s: %d bytes is over max_config_size (%d bytes); not checked — raise max_config_size in [hygiene] to include it",
				shown, st.Size(), c.cfg.MaxConfigBytes))
			continue
		}
		data, err := readLimited(p, c.cfg.MaxConfigBytes)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: cannot read: %v; check the file's ownership and permissions", shown, err))
			continue
		}
		var fs []finding.Finding
		hasCred := false
		if hf.hasCred != nil {
			hasCred = hf.hasCred(data)
		} else {
			fs = c.check(filepath.ToSlash(p), data, true, hf.format)
			hasCred = len(fs) > 0
		}
		out = append(out, fs...)
		if hasCred && runtime.GOOS != "windows" && st.Mode().Perm()&0o044 != 0 {
			out = append(out, c.permissionFinding(filepath.ToSlash(p), shown, st.Mode().Perm())...)
		}
	}
	return out, errs
}

func readLimited(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit+1))
}

func (c *Checker) permissionFinding(p, shown string, mode fs.FileMode) []finding.Finding {
	const rule = "credential-file-permissions"
	if !c.cfg.On(rule) {
		return nil
	}
	who := []string{}
	if mode&0o040 != 0 {
		who = append(who, "group")
	}
	if mode&0o004 != 0 {
		who = append(who, "others")
	}
	f := c.newFinding(rule, "")
	f.File = p
	f.Line, f.Column, f.EndLine, f.EndColumn = 1, 1, 1, 1
	f.Fingerprint = finding.Fingerprint(rule, p)
	f.Message = fmt.Sprintf("%s holds credentials and is readable by %s (mode %04o); other accounts and processes on this "+
		"machine can read it — run chmod 600 %s", shown, strings.Join(who, " and "), uint32(mode), shown)
	if c.allowed(p, "", nil, nil) {
		return nil
	}
	return []finding.Finding{f}
}

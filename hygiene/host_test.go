package hygiene

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

func writeHome(t *testing.T, home string, files map[string]struct {
	data string
	mode os.FileMode
}) {
	t.Helper()
	for rel, f := range files {
		p := filepath.Join(home, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHostConfig(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("permission bits are not meaningful on Windows")
	}
	home := t.TempDir()
	const pw = "Hs3Nc6Bv0Gf5Jy2Tu4Zq7L"
	type file = struct {
		data string
		mode os.FileMode
	}
	writeHome(t, home, map[string]file{
		".netrc":               {"machine api.vendor.io login me password " + pw + "\n", 0o644},
		".npmrc":               {"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", 0o644}, // no credential: mode is fine
		".docker/config.json":  {`{"auths":{"ghcr.io":{"auth":"dXNlcjpIczNOYzZCdjBHZjVKeTJUdTRacTdM"}}}`, 0o600},
		".aws/credentials":     {"[default]\naws_access_key_id = AKIAQM7ZR2LX9VB4NT8W\naws_secret_access_key = Wk1Pc5Jd3Qm7Zr2Lx9Vb4Nt8Hs3Nc6Bv0Gf5Jy2T\n", 0o640},
		".ssh/id_ed25519":      {"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n", 0o604},
		".ssh/id_rsa":          {"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n", 0o600},
		".vault-token":         {"hvs.Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3\n", 0o444},
		".pgpass":              {"# host:port:db:user:password\ndb.internal:5432:app:app:" + pw + "\n", 0o600},
		".config/gh/hosts.yml": {"github.com:\n  user: me\n  oauth_token: gho_Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3Hs3Nc6Bv0Gf5J\n", 0o600},
		".kube/config":         {"apiVersion: v1\nkind: Config\nusers:\n- name: me\n  user:\n    token: Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3\n", 0o644},
	})
	c := New(DefaultConfig())
	fs, errs := c.HostConfig(home)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	var got []string
	for _, f := range fs {
		rel, _ := filepath.Rel(home, filepath.FromSlash(f.File))
		got = append(got, fmt.Sprintf("%s %s %s", filepath.ToSlash(rel), f.RuleID, f.Severity))
		if strings.Contains(f.Message, pw) || strings.Contains(f.Context, pw) || strings.Contains(f.Message, "Qm7Zr2Lx9Vb4") {
			t.Errorf("%s: credential shown: %s / %s", f.RuleID, f.Message, f.Context)
		}
		if f.Kind != finding.KindHygiene || f.Line < 1 || f.Fingerprint == "" {
			t.Errorf("incomplete finding %+v", f)
		}
	}
	sort.Strings(got)
	want := []string{
		".aws/credentials config-credential-key medium",
		".aws/credentials credential-file-permissions high",
		".config/gh/hosts.yml config-credential-key medium",
		".docker/config.json docker-config-auth medium",
		".kube/config credential-file-permissions high",
		".kube/config kubeconfig-credential medium",
		".netrc credential-file-permissions high",
		".netrc netrc-password medium",
		".ssh/id_ed25519 credential-file-permissions high",
		".vault-token credential-file-permissions high",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range fs {
		if f.RuleID == "credential-file-permissions" && strings.HasSuffix(f.File, ".aws/credentials") {
			if !strings.Contains(f.Message, "readable by group (mode 0640)") || !strings.Contains(f.Message, "chmod 600 ~/.aws/credentials") {
				t.Errorf("permission message: %s", f.Message)
			}
		}
	}

	// Switched off: no permission findings.
	cfg := DefaultConfig()
	cfg.Disabled["credential-file-permissions"] = true
	fs2, _ := New(cfg).HostConfig(home)
	for _, f := range fs2 {
		if f.RuleID == "credential-file-permissions" {
			t.Errorf("disabled check reported %s", f.File)
		}
	}
}

func TestHostConfigErrors(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip()
	}
	home := t.TempDir()
	big := strings.Repeat("# padding\n", 2000)
	if err := os.WriteFile(filepath.Join(home, ".netrc"), []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.MaxConfigBytes = 1000
	_, errs := New(cfg).HostConfig(home)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "~/.netrc") || !strings.Contains(errs[0].Error(), "max_config_size") {
		t.Errorf("oversized file: errs = %v", errs)
	}

	if os.Geteuid() != 0 { // root reads anything
		p := filepath.Join(home, ".pypirc")
		if err := os.WriteFile(p, []byte("[pypi]\npassword = x\n"), 0o000); err != nil {
			t.Fatal(err)
		}
		_, errs = New(DefaultConfig()).HostConfig(home)
		found := false
		for _, e := range errs {
			if strings.Contains(e.Error(), "~/.pypirc") && strings.Contains(e.Error(), "permission") {
				found = true
			}
		}
		if !found {
			t.Errorf("unreadable file: errs = %v", errs)
		}
	}

	// An empty home is clean and error-free.
	fs, errs := HostConfig(t.TempDir())
	if len(fs) != 0 || len(errs) != 0 {
		t.Errorf("empty home: %v %v", fs, errs)
	}
}

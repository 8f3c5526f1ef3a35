package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFlagsOnlyWhereTheyApply: a flag a command does not read is an error there.
func TestFlagsOnlyWhereTheyApply(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"rules", "list", "--verify"}, 2, "unknown flag: --verify"},
		{[]string{"rules", "list", "--baseline", "b.json"}, 2, "unknown flag: --baseline"},
		{[]string{"rules", "test", "--format", "json"}, 2, "unknown flag: --format"},
		{[]string{"version", "--format", "json"}, 2, "unknown flag: --format"},
		{[]string{"hook", "install", "--format", "json"}, 2, "unknown flag: --format"},
		{[]string{"merge", "--verify", "a.db"}, 2, "unknown flag: --verify"},
		{[]string{"verify", "--verify"}, 2, "unknown flag: --verify"},
		{[]string{"scan", ".", "--version"}, 2, "unknown flag: --version"},
		{[]string{"rules", "list", "--format", "yaml"}, 2, "rules list writes text, json or markdown"},
		{[]string{"scan", ".", "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"scan", ".", "-q", "-v"}, 2, "cannot be combined"},
		{[]string{"scan", ".", "--also-write", "xml=out"}, 2, "--also-write"},
		{[]string{"scan", ".", "--max-decode-depth", "9"}, 2, "--max-decode-depth 9"},
		{[]string{"scan", ".", "-q", "--workers", "2", "--max-file-size", "1MB"}, 0, ""},
		{[]string{"--version"}, 0, ""},
		{[]string{"rules", "list", "-v"}, 0, ""},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := tokenward(t, dir, "", c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.err) {
				t.Errorf("exit %d, want %d with %q on stderr\nstderr: %s", r.code, c.code, c.err, r.stderr)
			}
		})
	}
}

func TestRulesListJSON(t *testing.T) {
	r := tokenward(t, t.TempDir(), "", "rules", "list", "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var rs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rs); err != nil || len(rs) < 100 {
		t.Fatalf("%d rules, %v\n%.300s", len(rs), err, r.stdout)
	}
	byID := map[string]map[string]any{}
	for _, x := range rs {
		for _, k := range []string{"id", "family", "verify", "revoke", "access", "composite", "severity"} {
			if _, ok := x[k]; !ok {
				t.Fatalf("rule %v lacks %q", x["id"], k)
			}
		}
		byID[x["id"].(string)] = x
	}
	for id, want := range map[string]map[string]any{
		"github-pat":                 {"family": "github", "verify": true, "revoke": true, "access": true, "composite": false},
		"aws-access-key-id":          {"family": "aws", "verify": true, "revoke": true, "access": true, "composite": true, "verifier": "aws-sts", "revoke_family": "aws-iam"},
		"aws-secret-access-key":      {"verify": false, "composite": false},
		"authorization-token-header": {"family": "seed", "verify": true, "revoke": false, "access": false},
		"openai-api-key":             {"family": "openai", "verify": true, "revoke": false, "access": true},
		"slack-signing-secret":       {"verify": false, "revoke": false},
	} {
		for k, v := range want {
			if byID[id][k] != v {
				t.Errorf("%s: %s = %v, want %v", id, k, byID[id][k], v)
			}
		}
	}
}

// Two rules of our own, and a hygiene finding (a .env credential). The file
// drops the built-in rules, which only a trusted configuration may do: the
// tests pass --trust-repo-config.
const twoRules = `[extend]
builtin = false

[[rule]]
id = "crit-key"
regex = '''\b(critk_[a-z0-9]{24})\b'''
severity = "critical"

[[rule]]
id = "low-key"
regex = '''\b(lowk_[a-z0-9]{24})\b'''
severity = "low"
`

const (
	critKey = "critk_q8z1m3x7r5w1y6n4h0j3k2l9"
	lowKey  = "lowk_z7y5w3u1s9q7o5m3k1i9g7e5"
)

// rulesOf runs tokenward with --format jsonl and returns the rule ids found.
func rulesOf(t *testing.T, dir, stdin string, args ...string) (int, []string) {
	t.Helper()
	r := tokenward(t, dir, stdin, append(args, "--format", "jsonl", "--trust-repo-config")...)
	if r.code == 2 {
		t.Fatalf("%v: exit 2\n%s", args, r.stderr)
	}
	var ids []string
	for _, f := range decodeFindings(t, r.stdout) {
		ids = append(ids, f.RuleID+"@"+filepath.Base(f.File))
	}
	slices.Sort(ids)
	return r.code, ids
}

func TestEnableRule(t *testing.T) {
	dir := tree(t, map[string]string{
		".tokenward.toml": twoRules,
		"keys.txt":        "A=" + critKey + "\nB=" + lowKey + "\n",
		".env":            "STRIPE_SECRET_KEY=Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3Hs3Nc6Bv0\n",
	})
	_, all := rulesOf(t, dir, "", "scan", ".")
	if !slices.Contains(all, "dotenv-credential@.env") || !slices.Contains(all, "crit-key@keys.txt") || !slices.Contains(all, "low-key@keys.txt") {
		t.Fatalf("without --enable-rule: %v", all)
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--enable-rule", "crit-key"}, []string{"crit-key@keys.txt"}},
		{[]string{"--enable-rule", "low-key,dotenv-credential"}, []string{"dotenv-credential@.env", "low-key@keys.txt"}},
		{[]string{"--enable-rule", "low-key", "--enable-rule", "crit-key"}, []string{"crit-key@keys.txt", "low-key@keys.txt"}},
	}
	for _, c := range cases {
		if _, got := rulesOf(t, dir, "", append([]string{"scan", "."}, c.args...)...); !slices.Equal(got, c.want) {
			t.Errorf("%v: %v, want %v", c.args, got, c.want)
		}
	}
	if r := tokenward(t, dir, "", "scan", ".", "--trust-repo-config", "--enable-rule", "crit-kee"); r.code != 2 || !strings.Contains(r.stderr, "crit-kee") {
		t.Errorf("unknown id: exit %d\n%s", r.code, r.stderr)
	}
}

func TestMaxDecodeDepth(t *testing.T) {
	once := base64.StdEncoding.EncodeToString([]byte("key = " + critKey + "\n"))
	twice := base64.StdEncoding.EncodeToString([]byte("blob = " + base64.StdEncoding.EncodeToString([]byte("key = "+lowKey+"\n")) + "\n"))
	dir := tree(t, map[string]string{
		".tokenward.toml": twoRules,
		"once.txt":        "data: " + once + "\n",
		"twice.txt":       "data: " + twice + "\n",
	})
	cases := []struct {
		depth string
		want  []string
	}{
		{"", []string{"crit-key@once.txt", "low-key@twice.txt"}}, // default 2
		{"2", []string{"crit-key@once.txt", "low-key@twice.txt"}},
		{"1", []string{"crit-key@once.txt"}},
		{"0", nil},
	}
	for _, c := range cases {
		args := []string{"scan", "."}
		if c.depth != "" {
			args = append(args, "--max-decode-depth", c.depth)
		}
		if _, got := rulesOf(t, dir, "", args...); !slices.Equal(got, c.want) {
			t.Errorf("--max-decode-depth %q: %v, want %v", c.depth, got, c.want)
		}
	}
}

// TestResults filters on verification results against a fake seed service on
// loopback: one token live, one rejected, one whose check fails (unknown).
func TestResults(t *testing.T) {
	const (
		live    = "4339639a695572816c9ba1a1bd39abfbe316f484"
		invalid = "58e8f220d45a26d74b3f73c22069cf0d9b8801d9"
		broken  = "7eb9521cf0f83cba1f09dec5a0bc8207d308dbb5"
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimPrefix(r.Header.Get("Authorization"), "Token ") {
		case live:
			w.Write([]byte(`{"id":1}`))
		case invalid:
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.WriteHeader(http.StatusBadRequest) // no matcher: unknown
		}
	}))
	defer srv.Close()
	dir := tree(t, map[string]string{
		"live.sh": curl(live), "invalid.sh": curl(invalid), "broken.sh": curl(broken),
		"url.txt": "https://api.example.com/v1/items?api_key=Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3Hs3Nc6Bv0\n",
	})
	seed := []string{"--endpoint", "seed=" + srv.URL + "/me", "--verify-rate", "100"}
	h := "authorization-token-header@"
	cases := []struct {
		results string
		want    []string
	}{
		{"live", []string{h + "live.sh"}},
		{"verified", []string{h + "live.sh"}}, // TruffleHog's name
		{"invalid,unknown", []string{h + "broken.sh", h + "invalid.sh"}},
		{"not_checked", []string{"generic-api-key@url.txt"}}, // a rule without a check
	}
	for _, c := range cases {
		// No --verify: --results live implies it.
		args := append([]string{"scan", ".", "--results", c.results}, seed...)
		if c.results == "not_checked" {
			args = append(args, "--verify") // else nothing is checked, and everything is not_checked
		}
		_, got := rulesOf(t, dir, "", args...)
		if !slices.Equal(got, c.want) {
			t.Errorf("--results %s: %v, want %v", c.results, got, c.want)
		}
	}
	if r := tokenward(t, dir, "", "scan", ".", "--results", "filtered_unverified"); r.code != 2 || !strings.Contains(r.stderr, "no such result") {
		t.Errorf("filtered_unverified: exit %d\n%s", r.code, r.stderr)
	}
}

// TestQuiet: -q drops warnings from stderr, --log-level error too; errors stay.
func TestQuiet(t *testing.T) {
	dir := tree(t, map[string]string{"a.sh": leaked})
	if err := os.Symlink("a.sh", filepath.Join(dir, "link.sh")); err != nil {
		t.Skip(err)
	}
	loud := tokenward(t, dir, "", "scan", ".")
	if !strings.Contains(loud.stderr, "not followed") {
		t.Fatalf("expected a symlink warning:\n%s", loud.stderr)
	}
	for _, args := range [][]string{{"-q"}, {"--quiet"}, {"--log-level", "error"}, {"--log-level", "fatal"}, {"--log-level=-1"}} {
		r := tokenward(t, dir, "", append([]string{"scan", "."}, args...)...)
		if r.code != 1 || strings.Contains(r.stderr, "not followed") || !strings.Contains(r.stdout, "a.sh:1:") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	if r := tokenward(t, dir, "", "-q", "scan", "missing"); r.code != 2 || !strings.Contains(r.stderr, "missing") {
		t.Errorf("-q hid an error: exit %d, stderr %q", r.code, r.stderr)
	}
	// -v (and --log-level info) say what rule set ran; the default does not.
	for _, args := range [][]string{{"-v"}, {"--log-level", "info"}, {"--log-level", "trace"}, {"--log-level", "1"}, {"--verbose", "--max-decode-depth", "1"}} {
		r := tokenward(t, dir, "", append([]string{"scan", "."}, args...)...)
		if !strings.Contains(r.stderr, " rules (config: ") {
			t.Errorf("%v: stderr %q", args, r.stderr)
		}
	}
	if strings.Contains(loud.stderr, " rules (config: ") {
		t.Errorf("the default log level printed info lines: %q", loud.stderr)
	}
}

// TestAlsoWrite: one scan, several reports, each through the output guard.
func TestAlsoWrite(t *testing.T) {
	dir := tree(t, map[string]string{"a.sh": leaked})
	out := t.TempDir()
	sarif, jsonl := filepath.Join(out, "r.sarif"), filepath.Join(out, "r.jsonl")
	r := tokenward(t, dir, "", "scan", ".", "-f", "github", "--also-write", "sarif="+sarif, "--also-write", "jsonl="+jsonl)
	if r.code != 1 || !strings.Contains(r.stdout, "::error file=a.sh,line=1") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s, err := os.ReadFile(sarif)
	if err != nil || !strings.Contains(string(s), `"ruleId": "authorization-token-header"`) && !strings.Contains(string(s), `"ruleId":"authorization-token-header"`) {
		t.Errorf("SARIF: %v\n%.400s", err, s)
	}
	if n := findingLines(t, readFile(t, jsonl)); n != 1 {
		t.Errorf("JSONL: %d findings, want 1", n)
	}
	for _, p := range []string{sarif, jsonl} {
		if strings.Contains(readFile(t, p), token) {
			t.Errorf("%s holds the secret unredacted", p)
		}
	}
	// With --show-secrets the extra report holds secrets: 0600, as --output is.
	secret := filepath.Join(out, "secret.json")
	tokenward(t, dir, "", "scan", ".", "--show-secrets", "-o", filepath.Join(out, "main.json"), "--also-write", "json="+secret)
	st, err := os.Stat(secret)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || !strings.Contains(readFile(t, secret), token) {
		t.Errorf("--show-secrets --also-write: mode %v, want 0600 and the secret", st.Mode())
	}
}

// TestProvidersDocFresh: docs/providers.md is `rules list --format markdown`,
// which is generated from the JSON listing. Regenerate it with
// go run ./cmd/tokenward rules list --format markdown > docs/providers.md
func TestProvidersDocFresh(t *testing.T) {
	r := tokenward(t, t.TempDir(), "", "rules", "list", "--format", "markdown")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "providers.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != r.stdout {
		t.Errorf("docs/providers.md is stale: run go run ./cmd/tokenward rules list --format markdown > docs/providers.md")
	}
}

func TestRulesListSummary(t *testing.T) {
	r := tokenward(t, t.TempDir(), "", "rules", "list", "--format", "json", "--summary")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var s rulesSummary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatal(err)
	}
	if s.Rules < 100 || s.Verify < 13 || s.Composite < 1 || !slices.Contains(s.Families, "aws") || s.Access < 1 || s.Revoke < 11 {
		t.Errorf("summary %+v", s)
	}
}

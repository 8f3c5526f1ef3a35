package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	bin "encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/tokenward/tokenward/hygiene"
	"github.com/tokenward/tokenward/rules"
)

// diffFixture is one tree holding secrets of several rules, hygiene cases and
// content that must be decoded before it can be read.
func diffFixture(t *testing.T) (map[string][]byte, []string) {
	t.Helper()
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	example := func(id string) string {
		for _, r := range set.Rules {
			if r.ID == id && len(r.Examples) > 0 {
				return r.Examples[0]
			}
		}
		t.Fatalf("no built-in rule %s with an example", id)
		return ""
	}
	hygieneExample := func(id string) string {
		c, ok := hygiene.CheckByID(id)
		if !ok {
			t.Fatalf("no hygiene check %s", id)
		}
		return c.Example
	}
	random30 := "Zq8Lm3Xv7Rt5Wp1Yb6Nc4Hd0Js2Kf9"
	pat := "ghp_" + random30 + rules.Base62(uint64(crc32.ChecksumIEEE([]byte(random30))), 6)

	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, err := zw.Create("conf/deploy.sh")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "#!/bin/sh\n%s", leaked)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	utf16le := func(s string) []byte {
		var b bytes.Buffer
		b.Write([]byte{0xff, 0xfe})
		for _, u := range utf16.Encode([]rune(s)) {
			bin.Write(&b, bin.LittleEndian, u)
		}
		return b.Bytes()
	}

	files := map[string][]byte{
		"src/config.go":       []byte("package config\n\nconst token = \"" + pat + "\"\n"),
		"ai/client.py":        []byte(example("openai-api-key") + "\n"),
		"cloud/aws.txt":       []byte(example("aws-access-key-id") + "\n"),
		"cloud/pair.env":      []byte("AWS_ACCESS_KEY_ID=" + awsKeyID + "\nAWS_SECRET_ACCESS_KEY=" + awsSecret + "\n"),
		".netrc":              []byte(hygieneExample("netrc-password") + "\n"),
		".env":                []byte("DB_PASSWORD=Kx7pQ2mZ9vL4wR8tN3bYc\n"),
		"client/api.py":       []byte("url = \"" + hygieneExample("url-credential-query") + "\"\n"),
		"deploy/release.sh":   []byte(hygieneExample("auth-header-bad-scheme") + "\n"),
		"auth/token.txt":      []byte(hygieneExample("jwt-long-lived") + "\n"),
		"dist/bundle.zip":     zbuf.Bytes(),
		"notes/utf16.txt":     utf16le("notes\r\n" + leaked),
		"data/nul-header.bin": append([]byte("HDR\x00\x01\x02 binary header\n"), []byte("\n"+leaked)...),
	}
	// What the fixture must give, whatever the path: rule ids and files ("@file":
	// any rule; a .env password is a generic-password secret, which the review
	// prefers over the dotenv-credential hygiene finding at the same place).
	want := []string{
		"github-pat@src/config.go", "openai-api-key@ai/client.py", "aws-access-key-id@cloud/aws.txt",
		"aws-access-key-id@cloud/pair.env", // one composite: the secret key is its part
		"netrc-password@.netrc", "@.env", "url-credential-query@client/api.py",
		"auth-header-bad-scheme@deploy/release.sh", "jwt-long-lived@auth/token.txt",
		"authorization-token-header@dist/bundle.zip!conf/deploy.sh",
		"authorization-token-header@notes/utf16.txt", "authorization-token-header@data/nul-header.bin",
	}
	return files, want
}

func writeTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// identities reads a JSONL report as its set of (rule_id, fingerprint), and the
// rule@file pairs it names (files without a repository prefix).
func identities(t *testing.T, what, jsonl string, stripPrefix string) (ids []string, located map[string]bool) {
	t.Helper()
	located = map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(jsonl))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var f struct {
			RuleID      string `json:"rule_id"`
			Fingerprint string `json:"fingerprint"`
			File        string `json:"file"`
		}
		if err := json.Unmarshal(line, &f); err != nil {
			t.Fatalf("%s: not JSONL: %v\n%s", what, err, jsonl)
		}
		if f.RuleID == "" {
			continue // a statistics record
		}
		ids = append(ids, f.RuleID+" "+f.Fingerprint)
		located[f.RuleID+"@"+strings.TrimPrefix(f.File, stripPrefix)] = true
	}
	sort.Strings(ids)
	return slices.Compact(ids), located
}

// TestSameFindingsFromEveryPath builds one fixture and expects scan, git
// (history), git --range, git --staged, sweep --repos and the installed
// pre-commit hook to report the same set of (rule_id, fingerprint) for it.
func TestSameFindingsFromEveryPath(t *testing.T) {
	files, want := diffFixture(t)

	// A repository whose first commit is empty and second adds the fixture.
	repo := newGitRepo(t)
	gitIn(t, repo, "commit", "-q", "--allow-empty", "-m", "base")
	base := gitIn(t, repo, "rev-parse", "HEAD")
	writeTree(t, repo, files)
	gitIn(t, repo, "add", "-A")
	gitIn(t, repo, "commit", "-q", "-m", "add the fixture")

	// The same files staged, not committed, in a second repository.
	staged := newGitRepo(t)
	gitIn(t, staged, "commit", "-q", "--allow-empty", "-m", "base")
	writeTree(t, staged, files)
	gitIn(t, staged, "add", "-A")

	run := func(name, dir string, args ...string) string {
		t.Helper()
		r := tokenward(t, dir, "", append(args, "--format", "jsonl")...)
		if r.code != 1 {
			t.Fatalf("%s: exit %d, want 1 (findings)\nstdout %s\nstderr %s", name, r.code, r.stdout, r.stderr)
		}
		return r.stdout
	}
	ref, located := identities(t, "scan", run("scan", repo, "scan", "."), "")
	for _, w := range want {
		if strings.HasPrefix(w, "@") { // any rule at that file
			if !slices.ContainsFunc(keys(located), func(k string) bool { return strings.HasSuffix(k, w) }) {
				t.Errorf("scan: nothing at %s; found %v", w[1:], keys(located))
			}
			continue
		}
		if !located[w] {
			t.Errorf("scan: no %s; found %v", w, keys(located))
		}
	}

	paths := map[string]string{
		"git":          run("git", repo, "git"),
		"git --range":  run("git --range", repo, "git", "--range", base+"..HEAD"),
		"git --staged": run("git --staged", staged, "git", "--staged"),
	}

	reposFile := filepath.Join(t.TempDir(), "repos.txt")
	if err := os.WriteFile(reposFile, []byte(repo+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	paths["sweep --repos"] = run("sweep", tmp, "sweep", "--repos", reposFile,
		"--db", filepath.Join(tmp, "s.db"), "--cache", filepath.Join(tmp, "mirrors"), "--progress", "none")

	// The installed hook, its report captured through $TOKENWARD.
	out := filepath.Join(t.TempDir(), "hook.jsonl")
	wrapper := filepath.Join(t.TempDir(), "tokenward-wrapper")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nexec "+shellQuote(binary)+" \"$@\" --format jsonl -o "+shellQuote(out)+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := tokenward(t, staged, "", "hook", "install"); r.code != 0 {
		t.Fatalf("hook install: exit %d\n%s", r.code, r.stderr)
	}
	commit := gitCmdIn(staged, "commit", "-q", "-m", "leak")
	commit.Env = append(commit.Env, "TOKENWARD="+wrapper)
	if msg, err := commit.CombinedOutput(); err == nil {
		t.Fatalf("the hook let a commit with secrets through:\n%s", msg)
	}
	hook, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the hook wrote no report: %v", err)
	}
	paths["pre-commit hook"] = string(hook)

	for name, report := range paths {
		got, _ := identities(t, name, report, "")
		if !slices.Equal(got, ref) {
			t.Errorf("%s reports a different set than scan:\n only in scan: %v\n only in %s: %v",
				name, minus(ref, got), name, minus(got, ref))
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

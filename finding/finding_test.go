package finding

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMain(m *testing.M) {
	if err := SetKey([]byte("finding-test-key-0123456789abcdef")); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// TestFingerprintIsKeyed is the regression test for fingerprints that were an
// unsalted SHA-256 of rule and secret: a weak password was recovered from a
// SARIF file by hashing a word list.
func TestFingerprintIsKeyed(t *testing.T) {
	const rule, weak = "generic-password", "Summer2024!"
	fp := Fingerprint(rule, weak)
	unsalted := sha256.Sum256([]byte(rule + "\x00" + weak))
	if strings.Contains(fp, hex.EncodeToString(unsalted[:])) {
		t.Fatalf("fingerprint %s is the unsalted SHA-256 of rule and secret: a word list recovers %q", fp, weak)
	}
	if !strings.HasPrefix(fp, FingerprintPrefix) || !ValidFingerprint(fp) {
		t.Errorf("fingerprint %q: want %s and 64 hex digits", fp, FingerprintPrefix)
	}
	if Fingerprint(rule, weak) != fp {
		t.Error("fingerprint is not stable within a process")
	}
	if Fingerprint(rule, weak+"x") == fp || Fingerprint(rule+"x", weak) == fp {
		t.Error("fingerprint ignores the secret or the rule")
	}
	old := keyState.key
	t.Cleanup(func() { SetKey(old) })
	if err := SetKey([]byte("another-project-key-0123456789")); err != nil {
		t.Fatal(err)
	}
	if Fingerprint(rule, weak) == fp {
		t.Error("two keys give the same fingerprint: it is not keyed")
	}
	if err := SetKey(old); err != nil {
		t.Fatal(err)
	}
	if Fingerprint(rule, weak) != fp {
		t.Error("the same key gives another fingerprint: not stable across machines sharing a key")
	}
	if err := SetKey([]byte("short")); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}

func TestLegacyFingerprintsStillMatch(t *testing.T) {
	const rule, secret = "github-pat", "ghp_R8x2Kq9LmN4pV7sT1wY5zA3bC6dE0fG8hJ2k"
	sum := sha256.Sum256([]byte(rule + "\x00" + secret))
	old := "sha256:" + hex.EncodeToString(sum[:])
	if got := LegacyFingerprint(rule, secret); got != old {
		t.Fatalf("LegacyFingerprint = %s, want the pre-tw1 form %s", got, old)
	}
	fp := Fingerprint(rule, secret)
	cases := []struct {
		stored, fp string
		want       bool
	}{
		{fp, fp, true},
		{old, fp, true},
		{LegacyFingerprint(rule, "other"), fp, false},
		{"", fp, false},
		{old, "", false},
		{Fingerprint(rule, "other"), fp, false},
	}
	for _, c := range cases {
		if got := MatchFingerprint(c.stored, c.fp); got != c.want {
			t.Errorf("MatchFingerprint(%q, %q) = %v, want %v", c.stored, c.fp, got, c.want)
		}
	}
	for s, want := range map[string]bool{
		fp: true, old: true, "tw1:" + strings.Repeat("A", 64): false, "tw1:abc": false,
		"md5:" + strings.Repeat("a", 64): false, "": false, strings.Repeat("a", 64): false,
	} {
		if ValidFingerprint(s) != want {
			t.Errorf("ValidFingerprint(%q) = %v", s, !want)
		}
	}
}

func TestLoadKey(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("HOME", cfg)
	t.Setenv("AppData", cfg)
	t.Setenv(KeyEnv, "")
	t.Setenv(KeyFileEnv, "")
	k1, origin, err := LoadKey("")
	if err != nil {
		t.Fatal(err)
	}
	path, _ := UserKeyPath()
	if origin != path || !strings.HasPrefix(path, cfg) {
		t.Fatalf("key from %q, want the user key file under %s", origin, cfg)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("user key file mode %v, want 0600", st.Mode().Perm())
	}
	k2, _, err := LoadKey("")
	if err != nil || string(k1) != string(k2) {
		t.Fatalf("second LoadKey = %q, %v; want the same key", k2, err)
	}

	// A project key, in the repository top, found from a directory below it.
	repo := t.TempDir()
	os.Mkdir(filepath.Join(repo, ".git"), 0o755)
	os.MkdirAll(filepath.Join(repo, "src", "deep"), 0o755)
	os.WriteFile(filepath.Join(repo, ProjectKeyFile), []byte("committed-project-key-0123456789\n"), 0o644)
	for _, root := range []string{repo, filepath.Join(repo, "src", "deep"), filepath.Join(repo, "src", "deep", "missing.txt")} {
		if k, origin, err := LoadKey(root); err != nil || string(k) != "committed-project-key-0123456789" || origin != filepath.Join(repo, ProjectKeyFile) {
			t.Errorf("LoadKey(%s) = %q from %q, %v; want the project key", root, k, origin, err)
		}
	}
	nested := filepath.Join(repo, "sub")
	os.MkdirAll(filepath.Join(nested, ".git"), 0o755)
	if k, _, _ := LoadKey(nested); string(k) != string(k1) {
		t.Errorf("a nested repository used its parent's project key")
	}

	file := filepath.Join(t.TempDir(), "project.key")
	os.WriteFile(file, []byte("project-key-from-a-file-0123456789\n"), 0o600)
	t.Setenv(KeyFileEnv, file)
	if k, origin, err := LoadKey(repo); err != nil || string(k) != "project-key-from-a-file-0123456789" || origin != file {
		t.Errorf("key file: %q from %q, %v", k, origin, err)
	}
	t.Setenv(KeyEnv, "  project-key-from-the-environment  ")
	if k, _, err := LoadKey(repo); err != nil || string(k) != "project-key-from-the-environment" {
		t.Errorf("key env: %q, %v", k, err)
	}
	for _, bad := range []struct{ env, file, want string }{
		{"short", "", KeyEnv},
		{"", filepath.Join(t.TempDir(), "missing"), KeyFileEnv},
		{"", writeFile(t, "tiny"), "at least 16"},
	} {
		t.Setenv(KeyEnv, bad.env)
		t.Setenv(KeyFileEnv, bad.file)
		if _, _, err := LoadKey(""); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("LoadKey(env %q, file %q) error %v, want one naming %q", bad.env, bad.file, err, bad.want)
		}
	}
}

func writeFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExcerpt(t *testing.T) {
	secret := "ghp_R8x2Kq9LmN4pV7sT1wY5zA3bC6dE0fG8hJ2k"
	blob := base64.StdEncoding.EncodeToString([]byte("aws_secret=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY and more"))
	long := strings.Repeat("x ", 60) + blob + " token=" + secret + " " + blob + strings.Repeat(" y", 60)
	s := strings.Index(long, secret)
	cases := []struct {
		name                 string
		line                 string
		start, end, limit    int
		cutBefore, cutAfter  bool
		want                 string
		mustHave, mustNotCut []string
	}{
		{name: "short line unchanged", line: "token=" + secret, start: 6, end: 6 + len(secret), limit: 240, want: "token=" + secret},
		{name: "long line around the span, partial tokens dropped", line: long, start: s, end: s + len(secret), limit: 80,
			want: "… token=" + secret + " …"},
		{name: "span longer than limit kept whole", line: "a " + secret + " b", start: 2, end: 2 + len(secret), limit: 10,
			want: "…" + secret + "…"},
		{name: "line already cut inside a token", line: "3Rk9Zq tok=" + secret + " 8fKq", start: 11, end: 11 + len(secret), limit: 240,
			cutBefore: true, cutAfter: true, want: "… tok=" + secret + " …"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Excerpt(c.line, c.start, c.end, c.limit, c.cutBefore, c.cutAfter)
			if got != c.want {
				t.Errorf("Excerpt = %q\nwant      %q", got, c.want)
			}
		})
	}
}

// FuzzExcerpt: the excerpt always holds the span whole, stays near the limit,
// and never ends inside a token of the line that was cut.
func FuzzExcerpt(f *testing.F) {
	f.Add("x QUJDREVGR0hJSktMTU5PUFFSU1RVVldY token=abcdef0123456789 ZZZ", 24, 40, 20, false, true)
	f.Add("", 0, 0, 1, true, true)
	f.Add("αβγ token=ü secret ü", 2, 9, 3, false, false)
	f.Fuzz(func(t *testing.T, line string, start, end, limit int, cb, ca bool) {
		if limit <= 0 || limit > 1<<12 {
			return
		}
		start = min(max(start, 0), len(line))
		end = min(max(end, start), len(line))
		if !utf8.ValidString(line) || start < len(line) && !utf8.RuneStart(line[start]) || end < len(line) && !utf8.RuneStart(line[end]) {
			return // callers cut at rune boundaries of valid text
		}
		got := Excerpt(line, start, end, limit, cb, ca)
		span := line[start:end]
		if !strings.Contains(got, span) {
			t.Fatalf("Excerpt(%q, %d, %d, %d) = %q: lost the span %q", line, start, end, limit, got, span)
		}
		if n := len(got) - 2*len(Ellipsis); n > max(limit, end-start)+3*len(line) {
			t.Fatalf("excerpt too long: %d", n)
		}
		body := strings.TrimSuffix(strings.TrimPrefix(got, Ellipsis), Ellipsis)
		if strings.HasPrefix(got, Ellipsis) && body != "" && !strings.HasPrefix(body, span) && isTokenByte(body[0]) {
			i := strings.Index(line, body)
			if i > 0 && isTokenByte(line[i-1]) || i == 0 && cb {
				t.Fatalf("cut inside a token at the start: %q from %q", got, line)
			}
		}
	})
}

// FuzzRedactor: after Redact, no form of the secret is left (in any ASCII
// case), and Find's spans are sorted, disjoint and inside the text.
func FuzzRedactor(f *testing.F) {
	f.Add("ghp_R8x2Kq9LmN4pV7sT1wY5zA3bC6dE0fG8hJ2k", "x ", " y", 0)
	f.Add("aaaaaaaa", "aaaa", "aaaaaaaaa", 3)
	f.Add("p@ss w/rd+%=\"<>", "url=", "&x", 7)
	f.Fuzz(func(t *testing.T, secret, before, after string, pick int) {
		if len(secret) < MinRedactLen || len(secret) > 200 || len(before)+len(after) > 2000 || strings.Contains(secret, Ellipsis) || !utf8.ValidString(secret) {
			return
		}
		forms := Forms(secret)
		form := forms[(pick%len(forms)+len(forms))%len(forms)]
		text := before + form + after
		r := NewRedactor(secret)
		prev := 0
		for _, sp := range r.Find([]byte(text)) {
			if sp.Start < prev || sp.End <= sp.Start || sp.End > len(text) {
				t.Fatalf("bad span %+v after %d in %q", sp, prev, text)
			}
			prev = sp.End
		}
		out := r.Redact(text)
		if strings.Contains(strings.ToLower(out), strings.ToLower(form)) && !strings.Contains(strings.ToLower(SafeRedact(form)), strings.ToLower(form)) {
			t.Fatalf("form %q of %q left in %q", form, secret, out)
		}
	})
}

package baseline

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

func TestParseIgnoreList(t *testing.T) {
	fpA := finding.Fingerprint("authorization-token-header", tokA)
	fpB := finding.Fingerprint("authorization-token-header", tokB)
	tests := []struct {
		name    string
		content string
		wantFP  map[string]string
		wantPat []string
		wantErr string
	}{
		{"empty", "", map[string]string{}, nil, ""},
		{"comments and blanks", "# header\n\n   \n# " + fpA + "\n", map[string]string{}, nil, ""},
		{"fingerprints and patterns",
			"\uFEFFvendor/**\r\n" + fpA + "\r\n  " + fpB + "   # revoked 2026-01-02, fixture\n*.min.js\n",
			map[string]string{fpA: "", fpB: "revoked 2026-01-02, fixture"}, []string{"vendor/**", "*.min.js"}, ""},
		{"comment glued to fingerprint", fpA + "#why\n", map[string]string{fpA: "why"}, nil, ""},
		{"short fingerprint", "# ok\n" + fpA[:20] + "\n", nil, nil, "ignore:2: \"" + fpA[:20] + "\" is not a fingerprint"},
		{"upper-case hex", strings.ToUpper(fpA[4:]) + "\ntw1:" + strings.ToUpper(fpA[4:]) + "\n", nil, nil, "ignore:2:"},
		{"legacy form", finding.LegacyFingerprint("authorization-token-header", tokA) + " # old\n",
			map[string]string{finding.LegacyFingerprint("authorization-token-header", tokA): "old"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParseIgnoreList(strings.NewReader(tt.content), "ignore")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Fingerprints) != len(tt.wantFP) {
				t.Errorf("fingerprints = %v, want %v", l.Fingerprints, tt.wantFP)
			}
			for k, v := range tt.wantFP {
				if got, ok := l.Fingerprints[k]; !ok || got != v {
					t.Errorf("fingerprint %s: comment %q (present %v), want %q", k, got, ok, v)
				}
			}
			if !slices.Equal(l.Patterns, tt.wantPat) {
				t.Errorf("patterns = %q, want %q", l.Patterns, tt.wantPat)
			}
		})
	}
}

func TestIgnoreListFilter(t *testing.T) {
	fs := scan(t, map[string]string{"a.sh": header(tokA) + header(tokB), "b.sh": header(tokA)})
	dir := t.TempDir()
	path := filepath.Join(dir, ".tokenwardignore")
	content := "node_modules/\n" + finding.Fingerprint("authorization-token-header", tokA) + " # fixture\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := LoadIgnoreList(path)
	if err != nil {
		t.Fatal(err)
	}
	kept, n := l.Filter(fs)
	if n != 2 || len(kept) != 1 || kept[0].Redacted != finding.Redact(tokB) {
		t.Errorf("kept %d (%v), suppressed %d; want tokB kept, 2 suppressed", len(kept), kept, n)
	}

	missing, err := LoadIgnoreList(filepath.Join(dir, "nope"))
	if err != nil || missing.Len() != 0 {
		t.Errorf("missing ignore file: %v, %d entries", err, missing.Len())
	}
	if kept, n := missing.Filter(fs); len(kept) != len(fs) || n != 0 {
		t.Errorf("empty list filtered findings")
	}
	if err := os.WriteFile(path, []byte("sha256:nothex\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIgnoreList(path); err == nil || !strings.Contains(err.Error(), path+":1:") {
		t.Errorf("malformed: %v", err)
	}
}

func TestIsFingerprintLine(t *testing.T) {
	for line, want := range map[string]bool{
		"sha256:abc":        true,
		"  sha256:abc # x":  true,
		"vendor/sha256:abc": false,
		"# sha256:abc":      false,
		"":                  false,
		"*.sha256:whatever": false,
	} {
		if got := IsFingerprintLine(line); got != want {
			t.Errorf("IsFingerprintLine(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestIgnoreListMatchesPath(t *testing.T) {
	l, err := ParseIgnoreList(strings.NewReader("vendor/\n*.pem\ndocs/**\n!docs/keep.md\nsha256:"+strings.Repeat("a", 64)+"\n"), ".tokenwardignore")
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{
		"vendor/x/y.go": true, "a/vendor/x.go": true, "key.pem": true, "deep/key.pem": true,
		"docs/a.md": true, "src/main.go": false, "vendored.go": false, "./key.pem": true,
	} {
		if got := l.MatchesPath(p); got != want {
			t.Errorf("MatchesPath(%q) = %v, want %v", p, got, want)
		}
	}
	var none *IgnoreList
	if none.MatchesPath("x") {
		t.Error("a nil list matches nothing")
	}
}

// The ignore file handed over as bytes (git --range reads it from BASE) gives
// both halves: fingerprints for findings and path patterns, matched like the
// file source matches them.
func TestIgnoreListFromBytesMatchesPaths(t *testing.T) {
	fp := finding.Fingerprint("authorization-token-header", tokA)
	l, err := ParseIgnoreBytes("BASE:.tokenwardignore", []byte("vendor/\n"+fp+" # fixture\n/build/*.js\n!vendor/keep.txt\n*.pem\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 1 || !slices.Equal(l.Patterns, []string{"vendor/", "/build/*.js", "!vendor/keep.txt", "*.pem"}) {
		t.Fatalf("fingerprints %v, patterns %q", l.Fingerprints, l.Patterns)
	}
	for path, want := range map[string]bool{
		"vendor/lib/a.go":  true,
		"src/vendor/x.go":  true,
		"build/app.js":     true,
		"src/build/app.js": false,
		"keys/server.pem":  true,
		"src/main.go":      false,
		"vendorx/a.go":     false,
	} {
		if got := l.MatchesPath(path); got != want {
			t.Errorf("MatchesPath(%q) = %v, want %v", path, got, want)
		}
	}
	var nilList *IgnoreList
	if nilList.MatchesPath("a") {
		t.Error("a nil list ignores nothing")
	}
	if _, err := ParseIgnoreBytes("BASE:.tokenwardignore", []byte("sha256:abc\n")); err == nil || !strings.Contains(err.Error(), "BASE:.tokenwardignore:1:") {
		t.Errorf("malformed fingerprint: %v", err)
	}
}

func FuzzParseIgnoreBytes(f *testing.F) {
	f.Add([]byte("vendor/\nsha256:" + strings.Repeat("ab", 32) + " # c\n!x\n"))
	f.Add([]byte("\uFEFF#\r\n**/a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseIgnoreBytes("fuzz", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for fp := range l.Fingerprints {
			if !ValidFingerprint(fp) {
				t.Fatalf("invalid fingerprint %q accepted", fp)
			}
		}
		_ = l.MatchesPath("a/b/c.txt")
	})
}

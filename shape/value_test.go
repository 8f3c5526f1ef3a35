package shape

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

func TestWordiness(t *testing.T) {
	words := []string{"session_secret", "testMemberPass", "development-secret", "HTTPServer", "something"}
	random := []string{"xqzvjkwp", "zqzvsje_qjrixirc", "KZAO7OL4qRAXmwJXfqLOjxFgwjywfMiKIFYwqXxQ", "wqipedtls"}
	for _, s := range words {
		if w := Wordiness(s); w < WordLike {
			t.Errorf("Wordiness(%q) = %.2f, want >= %.1f (words)", s, w, WordLike)
		}
	}
	for _, s := range random {
		if w := Wordiness(s); w >= WordLike {
			t.Errorf("Wordiness(%q) = %.2f, want < %.1f (random letters)", s, w, WordLike)
		}
	}
	if w := Wordiness("1234-5678"); w != NoWords {
		t.Errorf("Wordiness of digits = %.2f, want NoWords", w)
	}
}

func TestValueShapes(t *testing.T) {
	tests := []struct {
		s                    string
		masked, dummy, human bool
	}{
		{"********", true, false, false},
		{"xxxxxx", true, false, false},
		{"••••", true, false, false},
		{"x*", false, false, false},
		{"top_secret", false, true, false},
		{"unsecure_session_secret", false, true, false},
		{"thisIsDog82", false, false, false},
		{"gticsrge", false, false, false},
		{"新しいパスワード", false, false, true},
		{"Пароль", false, false, true},
		{"pässwort", false, true, false},
	}
	for _, tt := range tests {
		if got := Masked(tt.s); got != tt.masked {
			t.Errorf("Masked(%q) = %v, want %v", tt.s, got, tt.masked)
		}
		if got := Dummy(tt.s); got != tt.dummy {
			t.Errorf("Dummy(%q) = %v, want %v", tt.s, got, tt.dummy)
		}
		if got := NaturalText(tt.s); got != tt.human {
			t.Errorf("NaturalText(%q) = %v, want %v", tt.s, got, tt.human)
		}
	}
}

func TestClassSwitches(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 0, "ab12": 1, "a1b2": 3, "root123!": 1, "rgb_ycc_2": 1} {
		if got := ClassSwitches(s); got != want {
			t.Errorf("ClassSwitches(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestBigramTableCurrent: the table is what the generator gives on this Go
// version's source tree (skipped on another version, whose comments differ).
func TestBigramTableCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the whole GOROOT/src")
	}
	have, err := os.ReadFile("bigram_table.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(have, []byte("Go "+runtime.Version()+" source tree")) {
		t.Skipf("bigram_table.go was trained on another Go version than %s", runtime.Version())
	}
	out := filepath.Join(t.TempDir(), "table.go")
	cmd := exec.Command("go", "run", "./internal/genbigram", "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("genbigram: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Error("shape/bigram_table.go differs from what genbigram produces: run `go generate ./shape`")
	}
}

func BenchmarkWordiness(b *testing.B) {
	for range b.N {
		Wordiness("zqzvsje_qjrixirc")
	}
}

func TestWeak(t *testing.T) {
	for s, want := range map[string]bool{
		"test123": true, "pass1": true, "1234": true, "123123": true, "abcabc": true, "required|min:8": true, "abc123": true, "asdf": true, "qwerty12": true,
		"gticsrge": false, "y7ng0l": false, "552712": false, "Zk3qP9vR2xL7mT4w": false,
	} {
		if got := Weak(s); got != want {
			t.Errorf("Weak(%q) = %v, want %v", s, got, want)
		}
	}
}

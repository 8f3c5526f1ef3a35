package files

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/scanner"
)

const testRules = `
[[rule]]
id = "test-header"
description = "Authorization Token header"
regex = '''Authorization:\s*Token\s+([A-Za-z0-9]{32,64})'''
keywords = ["authorization"]
`

const header = "Authorization: Token 8f3kQ9zLm2Xv7Rt5Wp1Yb6Nc4Hd0Js3A"

func engine(t testing.TB) *scanner.Engine {
	t.Helper()
	p, err := rules.Parse("test.toml", []byte(testRules))
	if err != nil {
		t.Fatal(err)
	}
	e, err := scanner.New(&rules.Set{Rules: p.Rules()}, scanner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.sh", "x\n"+header+"\n")
	write(t, dir, "sub/b.py", header)
	write(t, dir, "bin.dat", "\x00\x01"+header)
	write(t, dir, ".git/config", header)
	write(t, dir, "ignored/c.txt", header)
	write(t, dir, "skip.log", header)
	write(t, dir, IgnoreFileName, "ignored/\n*.log\n")
	if err := os.Symlink("a.sh", filepath.Join(dir, "link.sh")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(".", filepath.Join(dir, "loop")); err != nil {
		t.Fatal(err)
	}
	for _, follow := range []bool{false, true} {
		for _, workers := range []int{1, 8} {
			res := Scan(context.Background(), engine(t), []string{dir}, Options{Workers: workers, FollowSymlinks: follow})
			var got []string
			for _, f := range res.Findings {
				rel, _ := filepath.Rel(dir, f.File)
				got = append(got, fmt.Sprintf("%s:%d:%d", rel, f.Line, f.Column))
			}
			want := "a.sh:2:22 sub/b.py:1:22"
			if follow {
				want = "a.sh:2:22 link.sh:2:22 sub/b.py:1:22"
			}
			if strings.Join(got, " ") != want {
				t.Errorf("follow=%v workers=%d: got %v, want %s", follow, workers, got, want)
			}
			if len(res.Problems) != 0 {
				t.Errorf("problems: %v", res.Problems)
			}
			if res.Stats.SkippedBinary != 1 {
				t.Errorf("binary skipped = %d, want 1", res.Stats.SkippedBinary)
			}
			if follow && res.Stats.SymlinkLoops != 1 {
				t.Errorf("loops = %d, want 1", res.Stats.SymlinkLoops)
			}
			if !follow && res.Stats.SkippedSymlinks != 2 {
				t.Errorf("symlinks skipped = %d, want 2", res.Stats.SkippedSymlinks)
			}
		}
	}
}

func TestMissingAndEmpty(t *testing.T) {
	empty := t.TempDir()
	res := Scan(context.Background(), engine(t), []string{empty, filepath.Join(empty, "nope")}, Options{})
	if len(res.Findings) != 0 || len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Error(), "nope") {
		t.Fatalf("got %+v", res)
	}
}

func TestUnreadable(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root reads every file; the CLI test covers this as an unprivileged user")
	}
	dir := t.TempDir()
	write(t, dir, "ok.txt", header)
	write(t, dir, "secret.txt", header)
	if err := os.Chmod(filepath.Join(dir, "secret.txt"), 0); err != nil {
		t.Fatal(err)
	}
	res := Scan(context.Background(), engine(t), []string{dir}, Options{})
	if len(res.Findings) != 1 || len(res.Problems) != 1 {
		t.Fatalf("findings %d problems %v", len(res.Findings), res.Problems)
	}
}

// lines generates n bytes of text lines, then a token line, then a few lines more.
type lines struct {
	remaining int64
	tail      *strings.Reader
	line      []byte
}

func (l *lines) Read(p []byte) (int, error) {
	if l.remaining <= 0 {
		return l.tail.Read(p)
	}
	n := 0
	for n < len(p) && l.remaining > 0 {
		c := copy(p[n:], l.line)
		n += c
		l.remaining -= int64(c)
		if c < len(l.line) {
			l.line = append(l.line[c:], l.line[:c]...) // rotate so the stream stays line-aligned
		}
	}
	return n, nil
}

// TestHugeStream feeds 1 GiB of generated lines through the streaming path (stdin)
// with a token near the end: it must be found on the right line with bounded memory.
func TestHugeStream(t *testing.T) {
	size := int64(1 << 30)
	if testing.Short() || raceEnabled {
		size = 64 << 20 // the race detector makes 1 GiB take minutes; the path is the same
	}
	line := []byte("the quick brown fox jumps over the lazy dog 0123456789 token key\n")
	size -= size % int64(len(line))
	src := &lines{remaining: size, line: bytes.Clone(line), tail: strings.NewReader("x\n" + header + "\n")}
	runtime.GC()
	res := Scan(context.Background(), engine(t), []string{"-"}, Options{Stdin: src})
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if len(res.Findings) != 1 {
		t.Fatalf("findings = %d, problems %v", len(res.Findings), res.Problems)
	}
	wantLine := int(size/int64(len(line))) + 2
	if f := res.Findings[0]; f.Line != wantLine || f.Column != 22 {
		t.Errorf("found at %d:%d, want %d:22", f.Line, f.Column, wantLine)
	}
	if ms.Sys > 200<<20 {
		t.Errorf("memory obtained from the OS = %d MiB, want < 200 MiB", ms.Sys>>20)
	}
	t.Logf("scanned %d MiB, Sys %d MiB", size>>20, ms.Sys>>20)
}

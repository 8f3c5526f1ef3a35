package files

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/hygiene"
	"github.com/tokenward/tokenward/rules"
)

const testRules = `
[[rule]]
id = "test-header"
description = "Authorization Token header"
regex = '''Authorization:\s*Token\s+([A-Za-z0-9]{32,64})'''
keywords = ["authorization"]
`

const header = "Authorization: Token 8f3kQ9zLm2Xv7Rt5Wp1Yb6Nc4Hd0Js3A"

func testEngine(t testing.TB) *engine.Engine {
	t.Helper()
	p, err := rules.Parse("test.toml", []byte(testRules))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(&rules.Set{Rules: p.Rules()}, engine.Options{})
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
			res := Scan(context.Background(), testEngine(t), []string{dir}, Options{Workers: workers, FollowSymlinks: follow})
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
			if skippedAs(res, "binary") != 1 {
				t.Errorf("binary skipped = %d, want 1", skippedAs(res, "binary"))
			}
			if follow && loops(res) != 1 {
				t.Errorf("loops = %d, want 1", loops(res))
			}
			if !follow && res.Stats.Symlinks != 2 {
				t.Errorf("symlinks skipped = %d, want 2", res.Stats.Symlinks)
			}
		}
	}
}

// TestBufferReuse checks that findings do not share memory with the read buffer,
// which a worker reuses for the next file: each file is followed by one of the
// same size, and every finding must equal the one found in a private copy.
func TestBufferReuse(t *testing.T) {
	dir := t.TempDir()
	contents := map[string]string{
		"a1.txt": "x\n" + header + "\n",
		"a2.txt": "db = \"https://admin:Zq8vR2kLm5Xw9Tn4@db.internal.io/app\"\n",
		"a3.txt": strings.Repeat("pad\n", 5000) + header + "\n" + strings.Repeat("pad\n", 5000),
	}
	names := []string{"a1.txt", "a2.txt", "a3.txt"}
	for _, name := range names {
		write(t, dir, name, contents[name])
		write(t, dir, "b"+name[1:], strings.Repeat("~", len(contents[name]))) // overwrites the buffer
	}
	eng := testEngine(t)
	check := hygiene.New(hygiene.DefaultConfig()).Check
	for _, workers := range []int{1, 2} {
		res := Scan(context.Background(), eng, []string{dir}, Options{Workers: workers}, check)
		var want []finding.Finding
		for _, name := range names {
			data := []byte(contents[name])
			p := filepath.ToSlash(filepath.Join(dir, name))
			want = append(append(want, eng.ScanBytes(p, data)...), check(p, data)...)
		}
		if len(want) != 3 {
			t.Fatalf("the fixtures should give 3 findings, got %d: %+v", len(want), want)
		}
		finding.Sort(want)
		if !reflect.DeepEqual(res.Findings, want) {
			t.Errorf("workers=%d: findings differ from a scan of private copies:\ngot  %+v\nwant %+v", workers, res.Findings, want)
		}
	}
}

// TestReadUpTo reads files of sizes around the buffer's steps and the limit into
// buffers left over from earlier files.
func TestReadUpTo(t *testing.T) {
	const limit = 5*minBuf + 7
	dir := t.TempDir()
	var buf []byte
	for _, size := range []int{0, 1, minBuf - 1, minBuf, minBuf + 1, 2*minBuf + 3, 3 * minBuf, limit - 1, limit, limit + 1, 2 * limit, 10, 0} {
		for _, start := range []int{0, 100, minBuf, 4 * minBuf} { // capacity of the buffer passed in
			content := make([]byte, size)
			for i := range content {
				content[i] = byte('a' + (i*7+size)%26)
			}
			p := filepath.Join(dir, fmt.Sprintf("f%d-%d", size, start))
			if err := os.WriteFile(p, content, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := openFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if start > 0 {
				buf = bytes.Repeat([]byte{'~'}, start)
			}
			got, err := readUpTo(f, buf, limit)
			f.Close()
			want := content[:min(size, limit)]
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("size %d, buffer %d: read %d bytes (err %v), want the first %d", size, start, len(got), err, len(want))
			}
			if cap(got) > max(limit, start) {
				t.Errorf("size %d, buffer %d: buffer grew to %d, over the limit %d", size, start, cap(got), limit)
			}
			buf = got
		}
	}
}

// TestLargeFile scans files of exact sizes around memLimit, which are read whole
// up to it and streamed beyond it, with one token ending just before the limit
// (or the end) and one at the end of the file.
func TestLargeFile(t *testing.T) {
	pad, tok := "0123456789 abcdefghij\n", header+"\n"
	for _, size := range []int{memLimit - 1, memLimit, memLimit + 1, memLimit + 300, 3 * memLimit} {
		dir := t.TempDir()
		head := strings.Repeat(pad, (min(size, memLimit)-2*len(tok)-50)/len(pad))
		mid := strings.Repeat("x", size-len(head)-2*len(tok)-1) + "\n"
		text := head + tok + mid + tok
		if len(text) != size {
			t.Fatalf("fixture is %d bytes, want %d", len(text), size)
		}
		write(t, dir, "big.txt", text)
		res := Scan(context.Background(), testEngine(t), []string{dir}, Options{Workers: 1})
		want := fmt.Sprintf("%d:22 %d:22", strings.Count(head, "\n")+1, strings.Count(text, "\n"))
		var got []string
		for _, f := range res.Findings {
			got = append(got, fmt.Sprintf("%d:%d", f.Line, f.Column))
		}
		if strings.Join(got, " ") != want || len(res.Problems) != 0 {
			t.Errorf("%d bytes: findings at %v, want %s; problems %v", size, got, want, res.Problems)
		}
		if res.Stats.Files != 1 || res.Stats.Bytes != int64(size) {
			t.Errorf("%d bytes: stats %+v", size, res.Stats)
		}
	}
}

func TestMissingAndEmpty(t *testing.T) {
	empty := t.TempDir()
	res := Scan(context.Background(), testEngine(t), []string{empty, filepath.Join(empty, "nope")}, Options{})
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
	res := Scan(context.Background(), testEngine(t), []string{dir}, Options{})
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
	res := Scan(context.Background(), testEngine(t), []string{"-"}, Options{Stdin: src})
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

// A panic while scanning one file is reported as that file's problem (an
// incomplete scan, exit 2); the other files are still scanned.
func TestPanicInOneFile(t *testing.T) {
	dir := t.TempDir()
	for i := range 20 {
		write(t, dir, fmt.Sprintf("f%02d.txt", i), header)
	}
	boom := func(path string, _ []byte) []finding.Finding {
		if strings.HasSuffix(path, "f07.txt") {
			panic("boom")
		}
		return nil
	}
	res := Scan(context.Background(), testEngine(t), []string{dir}, Options{Workers: 2}, boom)
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Error(), "f07.txt") || !strings.Contains(res.Problems[0].Error(), "boom") {
		t.Fatalf("problems %v, want one naming f07.txt", res.Problems)
	}
	if len(res.Findings) < 19 {
		t.Fatalf("%d findings, want the other 19 files' findings", len(res.Findings))
	}
}

// With IgnoreRoot (the repository's top), scanning a subdirectory applies the
// top's .tokenwardignore, its patterns matched relative to the top.
func TestIgnoreRootAppliesToSubdirectory(t *testing.T) {
	top := t.TempDir()
	write(t, top, IgnoreFileName, "sub/fixtures/\n/sub/*.log\n")
	write(t, top, "sub/fixtures/f.txt", header)
	write(t, top, "sub/x.log", header)
	write(t, top, "sub/app.sh", header)
	write(t, top, "other/fixtures/f.txt", header)
	for _, c := range []struct {
		name, root string
		opts       Options
		want       []string
	}{
		{"subdirectory, top's ignore file", filepath.Join(top, "sub"), Options{IgnoreRoot: top}, []string{"sub/app.sh"}},
		{"the top itself", top, Options{IgnoreRoot: top}, []string{"other/fixtures/f.txt", "sub/app.sh"}},
		{"no IgnoreRoot: the subdirectory's own (none)", filepath.Join(top, "sub"), Options{}, []string{"sub/app.sh", "sub/fixtures/f.txt", "sub/x.log"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := Scan(context.Background(), testEngine(t), []string{c.root}, c.opts)
			var got []string
			for _, f := range res.Findings {
				rel, _ := filepath.Rel(top, f.File)
				got = append(got, filepath.ToSlash(rel))
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("files with findings %q, want %q", got, c.want)
			}
		})
	}
}

// A followed symlink to a directory that .tokenwardignore excludes stays excluded.
func TestFollowedSymlinkToIgnoredDirectory(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	write(t, outside, "lib/deploy.sh", header)
	write(t, dir, "app.sh", "nothing\n")
	if err := os.Symlink(filepath.Join(outside, "lib"), filepath.Join(dir, "vendor")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ignore string
		want   int
	}{{"vendor/\n", 0}, {"other/\n", 1}} {
		write(t, dir, IgnoreFileName, c.ignore)
		res := Scan(context.Background(), testEngine(t), []string{dir}, Options{FollowSymlinks: true})
		if len(res.Findings) != c.want {
			t.Errorf("ignore %q: %d findings, want %d", c.ignore, len(res.Findings), c.want)
		}
	}
}

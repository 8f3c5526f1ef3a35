package pipeline

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/engine/enginetest"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/hygiene"
	"github.com/tokenward/tokenward/source"
	"github.com/tokenward/tokenward/source/archive"
	"github.com/tokenward/tokenward/source/text"
)

const tok = "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" // checksum valid: github-pat

// cfg holds the token on line 2, column 11.
const cfg = "# settings\n  token = " + tok + "\n"

var (
	engOnce sync.Once
	testEng *engine.Engine
)

func builtin(t testing.TB) *engine.Engine {
	engOnce.Do(func() { testEng = enginetest.Builtin(t) })
	return testEng
}

type member struct{ name, body string }

func zipOf(t testing.TB, method uint16, ms ...member) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, m := range ms {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: m.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(fw, m.body)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tarOf(t testing.TB, ms ...member) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, m := range ms {
		if err := w.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, m.body)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzOf(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func xzOf(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := xz.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zstdOf(t testing.TB, data []byte) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return w.EncodeAll(data, nil)
}

func utf16Of(s string, be, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	var out []byte
	for _, u := range units {
		if be {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// how a blob is handed to the scanner
const (
	inMemory = "data"
	streamed = "stream"
	osFile   = "file"
)

func blobOf(t testing.TB, path string, data []byte, how string) source.Blob {
	b := source.Blob{ID: path, Path: path}
	switch how {
	case inMemory:
		b.Data = data
	case streamed:
		b.Open = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	case osFile:
		p := filepath.Join(t.TempDir(), "blob")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		b.Open = func() (io.ReadCloser, error) { return os.Open(p) }
	}
	return b
}

// render lists findings as "file:line:col-endline:endcol rule", sorted.
func render(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s:%d:%d-%d:%d %s", f.File, f.Line, f.Column, f.EndLine, f.EndColumn, f.RuleID))
	}
	sort.Strings(out)
	return out
}

func renderSkips(ss []source.Skip) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Path+": "+s.Reason)
	}
	sort.Strings(out)
	return out
}

const pat = "github-pat"

func hit(file string, line, col int) string {
	return fmt.Sprintf("%s:%d:%d-%d:%d %s", file, line, col, line, col+len(tok), pat)
}

func TestContentArchiveFormats(t *testing.T) {
	ms := []member{{"dir/app.cfg", cfg}, {"readme.txt", "nothing here\n"}}
	tarball := tarOf(t, ms...)
	want := []string{hit("!dir/app.cfg", 2, 11)}
	tests := []struct {
		name, path string
		data       []byte
		want       []string
	}{
		{"zip", "a.zip", zipOf(t, zip.Deflate, ms...), want},
		{"jar, stored", "a.jar", zipOf(t, zip.Store, ms...), want},
		{"war named .bin", "a.bin", zipOf(t, zip.Deflate, ms...), want},
		{"tar", "a.tar", tarball, want},
		{"tar.gz", "a.tar.gz", gzOf(t, tarball), want},
		{"tar.xz", "a.tar.xz", xzOf(t, tarball), want},
		{"tar.zst", "a.tar.zst", zstdOf(t, tarball), want},
		{"gz of a file", "app.cfg.gz", gzOf(t, []byte(cfg)), []string{hit("!app.cfg", 2, 11)}},
		{"xz of a file", "app.cfg.xz", xzOf(t, []byte(cfg)), []string{hit("!app.cfg", 2, 11)}},
		{"zst of a file", "app.cfg.zst", zstdOf(t, []byte(cfg)), []string{hit("!app.cfg", 2, 11)}},
	}
	c := NewContentScanner(builtin(t), nil, ContentOptions{MaxArchiveDepth: 4})
	for _, tt := range tests {
		for _, how := range []string{inMemory, streamed, osFile} {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				out := c.ScanBlob(blobOf(t, tt.path, tt.data, how))
				if out.Err != nil || len(out.Skipped) > 0 {
					t.Fatalf("err %v, skipped %v", out.Err, out.Skipped)
				}
				if got := render(out.Findings); fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("findings %q\nwant %q", got, tt.want)
				}
				if wantBytes := int64(len(cfg)); out.Bytes < wantBytes {
					t.Errorf("Bytes %d, want at least %d", out.Bytes, wantBytes)
				}
			})
		}
	}
}

// nested is outer.zip holding pkg/bundle.tar.gz holding lib/inner.zip.
func nested(t testing.TB) []byte {
	inner := zipOf(t, zip.Deflate, member{"deep/creds.txt", "a\nb\n\tkey: " + tok + "\n"})
	tgz := gzOf(t, tarOf(t, member{"lib/inner.zip", string(inner)}, member{"notes/readme.md", tok + "\n"}))
	return zipOf(t, zip.Deflate, member{"pkg/bundle.tar.gz", string(tgz)}, member{"top.cfg", cfg})
}

func TestContentNested(t *testing.T) {
	all := []string{
		hit("!pkg/bundle.tar.gz!lib/inner.zip!deep/creds.txt", 3, 7),
		hit("!pkg/bundle.tar.gz!notes/readme.md", 1, 1),
		hit("!top.cfg", 2, 11),
	}
	tests := []struct {
		depth int
		want  []string
		skips []string
	}{
		{4, all, nil},
		{3, all, nil},
		{2, all[1:], []string{"outer.zip!pkg/bundle.tar.gz!lib/inner.zip: zip archive nested more than 2 levels deep (the archive depth limit)"}},
		{1, all[2:], []string{"outer.zip!pkg/bundle.tar.gz: gzip archive nested more than 1 levels deep (the archive depth limit)"}},
	}
	data := nested(t)
	for _, tt := range tests {
		for _, how := range []string{inMemory, streamed} {
			t.Run(fmt.Sprintf("depth %d/%s", tt.depth, how), func(t *testing.T) {
				c := NewContentScanner(builtin(t), nil, ContentOptions{MaxArchiveDepth: tt.depth})
				out := c.ScanBlob(blobOf(t, "outer.zip", data, how))
				if out.Err != nil {
					t.Fatal(out.Err)
				}
				if got := render(out.Findings); fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("findings %q\nwant %q", got, tt.want)
				}
				if got := renderSkips(out.Skipped); fmt.Sprint(got) != fmt.Sprint(tt.skips) {
					t.Errorf("skips %q\nwant %q", got, tt.skips)
				}
			})
		}
	}
}

// TestContentArchivesOff: with depth 0 an archive is content like any other: a
// stored zip's member text is found as the blob's printable runs.
func TestContentArchivesOff(t *testing.T) {
	z := zipOf(t, zip.Store, member{"a.cfg", cfg})
	for _, tt := range []struct {
		skip  bool
		want  []string
		skip1 []string
	}{
		{false, []string{hit("", 2, 11)}, nil},
		{true, nil, []string{"a.zip: binary"}},
	} {
		c := NewContentScanner(builtin(t), nil, ContentOptions{SkipBinary: tt.skip})
		out := c.ScanBlob(blobOf(t, "a.zip", z, inMemory))
		// The zip's local header precedes the member on the first line.
		got := render(out.Findings)
		if len(tt.want) == 0 && len(got) != 0 || len(tt.want) > 0 && (len(got) != 1 || !strings.HasPrefix(got[0], ":2:11-")) {
			t.Errorf("skip-binary %v: findings %q, want %q", tt.skip, got, tt.want)
		}
		if s := renderSkips(out.Skipped); fmt.Sprint(s) != fmt.Sprint(tt.skip1) {
			t.Errorf("skip-binary %v: skips %q, want %q", tt.skip, s, tt.skip1)
		}
	}
}

func TestContentLimits(t *testing.T) {
	zeros := strings.Repeat("\x00", 8<<20)
	bomb := zipOf(t, zip.Deflate, member{"ok.cfg", cfg}, member{"bomb.bin", zeros})
	var many []member
	for i := range 30 {
		many = append(many, member{fmt.Sprintf("f%02d.cfg", i), cfg})
	}
	tests := []struct {
		name     string
		opts     ContentOptions
		data     []byte
		findings int
		skip     string
		err      string
	}{
		{"zip bomb", ContentOptions{MaxArchiveDepth: 4}, bomb, 1,
			"x.zip!bomb.bin: archive limit: compression ratio over 1000:1", "archive member bomb.bin: archive limit reached: compression ratio over 1000:1"},
		{"bytes in all", ContentOptions{MaxArchiveDepth: 4, MaxArchiveBytes: 2 << 20, MaxArchiveRatio: 1 << 20}, bomb, 1,
			"x.zip!bomb.bin: archive limit: more than 2097152 bytes decompressed in all", "more than 2097152 bytes decompressed"},
		{"entry count bomb", ContentOptions{MaxArchiveDepth: 4, MaxArchiveEntries: 10}, zipOf(t, zip.Deflate, many...), 10,
			"x.zip: archive limit: more than 10 members in all", "more than 10 members in all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := NewContentScanner(builtin(t), nil, tt.opts).ScanBlob(blobOf(t, "x.zip", tt.data, inMemory))
			if len(out.Findings) != tt.findings {
				t.Errorf("%d findings, want %d: %q", len(out.Findings), tt.findings, render(out.Findings))
			}
			if s := strings.Join(renderSkips(out.Skipped), "\n"); !strings.Contains(s, tt.skip) {
				t.Errorf("skips %q, want one with %q", s, tt.skip)
			}
			if out.Err == nil || !errors.Is(out.Err, archive.ErrLimit) || !strings.Contains(out.Err.Error(), tt.err) {
				t.Errorf("Err %v, want an archive limit with %q", out.Err, tt.err)
			}
		})
	}
}

func TestContentCorrupt(t *testing.T) {
	tgz := gzOf(t, tarOf(t, member{"a.cfg", cfg}, member{"b.cfg", cfg}))
	nestedBad := zipOf(t, zip.Store, member{"in/x.tar.gz", string(tgz[:len(tgz)-12])})
	z := zipOf(t, zip.Deflate, member{"a.cfg", cfg})
	tests := []struct {
		name, path string
		data       []byte
		want       []string
		err        string
	}{
		{"truncated tar.gz", "x.tgz", tgz[:len(tgz)-12], []string{hit("!a.cfg", 2, 11), hit("!b.cfg", 2, 11)}, "unexpected EOF"},
		{"truncated nested tar.gz", "x.zip", nestedBad, []string{hit("!in/x.tar.gz!a.cfg", 2, 11), hit("!in/x.tar.gz!b.cfg", 2, 11)}, "archive member in/x.tar.gz: unexpected EOF"},
		{"zip without its directory", "x.zip", z[:len(z)-22], nil, "reading zip: zip: not a valid zip file"},
	}
	c := NewContentScanner(builtin(t), nil, ContentOptions{MaxArchiveDepth: 4})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := c.ScanBlob(blobOf(t, tt.path, tt.data, streamed))
			if got := render(out.Findings); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("findings %q\nwant %q", got, tt.want)
			}
			if out.Err == nil || !strings.Contains(out.Err.Error(), tt.err) {
				t.Errorf("Err %v, want one with %q", out.Err, tt.err)
			}
		})
	}
}

func TestContentUTF16(t *testing.T) {
	// Line 2: an emoji (one code point, two UTF-16 units), then the token at column 11.
	src := "first line\r\n😀 token = " + tok + "\r\nlast\n"
	want := []string{hit("", 2, 11)}
	c := NewContentScanner(builtin(t), nil, ContentOptions{MaxArchiveDepth: 4})
	for _, be := range []bool{false, true} {
		for _, bom := range []bool{true, false} {
			for _, how := range []string{inMemory, streamed} {
				t.Run(fmt.Sprintf("be=%v bom=%v %s", be, bom, how), func(t *testing.T) {
					data := utf16Of(src, be, bom)
					out := c.ScanBlob(blobOf(t, "f.txt", data, how))
					if out.Err != nil || len(out.Skipped) > 0 {
						t.Fatalf("err %v skipped %v", out.Err, out.Skipped)
					}
					if got := render(out.Findings); fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("findings %q, want %q", got, want)
					}
					if f := out.Findings; len(f) == 1 && f[0].Secret != tok {
						t.Errorf("secret %q", f[0].Secret)
					}
					// The same file inside a zip.
					out = c.ScanBlob(blobOf(t, "a.zip", zipOf(t, zip.Deflate, member{"w/f.txt", string(data)}), how))
					if got := render(out.Findings); fmt.Sprint(got) != fmt.Sprint([]string{hit("!w/f.txt", 2, 11)}) {
						t.Errorf("in a zip: findings %q", got)
					}
				})
			}
		}
	}
}

func TestContentBinary(t *testing.T) {
	nulText := "\x00\x01 header line\nsecond line\n  token = " + tok + "\n"
	elf := "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00\x01\x00\x00\x00" +
		"\x00\x00\x00\x00aws\x00\x00github_token=" + tok + "\x00\x00\x00\xff\xfe\x10"
	tests := []struct {
		name string
		data string
		skip bool
		want []string
		skp  []string
	}{
		{"NUL at the start of a text file", nulText, false, []string{hit("", 3, 11)}, nil},
		{"token in an executable", elf, false, []string{hit("", 1, strings.Index(elf, tok)+1)}, nil},
		{"skip binary", nulText, true, nil, []string{"f: binary"}},
		{"skip binary member", string(zipOf(t, zip.Deflate, member{"bin/tool", elf}, member{"a.cfg", cfg})), true,
			[]string{hit("!a.cfg", 2, 11)}, []string{"f!bin/tool: binary"}},
	}
	for _, tt := range tests {
		for _, how := range []string{inMemory, streamed} {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				c := NewContentScanner(builtin(t), nil, ContentOptions{MaxArchiveDepth: 4, SkipBinary: tt.skip})
				out := c.ScanBlob(blobOf(t, "f", []byte(tt.data), how))
				if out.Err != nil {
					t.Fatal(out.Err)
				}
				if got := render(out.Findings); fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("findings %q, want %q", got, tt.want)
				}
				if got := renderSkips(out.Skipped); fmt.Sprint(got) != fmt.Sprint(tt.skp) {
					t.Errorf("skips %q, want %q", got, tt.skp)
				}
			})
		}
	}
}

// TestContentChecks: checks see members under "<blob>/<member>" and their decoded
// text; the hygiene checks judge a .env inside a zip by its name.
func TestContentChecks(t *testing.T) {
	hc := hygiene.New(hygiene.DefaultConfig())
	var mu sync.Mutex
	seen := map[string]string{}
	record := func(p string, data []byte) []finding.Finding {
		mu.Lock()
		seen[p] = string(data)
		mu.Unlock()
		return nil
	}
	env := "# local\nDATABASE_PASSWORD=\"Tr0ub4dorXq9\"\n"
	z := zipOf(t, zip.Deflate, member{"config/.env", env}, member{"u16.txt", string(utf16Of("hi\n", false, true))})
	c := NewContentScanner(builtin(t), []Check{hc.Check, record}, ContentOptions{MaxArchiveDepth: 4})
	out := c.ScanBlob(blobOf(t, "dist/app.zip", z, inMemory))
	want := []string{"!config/.env:2:20-2:32 dotenv-credential", "!config/.env:2:20-2:32 generic-password"}
	if got := render(out.Findings); fmt.Sprint(got) != fmt.Sprint(want) || out.Err != nil {
		t.Errorf("findings %q (err %v), want %q", got, out.Err, want)
	}
	wantSeen := map[string]string{"dist/app.zip/config/.env": env, "dist/app.zip/u16.txt": "hi\n"}
	if fmt.Sprint(seen) != fmt.Sprint(wantSeen) {
		t.Errorf("checks saw %q, want %q", seen, wantSeen)
	}
}

func TestContentWindows(t *testing.T) {
	data := []byte("a = " + tok + "\nmiddle\n  token = " + tok + "\n")
	start := bytes.Index(data, []byte("  token"))
	var checked int
	record := func(_ string, d []byte) []finding.Finding { checked = len(d); return nil }
	c := NewContentScanner(builtin(t), []Check{record}, ContentOptions{MaxArchiveDepth: 4})
	b := blobOf(t, "f", data, inMemory)
	b.Windows = []source.Span{{Start: start, End: len(data), Line: 3}}
	out := c.ScanBlob(b)
	if got, want := render(out.Findings), []string{hit("", 3, 11)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	if checked != len(data) || out.Bytes != int64(len(data)-start) {
		t.Errorf("checks saw %d bytes (want %d); Bytes %d (want %d)", checked, len(data), out.Bytes, len(data)-start)
	}
	// Windows are offsets into text: UTF-16 content is scanned whole.
	b = blobOf(t, "f", utf16Of(string(data), false, true), inMemory)
	b.Windows = []source.Span{{Start: 0, End: 2, Line: 1}}
	if got := render(c.ScanBlob(b).Findings); len(got) != 2 {
		t.Errorf("UTF-16 with windows: findings %q, want both", got)
	}
}

func TestContentLargeMember(t *testing.T) {
	var sb strings.Builder
	for i := 0; sb.Len() <= memberMemory+1000; i++ {
		fmt.Fprintf(&sb, "line %d of a log, checksum %x\n", i, i*2654435761)
	}
	big := sb.String() + "  token = " + tok + "\n"
	lines := strings.Count(big, "\n")
	tb := tarOf(t, member{"big.log", big})
	c := NewContentScanner(builtin(t), nil, ContentOptions{MaxArchiveDepth: 4})
	out := c.ScanBlob(blobOf(t, "x.tar", gzOf(t, tb), streamed))
	if got, want := render(out.Findings), []string{hit("!big.log", lines, 11)}; fmt.Sprint(got) != fmt.Sprint(want) || out.Err != nil {
		t.Errorf("findings %q (err %v), want %q", got, out.Err, want)
	}
	small := NewContentScanner(builtin(t), nil, ContentOptions{MaxArchiveDepth: 4, MaxFileSize: 1000})
	out = small.ScanBlob(blobOf(t, "x.tar", tb, inMemory))
	if got := renderSkips(out.Skipped); len(got) != 1 || !strings.Contains(got[0], "x.tar!big.log: ") || len(out.Findings) != 0 {
		t.Errorf("MaxFileSize: skips %q findings %d", got, len(out.Findings))
	}
}

func TestContentUnsupportedAndPanic(t *testing.T) {
	c := NewContentScanner(builtin(t), nil, ContentOptions{MaxArchiveDepth: 4})
	out := c.ScanBlob(blobOf(t, "a.7z", []byte("7z\xBC\xAF\x27\x1C\x00\x04"+tok), inMemory))
	if got := renderSkips(out.Skipped); fmt.Sprint(got) != "[a.7z: 7z archives are not supported]" || len(out.Findings) != 0 {
		t.Errorf("7z: skips %q findings %d", got, len(out.Findings))
	}
	boom := func(string, []byte) []finding.Finding { panic("check bug") }
	out = NewContentScanner(builtin(t), []Check{boom}, ContentOptions{}).ScanBlob(blobOf(t, "f", []byte(cfg), inMemory))
	if out.Err == nil || !strings.Contains(out.Err.Error(), "internal error while scanning (please report it): check bug") {
		t.Errorf("panic: Err %v", out.Err)
	}
	open := source.Blob{Path: "gone", Open: func() (io.ReadCloser, error) { return nil, fs.ErrNotExist }}
	if out := c.ScanBlob(open); out.Err == nil || !errors.Is(out.Err, fs.ErrNotExist) {
		t.Errorf("open error: Err %v", out.Err)
	}
}

// corpus loads up to limit bytes of Go source from GOROOT/src.
func corpus(b *testing.B, limit int) [][]byte {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skip("go env GOROOT:", err)
	}
	var out [][]byte
	total := 0
	filepath.WalkDir(filepath.Join(strings.TrimSpace(string(goroot)), "src"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || total >= limit || !strings.HasSuffix(p, ".go") {
			return nil
		}
		if data, err := os.ReadFile(p); err == nil && !engine.IsBinary(data) {
			out = append(out, data)
			total += len(data)
		}
		return nil
	})
	if total == 0 {
		b.Skip("no GOROOT/src")
	}
	return out
}

// BenchmarkContentScanner compares the content scanner on plain text (16 MB of
// GOROOT/src) with calling the engine directly: the sniffing of archives,
// UTF-16 and binaries must cost next to nothing on text.
func BenchmarkContentScanner(b *testing.B) {
	eng := builtin(b)
	files := corpus(b, 16<<20)
	var size int64
	for _, f := range files {
		size += int64(len(f))
		eng.ScanBytes("f.go", f) // warm: automaton, lazily compiled regexes
	}
	c := NewContentScanner(eng, nil, ContentOptions{MaxArchiveDepth: 4})
	b.Run("engine", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, f := range files {
				eng.Scan(engine.Blob{ID: "f.go", Path: "f.go", Data: f})
			}
		}
	})
	b.Run("content", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, f := range files {
				c.ScanBlob(source.Blob{ID: "f.go", Path: "f.go", Data: f})
			}
		}
	})
	// paired alternates the two file by file (in turns first), so that a busy machine slows both
	// alike, and reports the content scanner's extra time in percent.
	b.Run("paired", func(b *testing.B) {
		b.SetBytes(2 * size)
		var direct, content time.Duration
		for b.Loop() {
			for i, f := range files {
				// Which runs first alternates: the second finds f in the cache.
				for k := range 2 {
					t0 := time.Now()
					if (i+k)%2 == 0 {
						eng.Scan(engine.Blob{ID: "f.go", Path: "f.go", Data: f})
						direct += time.Since(t0)
					} else {
						c.ScanBlob(source.Blob{ID: "f.go", Path: "f.go", Data: f})
						content += time.Since(t0)
					}
				}
			}
		}
		b.ReportMetric(100*(float64(content)/float64(direct)-1), "overhead-%")
	})
	// small: per-blob cost on a 200-byte file, where fixed costs would show.
	small := []byte(strings.Repeat("x := compute(a, b) // nothing here\n", 6))
	b.Run("small-engine", func(b *testing.B) {
		for b.Loop() {
			eng.Scan(engine.Blob{ID: "f.go", Path: "f.go", Data: small})
		}
	})
	b.Run("small-content", func(b *testing.B) {
		for b.Loop() {
			c.ScanBlob(source.Blob{ID: "f.go", Path: "f.go", Data: small})
		}
	})
	// sniff is what the content scanner adds on text: the archive and text sniffs.
	b.Run("sniff", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, f := range files {
				if archive.Detect(f) != archive.None || text.Sniff(f) != text.Plain {
					b.Fatal("not text")
				}
			}
		}
	})
}

// FuzzContentScanner scans arbitrary blobs, as they are and inside a zip: no
// panic (an internal error), and every finding lies in the content.
func FuzzContentScanner(f *testing.F) {
	f.Add([]byte(cfg), false)
	f.Add(utf16Of(cfg, false, false), true)
	f.Add([]byte("\x00\x01"+cfg), false)
	f.Add(gzOf(f, tarOf(f, member{"a", cfg})), false)
	c := NewContentScanner(builtin(f), []Check{hygiene.New(hygiene.DefaultConfig()).Check}, ContentOptions{MaxArchiveDepth: 3, MaxArchiveBytes: 1 << 20})
	f.Fuzz(func(t *testing.T, data []byte, zipped bool) {
		if zipped {
			data = zipOf(t, zip.Deflate, member{"m/x", string(data)})
		}
		for _, how := range []string{inMemory, streamed} {
			out := c.ScanBlob(blobOf(t, "f", data, how))
			if out.Err != nil && strings.Contains(out.Err.Error(), "internal error") {
				t.Fatal(out.Err)
			}
			lines := bytes.Count(data, []byte{'\n'}) + 1
			for _, fd := range out.Findings {
				if fd.Line < 1 || fd.Column < 1 || fd.EndLine < fd.Line || (!zipped && fd.File == "" && fd.EndLine > lines) {
					t.Fatalf("finding outside the content: %+v", fd)
				}
			}
		}
	})
}

// BenchmarkContentBinary scans the go command's executable as its printable runs.
func BenchmarkContentBinary(b *testing.B) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skip(err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "bin", "go"))
	if err != nil {
		b.Skip(err)
	}
	c := NewContentScanner(builtin(b), nil, ContentOptions{MaxArchiveDepth: 4})
	c.ScanBlob(source.Blob{Path: "go", Data: data})
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		c.ScanBlob(source.Blob{Path: "go", Data: data})
	}
}

// BenchmarkContentArchive scans 16.7 MB of GOROOT/src as one zip (deflated) and
// as one tar.gz: MB/s of member content, to compare with BenchmarkContentScanner.
func BenchmarkContentArchive(b *testing.B) {
	files := corpus(b, 16<<20)
	var ms []member
	var size int64
	for i, f := range files {
		ms = append(ms, member{fmt.Sprintf("src/f%05d.go", i), string(f)})
		size += int64(len(f))
	}
	c := NewContentScanner(builtin(b), nil, ContentOptions{MaxArchiveDepth: 4})
	for _, tt := range []struct {
		name string
		data []byte
	}{{"zip", zipOf(b, zip.Deflate, ms...)}, {"tar.gz", gzOf(b, tarOf(b, ms...))}} {
		c.ScanBlob(source.Blob{Path: "a", Data: tt.data})
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if out := c.ScanBlob(source.Blob{Path: "a", Data: tt.data}); out.Err != nil {
					b.Fatal(out.Err)
				}
			}
		})
	}
}

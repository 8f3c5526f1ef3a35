package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// file is an archive member for the builders.
type file struct{ name, body string }

func zipOf(t testing.TB, method uint16, files ...file) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	w.RegisterCompressor(93, func(out io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(out) })
	for _, f := range files {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: f.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(fw, f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tarOf(t testing.TB, files ...file) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}
		if strings.HasSuffix(f.name, "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := w.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzOf(t testing.TB, name string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Name = name
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

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// result is what a walk saw.
type result struct {
	entries map[string]string // path -> content
	skips   []string          // "path: reason"
	err     error
}

func walkAll(t testing.TB, lim Limits, name string, data []byte, how string) result {
	t.Helper()
	res := result{entries: map[string]string{}}
	w := &Walker{Limits: lim,
		Entry: func(e *Entry) {
			b, _ := io.ReadAll(e.R)
			if !bytes.HasPrefix(b, e.Head) {
				t.Errorf("%s: Head is not the start of R", e.Path)
			}
			res.entries[e.Path] = string(b)
		},
		Skip: func(p, reason string) { res.skips = append(res.skips, p+": "+reason) },
	}
	switch how {
	case "reader":
		res.err = w.WalkReader(name, bytes.NewReader(data))
	case "readerat":
		res.err = w.WalkReaderAt(name, bytes.NewReader(data), int64(len(data)))
	default:
		res.err = w.Walk(name, data)
	}
	sort.Strings(res.skips)
	return res
}

func TestDetect(t *testing.T) {
	ustarText := []byte(strings.Repeat("x", 257) + "ustar" + strings.Repeat("y", 300))
	tests := []struct {
		name string
		in   []byte
		want Format
	}{
		{"text", []byte("hello world\n"), None},
		{"empty", nil, None},
		{"zip", zipOf(t, zip.Deflate, file{"a", "b"}), Zip},
		{"empty zip", zipOf(t, zip.Deflate), Zip},
		{"tar", tarOf(t, file{"a", "b"}), Tar},
		{"gzip", gzOf(t, "", []byte("x")), Gzip},
		{"bzip2", readTestdata(t, "notes.txt.bz2"), Bzip2},
		{"text starting BZh9", []byte("BZh9 is how a bzip2 file starts\n"), None},
		{"xz", xzOf(t, []byte("x")), Xz},
		{"zstd", zstdOf(t, []byte("x")), Zstd},
		{"7z", []byte("7z\xBC\xAF\x27\x1C\x00\x04"), SevenZip},
		{"rar", []byte("Rar!\x1A\x07\x01\x00"), Rar},
		{"text with ustar at 257", ustarText, None},
		{"PK text", []byte("PK is a name\n"), None},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Detect(tt.in); got != tt.want {
				t.Errorf("Detect = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWalkFormats(t *testing.T) {
	members := []file{{"dir/", ""}, {"dir/a.txt", "alpha\n"}, {"./.env", "KEY=1\n"}}
	want := map[string]string{"dir/a.txt": "alpha\n", ".env": "KEY=1\n"}
	tarball := tarOf(t, members...)
	tests := []struct {
		name, file string
		data       []byte
		want       map[string]string
	}{
		{"zip deflate", "x.zip", zipOf(t, zip.Deflate, members...), want},
		{"zip store", "x.jar", zipOf(t, zip.Store, members...), want},
		{"zip zstd method", "x.zip", zipOf(t, 93, members...), want},
		{"tar", "x.tar", tarball, want},
		{"tar.gz", "x.tar.gz", gzOf(t, "", tarball), want},
		{"tgz named by magic only", "blob", gzOf(t, "", tarball), want},
		{"tar.xz", "x.tar.xz", xzOf(t, tarball), want},
		{"tar.zst", "x.tar.zst", zstdOf(t, tarball), want},
		{"tar.bz2", "bundle.tar.bz2", readTestdata(t, "bundle.tar.bz2"), map[string]string{"dir/inside.txt": "in a tar.bz2\nline two\n"}},
		{"gz with header name", "x.gz", gzOf(t, "orig.txt", []byte("one\n")), map[string]string{"orig.txt": "one\n"}},
		{"gz named after itself", "notes.txt.gz", gzOf(t, "", []byte("one\n")), map[string]string{"notes.txt": "one\n"}},
		{"bz2", "notes.txt.bz2", readTestdata(t, "notes.txt.bz2"), map[string]string{"notes.txt": "first line\nkey = bz2-single-member\n"}},
		{"xz", "log.xz", xzOf(t, []byte("xz text\n")), map[string]string{"log": "xz text\n"}},
		{"zst", "log.zst", zstdOf(t, []byte("zstd text\n")), map[string]string{"log": "zstd text\n"}},
		{"zip in gz", "x.zip.gz", gzOf(t, "", zipOf(t, zip.Deflate, members...)), want},
	}
	for _, tt := range tests {
		for _, how := range []string{"bytes", "reader", "readerat"} {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				res := walkAll(t, Limits{}, tt.file, tt.data, how)
				if res.err != nil {
					t.Fatal(res.err)
				}
				if fmt.Sprint(res.entries) != fmt.Sprint(tt.want) {
					t.Errorf("entries %v, want %v", res.entries, tt.want)
				}
				if len(res.skips) > 0 {
					t.Errorf("skips %v", res.skips)
				}
			})
		}
	}
}

func TestWalkNested(t *testing.T) {
	inner := zipOf(t, zip.Deflate, file{"deep/secret.txt", "deepest\n"})
	tgz := gzOf(t, "", tarOf(t, file{"lib/inner.zip", string(inner)}, file{"top.txt", "mid\n"}))
	outer := zipOf(t, zip.Deflate, file{"pkg/bundle.tar.gz", string(tgz)}, file{"readme", "outer\n"})
	all := map[string]string{
		"readme":                    "outer\n",
		"pkg/bundle.tar.gz!top.txt": "mid\n",
		"pkg/bundle.tar.gz!lib/inner.zip!deep/secret.txt": "deepest\n",
	}
	tests := []struct {
		depth int
		want  map[string]string
		skips []string
	}{
		{4, all, nil},
		{3, all, nil},
		{2, map[string]string{"readme": "outer\n", "pkg/bundle.tar.gz!top.txt": "mid\n"},
			[]string{"pkg/bundle.tar.gz!lib/inner.zip: zip archive nested more than 2 levels deep (the archive depth limit)"}},
		{1, map[string]string{"readme": "outer\n"},
			[]string{"pkg/bundle.tar.gz: gzip archive nested more than 1 levels deep (the archive depth limit)"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("depth ", tt.depth), func(t *testing.T) {
			res := walkAll(t, Limits{MaxDepth: tt.depth}, "outer.zip", outer, "reader")
			if res.err != nil {
				t.Fatal(res.err)
			}
			if fmt.Sprint(res.entries) != fmt.Sprint(tt.want) {
				t.Errorf("entries %v\nwant %v", res.entries, tt.want)
			}
			if fmt.Sprint(res.skips) != fmt.Sprint(tt.skips) {
				t.Errorf("skips %q\nwant %q", res.skips, tt.skips)
			}
		})
	}
}

func TestWalkLimits(t *testing.T) {
	zeros := strings.Repeat("\x00", 8<<20)
	bomb := zipOf(t, zip.Deflate, file{"ok.txt", "fine\n"}, file{"bomb.bin", zeros}, file{"after.txt", "after\n"})
	gzBomb := gzOf(t, "", tarOf(t, file{"big", zeros}, file{"after.txt", "after\n"}))
	var many []file
	for i := range 50 {
		many = append(many, file{fmt.Sprintf("f%02d", i), "x"})
	}
	tests := []struct {
		name    string
		lim     Limits
		data    []byte
		entries []string // paths delivered
		skip    string   // substring of a skip
		err     string   // substring of the error
	}{
		{"zip bomb: ratio", Limits{}, bomb, []string{"after.txt", "bomb.bin", "ok.txt"},
			"bomb.bin: archive limit: compression ratio over 1000:1", "archive member bomb.bin: archive limit reached: compression ratio over 1000:1"},
		{"tar.gz bomb: ratio ends the stream", Limits{}, gzBomb, []string{"big"},
			": archive limit: compression ratio over 1000:1", "compression ratio over 1000:1"},
		{"bytes in all", Limits{MaxBytes: 4 << 20, MaxRatio: 1 << 20}, bomb, []string{"bomb.bin", "ok.txt"},
			"bomb.bin: archive limit: more than 4194304 bytes decompressed in all", "archive member bomb.bin: archive limit reached: more than 4194304 bytes"},
		{"entry count", Limits{MaxEntries: 10}, zipOf(t, zip.Deflate, many...), []string{"f00", "f01", "f02", "f03", "f04", "f05", "f06", "f07", "f08", "f09"},
			": archive limit: more than 10 members in all", "archive limit reached: more than 10 members"},
		{"entry count in tar", Limits{MaxEntries: 3}, tarOf(t, many...), []string{"f00", "f01", "f02"},
			": archive limit: more than 3 members", "more than 3 members"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := walkAll(t, tt.lim, "x.zip", tt.data, "bytes")
			var got []string
			for p := range res.entries {
				got = append(got, p)
			}
			sort.Strings(got)
			if fmt.Sprint(got) != fmt.Sprint(tt.entries) {
				t.Errorf("entries %v, want %v", got, tt.entries)
			}
			if !strings.Contains(strings.Join(res.skips, "\n"), tt.skip) {
				t.Errorf("skips %q, want one with %q", res.skips, tt.skip)
			}
			if res.err == nil || !strings.Contains(res.err.Error(), tt.err) || !errors.Is(res.err, ErrLimit) {
				t.Errorf("error %v, want ErrLimit with %q", res.err, tt.err)
			}
		})
	}
}

func TestWalkCorrupt(t *testing.T) {
	tarball := tarOf(t, file{"a.txt", "alpha\n"}, file{"b.txt", "beta\n"})
	tgz := gzOf(t, "", tarball)
	badTar := append(tarOf(t, file{"a.txt", "alpha\n"})[:1024], bytes.Repeat([]byte("garbage!"), 128)...)
	z := zipOf(t, zip.Deflate, file{"a.txt", strings.Repeat("alpha ", 100)}, file{"b.txt", "beta\n"})
	// Flip a byte of a.txt's deflate data: its checksum fails, b.txt is still read.
	badMember := bytes.Clone(z)
	badMember[40] ^= 0xFF
	nested := zipOf(t, zip.Store, file{"in/x.tar.gz", string(tgz[:len(tgz)-20])})
	tests := []struct {
		name    string
		data    []byte
		entries []string
		err     string
	}{
		{"truncated tar.gz", tgz[:len(tgz)-10], []string{"a.txt", "b.txt"}, "unexpected EOF"},
		{"zip without central directory", z[:len(z)-30], nil, "reading zip: zip: not a valid zip file"},
		{"bad tar header", badTar, []string{"a.txt"}, "tar, after member a.txt"},
		{"corrupt zip member", badMember, []string{"a.txt", "b.txt"}, "archive member a.txt:"},
		{"truncated nested tar.gz", nested, []string{"in/x.tar.gz!a.txt", "in/x.tar.gz!b.txt"}, "archive member in/x.tar.gz"},
		{"bad gzip header", []byte("\x1f\x8b\x08\xff\xff\xff"), nil, "gzip:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := walkAll(t, Limits{}, "x", tt.data, "reader")
			var got []string
			for p := range res.entries {
				got = append(got, p)
			}
			sort.Strings(got)
			if fmt.Sprint(got) != fmt.Sprint(tt.entries) {
				t.Errorf("entries %v, want %v", got, tt.entries)
			}
			if res.err == nil || !strings.Contains(res.err.Error(), tt.err) {
				t.Errorf("error %v, want one with %q", res.err, tt.err)
			}
		})
	}
}

func TestWalkSkips(t *testing.T) {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	w.RegisterCompressor(14, func(out io.Writer) (io.WriteCloser, error) { return nopCloser{out}, nil })
	fw, _ := w.CreateHeader(&zip.FileHeader{Name: "odd.bin", Method: 14}) // LZMA: not registered
	fw.Write([]byte("x"))
	enc, _ := w.CreateHeader(&zip.FileHeader{Name: "enc.txt", Method: zip.Store, Flags: 1})
	enc.Write([]byte("ciphertext"))
	sz, _ := w.Create("inner.7z")
	sz.Write([]byte("7z\xBC\xAF\x27\x1C\x00\x04rest"))
	w.Close()
	res := walkAll(t, Limits{}, "x.zip", b.Bytes(), "bytes")
	want := []string{
		"enc.txt: encrypted zip member",
		"inner.7z: 7z archives are not supported",
		"odd.bin: zip compression method 14 is not supported",
	}
	if res.err != nil || fmt.Sprint(res.skips) != fmt.Sprint(want) || len(res.entries) != 0 {
		t.Errorf("skips %q err %v entries %v; want %q", res.skips, res.err, res.entries, want)
	}
	if err := (&Walker{}).Walk("t", []byte("plain text")); err == nil {
		t.Error("walking text: no error")
	}
}

func TestSpoolToTempFile(t *testing.T) {
	dir := t.TempDir()
	z := zipOf(t, zip.Store, file{"a.txt", strings.Repeat("a", 5000)}, file{"b.txt", "b\n"})
	outer := tarOf(t, file{"in.zip", string(z)})
	res := walkAll(t, Limits{MaxMemory: 1024, TempDir: dir}, "x.tar", outer, "reader")
	if res.err != nil || len(res.entries) != 2 || res.entries["in.zip!b.txt"] != "b\n" {
		t.Fatalf("entries %v err %v", res.entries, res.err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// FuzzWalk walks arbitrary bytes, as a zip, tar.gz or as they are, with small
// limits: it must not panic, must name every entry below the blob, and must stay
// within the byte limit.
func FuzzWalk(f *testing.F) {
	f.Add(zipOf(f, zip.Deflate, file{"a", "b"}, file{"c/d.tar", string(tarOf(f, file{"e", "f"}))}), uint8(0))
	f.Add(tarOf(f, file{"a", "b"}), uint8(1))
	f.Add(xzOf(f, []byte("xz")), uint8(2))
	f.Add(zstdOf(f, []byte("zz")), uint8(2))
	f.Add(readTestdata(f, "bundle.tar.bz2"), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		switch mode % 3 {
		case 0:
			data = zipOf(t, zip.Deflate, file{"in", string(data)})
		case 1:
			data = gzOf(t, "", data)
		}
		lim := Limits{MaxBytes: 1 << 20, MaxEntries: 100, MaxMemory: 1 << 16, TempDir: t.TempDir()}
		var read int64
		w := &Walker{Limits: lim, Entry: func(e *Entry) {
			if e.Path == "" || strings.HasPrefix(e.Path, "!") {
				t.Errorf("bad entry path %q", e.Path)
			}
			n, _ := io.Copy(io.Discard, e.R)
			read += n
		}}
		if Detect(data).Supported() {
			w.Walk("f", data)
		}
		if read > 2*lim.MaxBytes+int64(len(data))*4 {
			t.Fatalf("read %d bytes", read)
		}
	})
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

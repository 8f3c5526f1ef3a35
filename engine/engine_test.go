package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

const testRules = `
[[rule]]
id = "test-ghp"
description = "test token"
regex = '''\b(ghp_[A-Za-z0-9]{36})\b'''
severity = "high"
tags = ["test"]

[[rule]]
id = "test-header"
description = "Authorization Token header"
regex = '''Authorization:\s*Token\s+([A-Za-z0-9]{32,64})'''
keywords = ["authorization"]
entropy = 3.0
tags = ["seed"]
[[rule.allow]]
regexes = ['''^0{4}''']

[[rule]]
id = "test-generic"
description = "generic"
regex = '''(?i)(?:secret|token)\s*[:=]\s*["']?([A-Za-z0-9_]{20,64})'''
keywords = ["secret", "token"]
entropy = 3.5
tags = ["generic"]
`

func testEngine(t testing.TB, opts Options) *Engine {
	t.Helper()
	return engineFromTOML(t, testRules, opts)
}

// engineFromTOML builds an engine from a rule file's text (no built-in rules).
func engineFromTOML(t testing.TB, toml string, opts Options) *Engine {
	t.Helper()
	p, err := rules.Parse("test.toml", []byte(toml))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(&rules.Set{Rules: p.Rules()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const tok = "ghp_R4nd0mT0kenV4lu3Xq9Zp2Lm8Kd7Wf6Jh5Gs" // 36 chars after prefix

func TestScanLocations(t *testing.T) {
	e := testEngine(t, Options{})
	cases := []struct {
		name             string
		in               string
		rule             string
		line, col, ecol  int
		encoding         string
		wantNone         bool
		wantSecretPrefix string
	}{
		{name: "plain", in: "x := \"" + tok + "\"\n", rule: "test-ghp", line: 1, col: 7, ecol: 7 + len(tok)},
		{name: "third line", in: "a\nb\n  " + tok, rule: "test-ghp", line: 3, col: 3, ecol: 3 + len(tok)},
		{name: "crlf", in: "a\r\nb\r\n\t" + tok + "\r\n", rule: "test-ghp", line: 3, col: 2, ecol: 2 + len(tok)},
		{name: "invalid utf8 before", in: "\xff\xfe\xfd " + tok, rule: "test-ghp", line: 1, col: 5, ecol: 5 + len(tok)},
		{name: "multibyte before", in: "é€ " + tok, rule: "test-ghp", line: 1, col: 4, ecol: 4 + len(tok)},
		{name: "header", in: "curl -H 'Authorization: Token 8f3kQ9zLm2Xv7Rt5Wp1Yb6Nc4Hd0Js3A'", rule: "test-header", line: 1, col: 31, ecol: 63},
		{name: "header placeholder", in: "Authorization: Token [your-token-here]", wantNone: true},
		{name: "header allowlisted", in: "Authorization: Token 0000Q9zLm2Xv7Rt5Wp1Yb6Nc4Hd0Js3A", wantNone: true},
		{name: "low entropy", in: "Authorization: Token abababababababababababababababab", wantNone: true},
		{name: "inline allow", in: tok + " // tokenward:allow", wantNone: true},
		{name: "repeated chars", in: "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", wantNone: true},
		{name: "generic suppressed by specific", in: "token = " + tok, rule: "test-ghp", line: 1, col: 9, ecol: 9 + len(tok)},
		{name: "generic alone", in: "secret: Zq8Lm3Xv7Rt5Wp1Yb6Nc4Hd0Js", rule: "test-generic", line: 1, col: 9, ecol: 35},
		{name: "base64", in: "cfg: " + base64.StdEncoding.EncodeToString([]byte("token: "+tok)), rule: "test-ghp", line: 1, col: 6, encoding: "base64"},
		{name: "percent", in: "u=" + percentAll("k="+tok), rule: "test-ghp", line: 1, col: 1, encoding: "percent"},
		{name: "hex", in: "h " + hex.EncodeToString([]byte("k="+tok)), rule: "test-ghp", line: 1, col: 3, encoding: "hex"},
		{name: "unicode escape", in: `s = "\u0067\u0068\u0070\u005f` + tok[4:] + `"`, rule: "test-ghp", line: 1, col: 6, encoding: "unicode-escape"},
		{name: "base64 of base64", in: base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString([]byte("key " + tok + " end")))), rule: "test-ghp", line: 1, col: 1, encoding: "base64+base64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := e.ScanBytes("f.txt", []byte(c.in))
			if c.wantNone {
				if len(fs) != 0 {
					t.Fatalf("want no finding, got %+v", fs)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("want 1 finding, got %d: %+v", len(fs), fs)
			}
			f := fs[0]
			if f.RuleID != c.rule || f.Line != c.line || f.Column != c.col || f.Encoding != c.encoding {
				t.Errorf("got %s %d:%d enc=%q, want %s %d:%d enc=%q", f.RuleID, f.Line, f.Column, f.Encoding, c.rule, c.line, c.col, c.encoding)
			}
			if c.ecol != 0 && (f.EndLine != c.line || f.EndColumn != c.ecol) {
				t.Errorf("end %d:%d, want %d:%d", f.EndLine, f.EndColumn, c.line, c.ecol)
			}
			if strings.Contains(f.Context, f.Secret) {
				t.Errorf("context leaks the secret: %q", f.Context)
			}
			if f.Fingerprint != finding.Fingerprint(f.RuleID, f.Secret) {
				t.Errorf("fingerprint mismatch")
			}
		})
	}
}

// TestChunkBoundaries moves a secret across every offset around a chunk boundary:
// the streamed scan must find it once, at the same line and column as an in-memory scan.
func TestChunkBoundaries(t *testing.T) {
	e := testEngine(t, Options{ChunkSize: 1})
	chunk := e.opts.ChunkSize
	line := strings.Repeat("filler text with no secret at all ", 3) + "\n"
	for _, off := range []int{-70, -41, -40, -39, -20, -1, 0, 1, 20, 39, 40, 41} {
		var b strings.Builder
		for b.Len() < chunk+off-len(line) {
			b.WriteString(line)
		}
		for b.Len() < chunk+off {
			b.WriteByte('x')
		}
		b.WriteString(" " + tok + " tail\n")
		for b.Len() < 3*chunk {
			b.WriteString(line)
		}
		data := []byte(b.String())
		want := e.ScanBytes("f", data)
		got, err := e.Scan(Blob{Path: "f", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || len(want) != 1 {
			t.Fatalf("offset %d: streamed %d findings, in memory %d", off, len(got), len(want))
		}
		if got[0].Line != want[0].Line || got[0].Column != want[0].Column {
			t.Errorf("offset %d: streamed at %d:%d, in memory %d:%d", off, got[0].Line, got[0].Column, want[0].Line, want[0].Column)
		}
	}
}

// TestLongSingleLine scans a 10 MB minified line with secrets spread along it.
func TestLongSingleLine(t *testing.T) {
	e := testEngine(t, Options{})
	var b bytes.Buffer
	var cols []int
	for b.Len() < 10<<20 {
		b.WriteString(`{"a":"b","c":[1,2,3],"d":"e"},`)
		if b.Len()%(1<<20) < 31 {
			cols = append(cols, b.Len()+2)
			b.WriteString(`"` + tok + `",`)
		}
	}
	got, err := e.Scan(Blob{Path: "min.js", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b.Bytes())), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(cols) {
		t.Fatalf("found %d, want %d", len(got), len(cols))
	}
	for i, f := range got {
		if f.Line != 1 || f.Column != cols[i] {
			t.Errorf("finding %d at %d:%d, want 1:%d", i, f.Line, f.Column, cols[i])
		}
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, fmt.Errorf("disk on fire")
	}
	n := min(len(p), r.n)
	copy(p, bytes.Repeat([]byte("a\n"), n)[:n])
	r.n -= n
	return n, nil
}

func TestReadErrorIsReported(t *testing.T) {
	e := testEngine(t, Options{})
	_, err := e.Scan(Blob{Path: "f", Open: func() (io.ReadCloser, error) { return io.NopCloser(&failingReader{n: 100}), nil }})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v, want the read error", err)
	}
}

func percentAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// A rule set without rules (a config of only [extend] builtin = false) scans
// every file to nothing; it used to panic building an empty automaton.
func TestNoRules(t *testing.T) {
	e, err := New(&rules.Set{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second call used to hit a nil automaton
		fs, err := e.Scan(Blob{Path: "a.txt", Data: []byte("Authorization: Token 8f3kQ9zLm2Xv7Rt5Wp1Yb6Nc4Hd0Js3A\n")})
		if err != nil || len(fs) != 0 {
			t.Fatalf("findings %v, err %v", fs, err)
		}
		fs, err = e.Scan(Blob{Path: "b.txt", Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("token\n")), nil }})
		if err != nil || len(fs) != 0 {
			t.Fatalf("stream: findings %v, err %v", fs, err)
		}
	}
}

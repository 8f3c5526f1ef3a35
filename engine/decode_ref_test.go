package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sameSegments fails unless findEncoded and findEncodedRef agree on data[from:to].
// It returns how many segments they found.
func sameSegments(t *testing.T, label string, data []byte, from, to int) int {
	t.Helper()
	got, want := findEncoded(data, from, to), findEncodedRef(data, from, to)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s [%d:%d]: findEncoded gives %d segments, the reference %d", label, from, to, len(got), len(want))
	}
	return len(got)
}

func TestFindEncodedMatchesReference(t *testing.T) {
	tests := []struct{ name, in string }{
		{"base64 std", "x = \"dG9rZW46IGdocF8xMjM0NTY3ODkwYWJjZGVmZ2hpams=\"\n"},
		{"base64 url", "dG9rZW46IGdocF8xMjM0NTY3ODkwYWJjZGVm-_aGlqaw"},
		{"mixed alphabets", "dG9rZW46IGdocF8xMjM0NTY3+_ODkwYWJjZGVm"},
		{"identifier", "internal/runtime/syscall/linux TestSomethingVeryLongIndeed"},
		{"hex", "74686973206973206120736563726574207465787420666f7220796f75"},
		{"percent", "q=token%3Dghp_1234567890abcdefghij%26x%3D1 100%"},
		{"unicode escape", `s := "\u0074\u006f\u006b\u0065\u006e\u003d\u0061\u0062\u0063\u0064"`},
		{"surrogates", `\uD83D\uDE00\uD83D\uDE00\uD83D\uDE00 \n\t\\u0041`},
		{"plain escapes only", `fmt.Printf("a\n\tb\\c %d%%\n", x)`},
	}
	found := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.in)
			for from := 0; from <= len(b); from += max(1, len(b)/7) {
				for to := from; to <= len(b); to += max(1, len(b)/5) {
					found += sameSegments(t, tt.name, b, from, to)
				}
			}
		})
	}
	if found < 20 {
		t.Fatalf("%d segments in all: the cases exercise too little", found)
	}
}

// TestFindEncodedMatchesReferenceRandom compares the two on text built from runs of
// every length around minBase64, padding, separators, escapes and real encodings.
func TestFindEncodedMatchesReferenceRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_"
	pieces := []func() string{
		func() string { // a run of random length
			b := make([]byte, rng.IntN(2*minBase64+2))
			for i := range b {
				b[i] = alpha[rng.IntN(len(alpha))]
			}
			return string(b)
		},
		func() string {
			return base64.StdEncoding.EncodeToString([]byte("token = secret value " + strings.Repeat("x", rng.IntN(40))))
		},
		func() string { return hex.EncodeToString([]byte("password: hunter2 and more text")) },
		func() string { // long runs of binary data, and of text in various scripts
			b := make([]byte, rng.IntN(200))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			if rng.IntN(2) == 0 {
				b = []byte(strings.Repeat("clé=ключ ", 1+rng.IntN(20)))
				b = b[:rng.IntN(len(b))]
			}
			return base64.RawURLEncoding.EncodeToString(b)
		},
		func() string {
			return []string{" ", "=", "==", ".", "\n", "\"", ",", "%", "%4", "%41", `\u00`, `\u0041`, `\n`, "\x00", "é"}[rng.IntN(15)]
		},
	}
	found := 0
	for range 3000 {
		var sb strings.Builder
		for range 1 + rng.IntN(30) {
			sb.WriteString(pieces[rng.IntN(len(pieces))]())
		}
		b := []byte(sb.String())
		from := rng.IntN(len(b) + 1)
		to := from + rng.IntN(len(b)-from+1)
		found += sameSegments(t, "random", b, 0, len(b))
		sameSegments(t, "random", b, from, to)
	}
	if found < 1000 {
		t.Fatalf("%d segments in all: the texts exercise too little", found)
	}
}

// TestFindEncodedMatchesReferenceOnGoroot compares the two on real source.
func TestFindEncodedMatchesReferenceOnGoroot(t *testing.T) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skip("go env GOROOT:", err)
	}
	root := filepath.Join(strings.TrimSpace(string(goroot)), "src")
	n, total, segs := 0, 0, 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || total > 8<<20 {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil || IsBinary(data) {
			return nil
		}
		n++
		total += len(data)
		segs += sameSegments(t, p, data, 0, len(data))
		if len(data) > 100 {
			sameSegments(t, p, data, len(data)/3, 2*len(data)/3)
		}
		return nil
	})
	if n == 0 {
		t.Skip("no GOROOT/src")
	}
	t.Logf("%d files, %d bytes, %d segments", n, total, segs)
}

// FuzzFindEncodedMatchesReference compares the two on arbitrary input and bounds.
func FuzzFindEncodedMatchesReference(f *testing.F) {
	for _, s := range []string{"%41%4", `\u00`, `\uD83D\uDE00`, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", "4142434445464748494a4b4c4d4e4f505152535455565758", "a%2Fb%2Fc%3Dtoken_value_here_ok"} {
		f.Add([]byte(s), uint16(0), uint16(0xffff))
	}
	f.Fuzz(func(t *testing.T, data []byte, from, to uint16) {
		lo := min(int(from), len(data))
		hi := min(max(int(to), lo), len(data))
		sameSegments(t, "fuzz", data, lo, hi)
	})
}

// findEncoded returns decodable runs starting in buf[from:to] whose decoded form is text.
func findEncodedRef(buf []byte, from, to int) []segment {
	var segs []segment
	// base64 and hex runs. Any run of minBase64 or more bytes that starts in
	// [i, i+minBase64) covers byte i+minBase64-1, so probing that byte skips
	// minBase64 bytes at a time through ordinary text.
	for i := from; i < to; {
		probe := i + minBase64 - 1
		if probe >= len(buf) {
			break
		}
		if class[buf[probe]]&classB64 == 0 {
			i = probe + 1
			continue
		}
		start := probe
		for start > i && class[buf[start-1]]&classB64 != 0 {
			start--
		}
		j := probe + 1
		for j < len(buf) && j-start < maxSegment && class[buf[j]]&classB64 != 0 {
			j++
		}
		end := j
		for end < len(buf) && end-j < 2 && buf[end] == '=' {
			end++
		}
		i = end
		if start >= to || j-start < minBase64 || (start == from && from > 0 && class[buf[from-1]]&classB64 != 0) {
			continue // too short, or owned by the chunk before
		}
		run := buf[start:j]
		if isHexRunRef(run) {
			if len(run) >= minHex && len(run)%2 == 0 {
				if d, err := hex.DecodeString(string(run)); err == nil && isText(d) {
					segs = append(segs, segment{start, j, d, "hex"})
				}
			}
		} else if d := decodeBase64Ref(run); d != nil && isText(d) {
			segs = append(segs, segment{start, end, d, "base64"})
		}
	}
	// percent-encoding and \u escapes, found by their marker bytes.
	segs = appendEscapedRef(segs, buf, from, to, '%', "percent", percentDecode)
	segs = appendEscapedRef(segs, buf, from, to, '\\', "unicode-escape", unicodeUnescape)
	return segs
}

func appendEscapedRef(segs []segment, buf []byte, from, to int, mark byte, name string, decode func([]byte) ([]byte, bool)) []segment {
	for i := from; i < to; {
		k := bytes.IndexByte(buf[i:to], mark)
		if k < 0 {
			break
		}
		p := i + k
		s := p
		for s > 0 && p-s < maxSegment && class[buf[s-1]]&classURLish != 0 {
			s--
		}
		e := p + 1
		for e < len(buf) && e-s < maxSegment && class[buf[e]]&classURLish != 0 {
			e++
		}
		if s < from && from > 0 {
			i = e // begins in an earlier chunk, which owns it
			continue
		}
		if d, ok := decode(buf[s:e]); ok && isText(d) {
			segs = append(segs, segment{s, e, d, name})
		}
		i = e
	}
	return segs
}

func decodeBase64Ref(b []byte) []byte {
	std := bytes.ContainsAny(b, "+/")
	url := bytes.ContainsAny(b, "-_")
	if std && url {
		return nil
	}
	if !bytes.ContainsAny(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") || !bytes.ContainsAny(b, "abcdefghijklmnopqrstuvwxyz") {
		return nil
	}
	if len(b)%4 == 1 {
		b = b[:len(b)-1]
	}
	enc := base64.RawStdEncoding
	if url {
		enc = base64.RawURLEncoding
	}
	d := make([]byte, enc.DecodedLen(len(b)))
	n, err := enc.Decode(d, b)
	if err != nil {
		return nil
	}
	return d[:n]
}

func isHexRunRef(b []byte) bool {
	for _, c := range b {
		if class[c]&classHex == 0 {
			return false
		}
	}
	return true
}

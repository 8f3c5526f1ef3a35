package engine

import (
	"bytes"
	"io"
	"testing"
)

// FuzzScan checks that the engine never panics, that every finding lies inside the
// input, and that a chunked (streamed) scan reports exactly what an in-memory scan does.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"token = " + tok,
		"Authorization: Token 8f3kQ9zLm2Xv7Rt5Wp1Yb6Nc4Hd0Js3A\r\n",
		"\xff\xfe\x00" + tok,
		"%67%68%70%5f" + tok[4:],
		`\u0067\u0068` + tok[2:],
		"Z2hwX1I0bmQwbVQwa2VuVjRsdTNYcTlacDJMbThLZDdXZjZKaDVHcw==",
	} {
		f.Add([]byte(s), uint16(0))
	}
	e := testEngine(f, Options{ChunkSize: 1})
	f.Fuzz(func(t *testing.T, data []byte, pad uint16) {
		// pad moves the input across the chunk boundary.
		in := append(bytes.Repeat([]byte("a\n"), int(pad)%(e.opts.ChunkSize/2)), data...)
		mem := e.ScanBytes("f", in)
		streamed, err := e.Scan(Blob{Path: "f", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(in)), nil }})
		if err != nil {
			t.Fatal(err)
		}
		if len(mem) != len(streamed) {
			t.Fatalf("in memory %d findings, streamed %d", len(mem), len(streamed))
		}
		for i := range mem {
			a, b := mem[i], streamed[i]
			if a.RuleID != b.RuleID || a.Line != b.Line || a.Column != b.Column || a.Secret != b.Secret {
				t.Fatalf("finding %d differs: %+v vs %+v", i, a, b)
			}
			if a.Line < 1 || a.Column < 1 || a.EndLine < a.Line {
				t.Fatalf("bad location %+v", a)
			}
		}
	})
}

// FuzzDecoders checks the decoders never panic and never report segments outside the input.
func FuzzDecoders(f *testing.F) {
	for _, s := range []string{"%41%4", `\u00`, `\uD83D\uDE00`, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", "4142434445464748494a4b4c4d4e4f505152535455565758"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, seg := range findEncoded(data, 0, len(data)) {
			if seg.start < 0 || seg.end > len(data) || seg.start >= seg.end {
				t.Fatalf("segment %d..%d outside input of %d", seg.start, seg.end, len(data))
			}
		}
		percentDecode(data)
		unicodeUnescape(data)
	})
}

package engine_test

import (
	"testing"

	"github.com/tokenward/tokenward/engine/enginetest"
)

func TestSpanningHits(t *testing.T) {
	eng := enginetest.Builtin(t)
	if r := eng.Reach(); r < 7188 {
		t.Errorf("Reach() = %d, want at least the private-key rules' window (7188)", r)
	}
	for _, tc := range []struct {
		text string
		hits bool
	}{
		{"x := 1\n-----begin RSA PRIVATE KEY-----\n", true}, // case folded, as the scan matches
		{"  kind: Secret\n", true},
		{"token := \"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\"\n", false}, // a single-line rule
		{"ordinary code\n", false},
	} {
		hits := eng.SpanningHits(nil, []byte(tc.text), 0, len(tc.text))
		if (len(hits) > 0) != tc.hits {
			t.Errorf("SpanningHits(%q) = %v, want hits: %v", tc.text, hits, tc.hits)
		}
		for _, h := range hits {
			if h[0] < 0 || h[1] > len(tc.text) || h[0] >= h[1] {
				t.Errorf("SpanningHits(%q): hit %v outside the text", tc.text, h)
			}
		}
	}
	// Occurrences overlapping the range only, found beyond it too.
	text := []byte("aaaa -----BEGIN RSA PRIVATE KEY----- bbbb")
	at := 5
	for _, tc := range []struct {
		lo, hi int
		n      int
	}{{0, at, 0}, {0, at + 1, 1}, {at + 10, at + 11, 1}, {at + 31, len(text), 0}, {len(text) - 1, len(text) + 50, 0}} {
		if hits := eng.SpanningHits(nil, text, tc.lo, tc.hi); len(hits) != tc.n {
			t.Errorf("SpanningHits(%d, %d) = %v, want %d hits", tc.lo, tc.hi, hits, tc.n)
		}
	}
}

package engine_test

import (
	"testing"

	"github.com/tokenward/tokenward/engine/enginetest"
)

func TestSpanningHits(t *testing.T) {
	eng := enginetest.Builtin(t)
	if r := eng.Reach(); r < 7000 {
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
		hits := eng.SpanningHits(nil, []byte(tc.text))
		if (len(hits) > 0) != tc.hits {
			t.Errorf("SpanningHits(%q) = %v, want hits: %v", tc.text, hits, tc.hits)
		}
		for _, h := range hits {
			if h[0] < 0 || h[1] > len(tc.text) || h[0] >= h[1] {
				t.Errorf("SpanningHits(%q): hit %v outside the text", tc.text, h)
			}
		}
	}
}

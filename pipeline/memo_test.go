package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/tokenward/tokenward/finding"
)

type countingVerifier struct{ n int }

func (c *countingVerifier) Verify(_ context.Context, fs []finding.Finding) []finding.Finding {
	out := make([]finding.Finding, len(fs))
	for i, f := range fs {
		c.n++
		f.Verification = &finding.Verification{Status: finding.StatusInvalid, CheckedAt: "2026-06-01T12:00:00Z"}
		out[i] = f
	}
	return out
}

type memo map[string]finding.Verification

func (m memo) Verification(fps []string) (map[string]finding.Verification, error) {
	out := map[string]finding.Verification{}
	for _, fp := range fps {
		if v, ok := m[fp]; ok {
			out[fp] = v
		}
	}
	return out, nil
}

// A remembered verification is reused while younger than ReverifyAfter; older
// ones, undated ones and unknown ones are checked again.
func TestVerifyMemoAge(t *testing.T) {
	now := time.Date(2026, 6, 2, 12, 0, 0, 0, time.UTC)
	m := memo{
		"fresh":   {Status: finding.StatusLive, CheckedAt: "2026-06-02T00:00:00Z"},
		"old":     {Status: finding.StatusLive, CheckedAt: "2026-05-01T00:00:00Z"},
		"undated": {Status: finding.StatusLive},
		"unknown": {Status: finding.StatusUnknown, CheckedAt: "2026-06-02T11:00:00Z"},
	}
	for _, c := range []struct {
		after time.Duration
		want  map[string]string
		calls int
	}{
		{24 * time.Hour, map[string]string{"fresh": "live", "old": "invalid", "undated": "invalid", "unknown": "invalid"}, 3},
		{0, map[string]string{"fresh": "live", "old": "live", "undated": "live", "unknown": "invalid"}, 1},
	} {
		p := &Pipeline{opts: Options{ReverifyAfter: c.after, Now: func() time.Time { return now }}}
		var fs []finding.Finding
		for fp := range c.want {
			fs = append(fs, finding.Finding{Fingerprint: fp, Kind: finding.KindSecret})
		}
		v := &countingVerifier{}
		out, err := verifyFindings(context.Background(), v, m, p.fresh, fs)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range out {
			if got := f.Verification.Status; got != c.want[f.Fingerprint] {
				t.Errorf("after %v: %s is %s, want %s", c.after, f.Fingerprint, got, c.want[f.Fingerprint])
			}
		}
		if v.n != c.calls {
			t.Errorf("after %v: %d checks, want %d", c.after, v.n, c.calls)
		}
	}
}

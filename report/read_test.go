package report

import (
	"strings"
	"testing"

	"github.com/tokenward/tokenward/source"
)

func TestRead(t *testing.T) {
	cases := []struct {
		name, in string
		n        int
		err      string
	}{
		{"json array", `[{"rule_id":"a","secret":"s1","fingerprint":"f1"},{"rule_id":"b"}]`, 2, ""},
		{"jsonl", "{\"rule_id\":\"a\",\"secret\":\"s1\"}\n\n{\"rule_id\":\"b\"}\n", 2, ""},
		{"empty", "  \n", 0, ""},
		{"sarif", `{"version":"2.1.0","runs":[]}`, 0, "SARIF"},
		{"no rule id", `[{"secret":"x"}]`, 0, "has no rule_id"},
		{"garbage", "hello", 0, "record 1"},
		{"jsonl with stats", "{\"rule_id\":\"a\"}\n{\"stats\":{\"files\":3,\"skipped\":[{\"path\":\"x\",\"reason\":\"binary\"}]}}\n", 1, ""},
	}
	for _, c := range cases {
		fs, err := Read(strings.NewReader(c.in), "r.json")
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "r.json")):
			t.Errorf("%s: error %v, want ~%q", c.name, err, c.err)
		case c.err == "" && (err != nil || len(fs) != c.n):
			t.Errorf("%s: %d findings, %v", c.name, len(fs), err)
		}
	}
	fs, _ := Read(strings.NewReader(`{"rule_id":"a","secret":"s1","verification":{"status":"live"}}`), "x")
	if fs[0].Secret != "s1" || fs[0].Verification.Status != "live" {
		t.Errorf("decoded %+v", fs[0])
	}
}

// Skipped content is named in the JSONL stats record and the SARIF run
// properties, and what Write produces Read reads back.
func TestStatsNameSkipped(t *testing.T) {
	sum := &Summary{Files: 2, BytesScanned: 10, Skipped: []source.Skip{{Path: "big.iso", Reason: "larger than --max-file-size"}}}
	for _, format := range []string{"jsonl", "sarif"} {
		var b strings.Builder
		if err := Write(&b, sample(), Options{Format: format, Summary: sum}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), `"path":"big.iso"`) && !strings.Contains(b.String(), `"path": "big.iso"`) {
			t.Errorf("%s: skipped file not named:\n%s", format, b.String())
		}
		if format == "jsonl" {
			fs, err := Read(strings.NewReader(b.String()), "r.jsonl")
			if err != nil || len(fs) != len(sample()) {
				t.Errorf("read back %d findings (%v), want %d", len(fs), err, len(sample()))
			}
		}
	}
}

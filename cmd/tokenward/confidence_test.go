package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestMinConfidence: --min-confidence keeps findings at least as sure as the
// level, and the exit code follows what is kept.
func TestMinConfidence(t *testing.T) {
	dir := tree(t, map[string]string{
		"deploy.sh":           "export GITHUB_TOKEN=ghp_Zk3qP9vR2xL7mT4wB8nCq5dF1gH6jK0sA2eY\n",
		"config.yml":          "client_secret: Zk3qP9vR2xL7mT4w\n",
		"src/test/config.yml": "client_secret: Hn4Ws8Kd2Lq7Zm3X\n",
	})
	tests := []struct {
		min   string
		want  []string // confidence of each finding, sorted
		code  int
		usage bool
	}{
		{"low", []string{"high", "low", "medium"}, 1, false},
		{"medium", []string{"high", "medium"}, 1, false},
		{"high", []string{"high"}, 1, false},
		{"certain", nil, 2, true},
	}
	for _, tt := range tests {
		r := tokenward(t, dir, "", "scan", ".", "-f", "jsonl", "--min-confidence", tt.min)
		if r.code != tt.code {
			t.Fatalf("--min-confidence %s: exit %d, want %d (stderr %s)", tt.min, r.code, tt.code, r.stderr)
		}
		if tt.usage {
			if !strings.Contains(r.stderr, "--min-confidence") {
				t.Errorf("--min-confidence %s: stderr %q does not name the flag", tt.min, r.stderr)
			}
			continue
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var f struct {
				RuleID     string `json:"rule_id"`
				Confidence string `json:"confidence"`
			}
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				t.Fatalf("--min-confidence %s: %v in %q", tt.min, err, line)
			}
			if f.RuleID != "" { // not the summary line
				got = append(got, f.Confidence)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("--min-confidence %s: confidences %v, want %v", tt.min, got, tt.want)
		}
	}
}

package finding

import (
	"slices"
	"testing"
)

func TestMinConfidence(t *testing.T) {
	all := []Finding{{RuleID: "a", Confidence: ConfidenceHigh}, {RuleID: "b", Confidence: ConfidenceMedium},
		{RuleID: "c", Confidence: ConfidenceLow}, {RuleID: "d"}}
	tests := []struct {
		min  string
		want []string
	}{
		{"", []string{"a", "b", "c", "d"}},
		{ConfidenceLow, []string{"a", "b", "c", "d"}},
		{ConfidenceMedium, []string{"a", "b", "d"}}, // no level counts as medium
		{ConfidenceHigh, []string{"a"}},
	}
	for _, tt := range tests {
		var ids []string
		for _, f := range MinConfidence(slices.Clone(all), tt.min) {
			ids = append(ids, f.RuleID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("MinConfidence(%q) kept %v, want %v", tt.min, ids, tt.want)
		}
	}
}

func TestLowerConfidence(t *testing.T) {
	for in, want := range map[string]string{ConfidenceHigh: ConfidenceMedium, ConfidenceMedium: ConfidenceLow, ConfidenceLow: ConfidenceLow} {
		if got := LowerConfidence(in); got != want {
			t.Errorf("LowerConfidence(%q) = %q, want %q", in, got, want)
		}
	}
	if !ValidConfidence("high") || ValidConfidence("certain") {
		t.Error("ValidConfidence accepts only high, medium and low")
	}
}

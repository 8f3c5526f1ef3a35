package finding

import "testing"

func TestSeverityOrder(t *testing.T) {
	for _, c := range []struct {
		s     string
		rank  int
		raise string
	}{
		{"critical", 0, "critical"}, {"high", 1, "critical"}, {"medium", 2, "high"},
		{"low", 3, "medium"}, {"info", 4, "low"}, {"HIGH", 1, "HIGH"}, {"bogus", 5, "bogus"},
	} {
		if got := SeverityRank(c.s); got != c.rank {
			t.Errorf("SeverityRank(%q) = %d, want %d", c.s, got, c.rank)
		}
		if got := RaiseSeverity(c.s); got != c.raise {
			t.Errorf("RaiseSeverity(%q) = %q, want %q", c.s, got, c.raise)
		}
	}
	if !ValidSeverity("low") || ValidSeverity("Low") {
		t.Error("ValidSeverity takes the lower-case names only")
	}
}

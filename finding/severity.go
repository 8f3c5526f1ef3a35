package finding

import (
	"slices"
	"strings"
)

// Severity ranks how bad a finding is.
type Severity = string

// Severities, most severe first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Severities lists every severity, most severe first: the one ordering that
// rules, the engine, the hygiene review and every report use.
var Severities = []Severity{Critical, High, Medium, Low, Info}

// SeverityRank is s's position in Severities (0 is most severe), ignoring case;
// an unknown severity ranks after all of them.
func SeverityRank(s Severity) int {
	if i := slices.Index(Severities, strings.ToLower(s)); i >= 0 {
		return i
	}
	return len(Severities)
}

// ValidSeverity reports whether s is one of Severities.
func ValidSeverity(s Severity) bool { return slices.Contains(Severities, s) }

// RaiseSeverity returns the next severity up, capped at critical; an unknown
// severity is returned unchanged.
func RaiseSeverity(s Severity) Severity {
	i := slices.Index(Severities, s)
	if i < 0 {
		return s
	}
	return Severities[max(i-1, 0)]
}

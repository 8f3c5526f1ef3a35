package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

// Apply is what --verify does on scan, git and sweep: it verifies fs against the
// rule set and, with onlyLive, keeps the findings verified live and those whose
// check was unknown (LiveOrUnknown: an unknown is never dropped as if it were
// dead; Unverified describes them). The error reports an invalid spec or
// endpoint; network trouble never fails it (it makes findings unknown).
func Apply(ctx context.Context, set *rules.Set, fs []finding.Finding, opts Options, onlyLive bool) ([]finding.Finding, error) {
	v, err := New(set, opts)
	if err != nil {
		return nil, err
	}
	out := v.Verify(ctx, fs)
	if !onlyLive {
		return out, nil
	}
	return LiveOrUnknown(out), nil
}

// LiveOrUnknown returns the findings verified live and those whose check gave
// unknown (a provider failure: 429, 5xx, a timeout, an HTML page, a refused
// connection), which --only-live must not drop.
func LiveOrUnknown(fs []finding.Finding) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.Verification != nil && (f.Verification.Status == finding.StatusLive || f.Verification.Status == finding.StatusUnknown) {
			out = append(out, f)
		}
	}
	return out
}

// Unverified describes each finding whose check gave unknown, naming the rule,
// the location and what the provider did, one line each; nil when none did.
func Unverified(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		if f.Verification == nil || f.Verification.Status != finding.StatusUnknown {
			continue
		}
		where := f.File
		if f.Line > 0 {
			where = fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		detail := f.Verification.Detail
		if detail == "" {
			detail = "no usable answer"
		}
		out = append(out, fmt.Sprintf("%s (%s): %s", f.RuleID, where, detail))
	}
	return out
}

// OnlyLive returns the findings verified live.
func OnlyLive(fs []finding.Finding) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.Verification != nil && f.Verification.Status == finding.StatusLive {
			out = append(out, f)
		}
	}
	return out
}

// ParseEndpoints parses --endpoint values of the form RULE_OR_FAMILY=URL.
func ParseEndpoints(vals []string) (map[string]string, error) {
	m := map[string]string{}
	for _, s := range vals {
		k, u, ok := strings.Cut(s, "=")
		k, u = strings.TrimSpace(k), strings.TrimSpace(u)
		if !ok || k == "" || u == "" {
			return nil, fmt.Errorf("--endpoint %q: want RULE_OR_FAMILY=URL, e.g. github=https://ghe.example.com/api/v3", s)
		}
		if err := rules.CheckBaseURL(u); err != nil {
			return nil, fmt.Errorf("--endpoint %s: %v", k, err)
		}
		m[strings.ToLower(k)] = u
	}
	return m, nil
}

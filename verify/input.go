package verify

import (
	"fmt"
	"strings"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

// FindingsForFingerprints builds a finding for each fingerprint from secrets
// given as text (stdin): every non-empty line is a candidate secret, and so is
// every match of a rule's regex in the text (which also supplies its capture
// groups). A fingerprint is hash(rule id, secret), so the rule is found by
// trying each rule. It fails naming the fingerprints no candidate matches.
func FindingsForFingerprints(set *rules.Set, fingerprints []string, text string) ([]finding.Finding, error) {
	var cands []string
	for _, line := range strings.Split(text, "\n") {
		if s := strings.TrimSpace(line); s != "" {
			cands = append(cands, s)
		}
	}
	byFP := map[string]finding.Finding{}
	want := map[string]bool{}
	for _, fp := range fingerprints {
		want[fp] = true
	}
	// wanted names the fingerprint asked for: fp itself, or its legacy form.
	wanted := func(fp string) (string, bool) {
		if want[fp] {
			return fp, true
		}
		if l, ok := finding.LegacyOf(fp); ok && want[l] {
			return l, true
		}
		return "", false
	}
	if set != nil {
		for _, r := range set.Rules {
			for _, c := range cands {
				if fp, ok := wanted(finding.Fingerprint(r.ID, c)); ok {
					if _, done := byFP[fp]; !done {
						byFP[fp] = newFinding(r, c, nil)
					}
				}
			}
			if r.MaxLen == 0 {
				continue
			}
			for _, m := range r.Regexp().FindAllStringSubmatchIndex(text, -1) {
				g := r.SecretGroup
				if g > r.Regexp().NumSubexp() || m[2*g] < 0 {
					continue
				}
				secret := text[m[2*g]:m[2*g+1]]
				fp, ok := wanted(finding.Fingerprint(r.ID, secret))
				if !ok {
					continue
				}
				groups := map[string]string{}
				for i, name := range r.Regexp().SubexpNames() {
					if name != "" && m[2*i] >= 0 {
						groups[name] = text[m[2*i]:m[2*i+1]]
					}
				}
				byFP[fp] = newFinding(r, secret, groups)
			}
		}
	}
	var out []finding.Finding
	var missing []string
	for _, fp := range fingerprints {
		if f, ok := byFP[fp]; ok {
			out = append(out, f)
		} else {
			missing = append(missing, fp)
		}
	}
	if len(missing) > 0 {
		return out, fmt.Errorf("no secret on stdin has fingerprint %s under any rule (give one secret per line)", strings.Join(missing, ", "))
	}
	return out, nil
}

func newFinding(r *rules.Rule, secret string, groups map[string]string) finding.Finding {
	return finding.Finding{RuleID: r.ID, Description: r.Description, Severity: r.Severity, Confidence: finding.ConfidenceHigh, Kind: finding.KindSecret,
		Secret: secret, Redacted: finding.Redact(secret), Fingerprint: finding.Fingerprint(r.ID, secret), Groups: groups}
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/verify"
	"github.com/tokenward/tokenward/verify/check"
)

// ruleJSON is one rule in `tokenward rules list --format json`.
type ruleJSON struct {
	ID          string   `json:"id"`
	Family      string   `json:"family"` // the verification family (--endpoint FAMILY=URL), else the rule's first tag, its provider
	Description string   `json:"description"`
	Severity    string   `json:"severity"`
	Tags        []string `json:"tags"`
	Builtin     bool     `json:"builtin"`
	Verify      bool     `json:"verify"` // has a live check ([rule.verify])
	Revoke      bool     `json:"revoke"` // can be revoked ([rule.revoke])
	// Verifier names the Go check of [rule.verify] ("" for an HTTP spec).
	Verifier string `json:"verifier,omitempty"`
	// RevokeFamily is the --endpoint key of revocation when it differs from
	// Family (aws-iam for AWS keys).
	RevokeFamily string `json:"revoke_family,omitempty"`
	// Access: a live result carries verification.access, what the credential
	// reaches (identity, scopes, resources): a [rule.verify.access] table, or a
	// Go check that maps access.
	Access bool `json:"access"`
	// Composite: the credential has several parts found together
	// ([[rule.require]]); Requires names them.
	Composite bool          `json:"composite"`
	Requires  []requireJSON `json:"requires,omitempty"`
}

type requireJSON struct {
	ID          string `json:"id"`
	WithinLines *int   `json:"within_lines,omitempty"` // absent: anywhere in the file
	Optional    bool   `json:"optional,omitempty"`
}

// rulesSummary counts what `rules list --format json --summary` reports.
type rulesSummary struct {
	Rules     int `json:"rules"`
	Verify    int `json:"verify"`
	Revoke    int `json:"revoke"`
	Access    int `json:"access"`
	Composite int `json:"composite"`
	// Providers with at least one rule that verifies, revokes, maps access.
	VerifyProviders int      `json:"verify_providers"`
	RevokeProviders int      `json:"revoke_providers"`
	AccessProviders int      `json:"access_providers"`
	Families        []string `json:"families"` // families with a live check
}

// describeRules turns the rule set into the objects of the JSON listing.
func describeRules(set *rules.Set) []ruleJSON {
	checks := verify.Builtin()
	out := make([]ruleJSON, 0, len(set.Rules))
	for _, r := range set.Rules {
		j := ruleJSON{ID: r.ID, Description: r.Description, Severity: r.Severity, Tags: r.Tags,
			Builtin: r.Builtin(), Verify: r.Verify != nil, Revoke: r.Revoke != nil, Composite: len(r.Require) > 0}
		if j.Tags == nil {
			j.Tags = []string{}
		}
		for _, q := range r.Require {
			j.Requires = append(j.Requires, requireJSON{ID: q.ID, WithinLines: q.WithinLines, Optional: q.Optional})
		}
		if r.Verify != nil {
			j.Family, j.Verifier = r.Verify.Family, r.Verify.Verifier
			if c, ok := checks[r.Verify.Verifier]; ok {
				if j.Family == "" {
					j.Family = c.Family()
				}
				if ar, ok := c.(check.AccessReporter); ok && ar.ReportsAccess() {
					j.Access = true
				}
			}
			if r.Verify.Access != nil {
				j.Access = true
			}
		}
		if r.Revoke != nil {
			fam := r.Revoke.Family
			if c, ok := checks[r.Revoke.Verifier]; ok && fam == "" {
				fam = c.Family()
			}
			if fam != "" && fam != j.Family {
				j.RevokeFamily = fam
			}
		}
		if j.Family == "" && len(r.Tags) > 0 {
			j.Family = r.Tags[0] // rules list their provider first
		}
		out = append(out, j)
	}
	return out
}

func summarize(rs []ruleJSON) rulesSummary {
	s := rulesSummary{Rules: len(rs), Families: []string{}}
	fams := map[string]map[string]bool{"verify": {}, "revoke": {}, "access": {}}
	for _, r := range rs {
		for _, c := range []struct {
			on   bool
			n    *int
			kind string
		}{{r.Verify, &s.Verify, "verify"}, {r.Revoke, &s.Revoke, "revoke"}, {r.Access, &s.Access, "access"}} {
			if c.on {
				*c.n++
				fams[c.kind][r.Family] = true
			}
		}
		if r.Composite {
			s.Composite++
		}
	}
	s.VerifyProviders, s.RevokeProviders, s.AccessProviders = len(fams["verify"]), len(fams["revoke"]), len(fams["access"])
	for f := range fams["verify"] {
		s.Families = append(s.Families, f)
	}
	sort.Strings(s.Families)
	return s
}

// writeRulesJSON writes the rule set as a JSON array, one object per rule, or
// with summary the counts instead.
func writeRulesJSON(w io.Writer, set *rules.Set, summary bool) error {
	rs := describeRules(set)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if summary {
		return enc.Encode(summarize(rs))
	}
	return enc.Encode(rs)
}

// writeProviderTable writes the provider table of docs/providers.md from the
// JSON listing: one row per family with a live check.
func writeProviderTable(w io.Writer, set *rules.Set) error {
	rs := describeRules(set)
	s := summarize(rs)
	type row struct {
		verify, revoke, access, composite []string
	}
	byFam := map[string]*row{}
	for _, r := range rs {
		if !r.Verify {
			continue
		}
		x := byFam[r.Family]
		if x == nil {
			x = &row{}
			byFam[r.Family] = x
		}
		x.verify = append(x.verify, r.ID)
		if r.Revoke {
			x.revoke = append(x.revoke, r.ID)
		}
		if r.Access {
			x.access = append(x.access, r.ID)
		}
		if r.Composite {
			var parts []string
			for _, q := range r.Requires {
				if q.Optional {
					parts = append(parts, "("+q.ID+")")
				} else {
					parts = append(parts, q.ID)
				}
			}
			x.composite = append(x.composite, r.ID+" + "+strings.Join(parts, " + "))
		}
	}
	fams := make([]string, 0, len(byFam))
	for f := range byFam {
		fams = append(fams, f)
	}
	slices.Sort(fams)
	var b strings.Builder
	b.WriteString("# Verified providers\n\n")
	b.WriteString("<!-- Generated by `tokenward rules list --format markdown` from `rules list --format json`; DO NOT EDIT.\n")
	b.WriteString("     Regenerate: go run ./cmd/tokenward rules list --format markdown > docs/providers.md -->\n\n")
	fmt.Fprintf(&b, "%d rules: %d with a live check (%d providers), %d revocable (%d providers), %d with an access map (%d providers), %d composite.\n\n",
		s.Rules, s.Verify, s.VerifyProviders, s.Revoke, s.RevokeProviders, s.Access, s.AccessProviders, s.Composite)
	b.WriteString("`--endpoint FAMILY=URL` sends a family's checks to another base URL.\n\n")
	b.WriteString("| family | rules with a live check | revocable | access map | composite |\n|---|---|---|---|---|\n")
	count := func(ids []string, of int) string {
		if len(ids) == 0 {
			return ""
		}
		return fmt.Sprintf("%d/%d", len(ids), of)
	}
	for _, f := range fams {
		x := byFam[f]
		comp := ""
		if len(x.composite) > 0 {
			comp = "`" + strings.Join(x.composite, "`, `") + "`"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", f, strings.Join(x.verify, "`, `"),
			count(x.revoke, len(x.verify)), count(x.access, len(x.verify)), comp)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

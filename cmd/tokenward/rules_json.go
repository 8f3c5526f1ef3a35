package main

import (
	"encoding/json"
	"io"

	"github.com/tokenward/tokenward/rules"
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
	// Access: the live check reports what the credential reaches (identity,
	// scopes): a verify step extracts values from the provider's answer.
	Access bool `json:"access"`
	// Composite: the credential has several parts found together. tokenward rules
	// match one secret each, so this is false until rules can name companions.
	Composite bool `json:"composite"`
}

// writeRulesJSON writes the rule set as a JSON array, one object per rule.
func writeRulesJSON(w io.Writer, set *rules.Set) error {
	out := make([]ruleJSON, 0, len(set.Rules))
	for _, r := range set.Rules {
		j := ruleJSON{ID: r.ID, Description: r.Description, Severity: r.Severity, Tags: r.Tags,
			Builtin: r.Builtin(), Verify: r.Verify != nil, Revoke: r.Revoke != nil}
		if j.Tags == nil {
			j.Tags = []string{}
		}
		if r.Verify != nil {
			j.Family = r.Verify.Family
			for _, st := range r.Verify.Steps {
				if len(st.Extract) > 0 {
					j.Access = true
				}
			}
		}
		if j.Family == "" && len(r.Tags) > 0 {
			j.Family = r.Tags[0] // rules list their provider first
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

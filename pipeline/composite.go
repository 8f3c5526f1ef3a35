package pipeline

import (
	"sort"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

// Compose joins composite credentials, the stage after the review. A
// finding of a rule with [[rule.require]] entries gets, for each entry, the
// nearest finding of the companion rule in the same file of the same commit
// (one blob version: a commit holds one version of a path, and git findings
// carry that version's lines) within the entry's distance, attached as a Part;
// its fingerprint becomes the composite fingerprint over the set, and it
// verifies with all its parts.
//
// A companion attached to a composite is absorbed: it is not reported on its
// own as well, so an AWS key pair is one finding. A primary with a companion
// missing is kept without that part (an AWS key id alone is still a leak);
// the verifier marks it not_checked, naming the companion it lacks. A
// companion no primary claimed stays a finding of its own.
//
// Pairing is by distance: every (primary, companion) candidate within reach
// is taken in order of line distance, then column distance, then position,
// and each primary takes the nearest companion no other primary took; only
// when every candidate is taken does it share the nearest one. So two key
// pairs in one file pair one to one.
// compositeRules lists the rules that take part in composites: those with
// [[rule.require]] entries and the rules they require.
func compositeRules(set *rules.Set) map[string]bool {
	out := map[string]bool{}
	if set == nil {
		return out
	}
	for _, r := range set.Rules {
		if r.Companion {
			out[r.ID] = true
		}
		if len(r.Require) > 0 {
			out[r.ID] = true
			for _, q := range r.Require {
				out[q.ID] = true
			}
		}
	}
	return out
}

func Compose(set *rules.Set, fs []finding.Finding) []finding.Finding {
	if set == nil {
		return fs
	}
	reqs := map[string][]rules.Require{}
	companion := map[string]bool{}
	for _, r := range set.Rules {
		if len(r.Require) > 0 {
			reqs[r.ID] = r.Require
		}
		if r.Companion {
			companion[r.ID] = true
		}
	}
	if len(reqs) == 0 && len(companion) == 0 {
		return fs
	}
	type key struct{ file, commit string }
	groups := map[key][]int{}
	anyPrimary := false
	for i := range fs {
		f := &fs[i]
		if f.Kind == finding.KindHygiene || f.Secret == "" {
			continue
		}
		k := key{f.File, f.Commit}
		groups[k] = append(groups[k], i)
		if reqs[f.RuleID] != nil && len(f.Parts) == 0 {
			anyPrimary = true
		}
	}
	absorbed := map[int]bool{}
	for i := range fs {
		if companion[fs[i].RuleID] && fs[i].Kind != finding.KindHygiene {
			absorbed[i] = true // reported only as a part
		}
	}
	if !anyPrimary && len(absorbed) == 0 {
		return fs
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].file != keys[j].file {
			return keys[i].file < keys[j].file
		}
		return keys[i].commit < keys[j].commit
	})
	for _, k := range keys {
		composeGroup(fs, groups[k], reqs, absorbed)
	}
	if len(absorbed) == 0 {
		return fs
	}
	out := fs[:0:0]
	for i, f := range fs {
		if !absorbed[i] {
			out = append(out, f)
		}
	}
	return out
}

// candidate is a companion finding within reach of a primary.
type candidate struct {
	primary, companion int // indices into fs
	dl, dc             int // line and column distance
}

// composeGroup composes the findings of one file version (indices into fs).
func composeGroup(fs []finding.Finding, idx []int, reqs map[string][]rules.Require, absorbed map[int]bool) {
	var primaries []int
	byRule := map[string][]int{}
	for _, i := range idx {
		byRule[fs[i].RuleID] = append(byRule[fs[i].RuleID], i)
		if reqs[fs[i].RuleID] != nil && len(fs[i].Parts) == 0 {
			primaries = append(primaries, i)
		}
	}
	if len(primaries) == 0 {
		return
	}
	parts := map[int][]finding.Part{}
	// One pairing per companion rule: every primary's requirement on it.
	reqRules := map[string]bool{}
	for _, p := range primaries {
		for _, q := range reqs[fs[p].RuleID] {
			reqRules[q.ID] = true
		}
	}
	ruleIDs := make([]string, 0, len(reqRules))
	for id := range reqRules {
		ruleIDs = append(ruleIDs, id)
	}
	sort.Strings(ruleIDs)
	for _, cid := range ruleIDs {
		var cands []candidate
		for _, p := range primaries {
			q, ok := requirement(reqs[fs[p].RuleID], cid)
			if !ok {
				continue
			}
			for _, c := range byRule[cid] {
				if c == p {
					continue
				}
				dl, dc := abs(fs[c].Line-fs[p].Line), abs(fs[c].Column-fs[p].Column)
				if q.WithinLines != nil && dl > *q.WithinLines {
					continue
				}
				if q.WithinColumns != nil && dc > *q.WithinColumns {
					continue
				}
				cands = append(cands, candidate{p, c, dl, dc})
			}
		}
		sort.SliceStable(cands, func(i, j int) bool {
			a, b := cands[i], cands[j]
			if a.dl != b.dl {
				return a.dl < b.dl
			}
			if a.dc != b.dc {
				return a.dc < b.dc
			}
			// At equal distance a companion after the primary wins (key id,
			// then secret key, is how configuration files are written).
			af, bf := fs[a.companion].Line > fs[a.primary].Line, fs[b.companion].Line > fs[b.primary].Line
			if af != bf {
				return af
			}
			if a.primary != b.primary {
				return a.primary < b.primary
			}
			return a.companion < b.companion
		})
		chosen := map[int]int{} // primary -> companion
		taken := map[int]bool{}
		for _, c := range cands {
			if _, done := chosen[c.primary]; done || taken[c.companion] {
				continue
			}
			chosen[c.primary], taken[c.companion] = c.companion, true
		}
		for _, c := range cands { // primaries left: share the nearest
			if _, done := chosen[c.primary]; !done {
				chosen[c.primary] = c.companion
			}
		}
		for p, c := range chosen {
			cf := &fs[c]
			red := cf.Redacted
			if red == "" {
				red = finding.Redact(cf.Secret)
			}
			parts[p] = append(parts[p], finding.Part{RuleID: cf.RuleID, Secret: cf.Secret, Redacted: red, Line: cf.Line, Column: cf.Column})
			absorbed[c] = true
		}
	}
	for p, ps := range parts {
		// A primary is never absorbed: it is the composite (a rule may be
		// both a primary and another rule's companion).
		delete(absorbed, p)
		f := &fs[p]
		f.Parts = ps
		f.Fingerprint = finding.CompositeFingerprint(f.RuleID, f.Secret, ps)
	}
}

func requirement(qs []rules.Require, id string) (rules.Require, bool) {
	for _, q := range qs {
		if q.ID == id {
			return q, true
		}
	}
	return rules.Require{}, false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

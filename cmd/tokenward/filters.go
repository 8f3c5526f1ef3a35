package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/hygiene"
	"github.com/tokenward/tokenward/rules"
)

// --enable-rule, --max-decode-depth and --results: choosing what runs and what
// is reported. gitleaks has the first two under the same names; --results is
// TruffleHog's, with tokenward's verification statuses (TruffleHog's names are
// accepted too where they mean the same).
var (
	enableRules    []string
	maxDecodeDepth = defaultDecodeDepth
	resultsFilter  []string
	resultsKeep    map[string]bool // nil: keep everything
)

// defaultDecodeDepth is the engine's default (engine.Options.DecodeDepth 0).
const (
	defaultDecodeDepth = 2
	maxDecodeLimit     = 8
)

// engineDecodeDepth is --max-decode-depth as engine.Options.DecodeDepth wants it.
func engineDecodeDepth() int {
	if maxDecodeDepth == 0 {
		return -1 // the engine's "decode nothing"
	}
	return maxDecodeDepth
}

func checkDecodeDepth() error {
	if maxDecodeDepth < 0 || maxDecodeDepth > maxDecodeLimit {
		return fmt.Errorf("--max-decode-depth %d: want 0 (no decoding) to %d", maxDecodeDepth, maxDecodeLimit)
	}
	return nil
}

// selectRules applies --enable-rule (only these rule and hygiene check ids run)
// and folds it and --max-decode-depth into the set's hash, which keys caches of
// scan results (sweeps). The loaded set is not modified.
func selectRules(set *rules.Set) (out *rules.Set, err error) {
	var ids []string
	for _, v := range enableRules {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	defer func() {
		if logEnabled(slog.LevelInfo) && out != nil {
			cfg := common.config
			if cfg == "" {
				cfg = ".tokenward.toml if present"
			}
			fmt.Fprintf(os.Stderr, "tokenward: %d rules (config: %s; rule set %s), decoding %d layers deep\n", len(out.Rules), cfg, out.Hash, maxDecodeDepth)
		}
	}()
	if len(ids) == 0 && maxDecodeDepth == defaultDecodeDepth {
		return set, nil
	}
	sel := *set
	out = &sel
	if len(ids) > 0 {
		known := map[string]bool{}
		for _, r := range set.Rules {
			known[r.ID] = true
		}
		for _, c := range hygiene.Catalogue {
			known[c.ID] = true
		}
		var unknown []string
		for _, id := range ids {
			if !known[id] {
				unknown = append(unknown, id)
			}
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("--enable-rule: no rule or hygiene check has the id %s (see tokenward rules list; disabled rules cannot be enabled)", strings.Join(unknown, ", "))
		}
		out.Rules = nil
		for _, r := range set.Rules {
			if slices.Contains(ids, r.ID) {
				out.Rules = append(out.Rules, r)
			}
		}
		out.Disabled = slices.Clone(set.Disabled)
		for _, c := range hygiene.Catalogue {
			if !slices.Contains(ids, c.ID) && !slices.Contains(out.Disabled, c.ID) {
				out.Disabled = append(out.Disabled, c.ID)
			}
		}
	}
	slices.Sort(ids)
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00enable=%s\x00decode=%d", set.Hash, strings.Join(ids, ","), maxDecodeDepth))
	out.Hash = hex.EncodeToString(h[:])[:16]
	return out, nil
}

// resultNames maps --results values to verification statuses: tokenward's own,
// and TruffleHog's where they mean the same.
var resultNames = map[string][]string{
	finding.StatusLive:       {finding.StatusLive},
	finding.StatusInvalid:    {finding.StatusInvalid},
	finding.StatusUnknown:    {finding.StatusUnknown},
	finding.StatusNotChecked: {finding.StatusNotChecked},
	"verified":               {finding.StatusLive},
	"unverified":             {finding.StatusInvalid, finding.StatusNotChecked},
}

// checkResultsFilter reads --results; statuses other than not_checked need a
// check, so they turn --verify on.
func checkResultsFilter() error {
	resultsKeep = nil
	if len(resultsFilter) == 0 {
		return nil
	}
	resultsKeep = map[string]bool{}
	for _, v := range resultsFilter {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "filtered_unverified" {
			return fmt.Errorf("--results filtered_unverified: tokenward has no such result (it does not keep findings its filters dropped); use live, invalid, unknown or not_checked")
		}
		statuses, ok := resultNames[v]
		if !ok {
			return fmt.Errorf("--results %q: want live, invalid, unknown or not_checked (comma-separated)", v)
		}
		for _, s := range statuses {
			resultsKeep[s] = true
			if s != finding.StatusNotChecked {
				common.verify = true
			}
		}
	}
	return nil
}

// filterResults keeps the findings whose verification result --results names. A
// finding that was never checked (hygiene findings, rules without a check) is
// not_checked.
func filterResults(fs []finding.Finding) []finding.Finding {
	if resultsKeep == nil {
		return fs
	}
	var out []finding.Finding
	for _, f := range fs {
		status := finding.StatusNotChecked
		if f.Verification != nil && f.Verification.Status != "" {
			status = f.Verification.Status
		}
		if resultsKeep[status] {
			out = append(out, f)
		}
	}
	return out
}

package main

import (
	"fmt"
	"os"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/hygiene"
	"github.com/tokenward/tokenward/report"
	"github.com/tokenward/tokenward/rules"
)

// hygieneChecker builds the hygiene checker for a rule set; a bad [hygiene] table
// is a configuration error.
func hygieneChecker(set *rules.Set) (*hygiene.Checker, error) {
	hc, err := hygiene.FromSet(set)
	if err != nil {
		return nil, usageError(fmt.Errorf("[hygiene]: %w", err))
	}
	return hc, nil
}

// hostConfigFindings checks the current user's credential files (--host-config).
func hostConfigFindings(hc *hygiene.Checker) ([]finding.Finding, []string) {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, []string{"--host-config: " + err.Error()}
	}
	fs, errs := hc.HostConfig(home)
	var warnings []string
	for _, e := range errs {
		warnings = append(warnings, "--host-config: "+e.Error())
	}
	return fs, warnings
}

// hygieneRuleInfos describes the hygiene checks for SARIF rule metadata.
func hygieneRuleInfos() []report.RuleInfo {
	var out []report.RuleInfo
	for _, c := range hygiene.Catalogue {
		out = append(out, report.RuleInfo{ID: c.ID, Description: c.Description, Severity: c.Severity, Tags: []string{"hygiene"}})
	}
	return out
}

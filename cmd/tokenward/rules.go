package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/rules"
)

var rulesCmd = &cobra.Command{
	Use:   "rules",
	Short: "List the rule set or run its examples as tests",
}

var rulesListCmd = &cobra.Command{
	Use:   "list",
	Short: "List the active rules (built-in, or --config)",
	Args:  cobra.NoArgs,
	RunE: func(cmd *cobra.Command, args []string) error {
		set, err := loadRules(".")
		if err != nil {
			return err
		}
		switch strings.ToLower(common.format) {
		case "json":
			return writeRulesJSON(cmd.OutOrStdout(), set, rulesSummaryFlag)
		case "markdown":
			return writeProviderTable(cmd.OutOrStdout(), set)
		case "", "text":
		default:
			return usageError(fmt.Errorf("--format %q: rules list writes text, json or markdown (the provider table)", common.format))
		}
		w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tSEVERITY\tTAGS\tDESCRIPTION")
		for _, r := range set.Rules {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.ID, r.Severity, strings.Join(r.Tags, ","), r.Description)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "%d rules\n", len(set.Rules))
		return nil
	},
}

var rulesTestCmd = &cobra.Command{
	Use:   "test",
	Short: "Run every rule's examples (must match) and negative_examples (must not)",
	Args:  cobra.NoArgs,
	RunE: func(cmd *cobra.Command, args []string) error {
		set, err := loadRulesUnchecked(".")
		if err != nil {
			return err
		}
		failures, err := TestRuleExamples(set, nil)
		if err != nil {
			return usageError(err)
		}
		for _, f := range failures {
			fmt.Fprintln(cmd.ErrOrStderr(), f)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%d rules, %d failures\n", len(set.Rules), len(failures))
		if len(failures) > 0 {
			return exitCode(1)
		}
		return nil
	},
}

// rulesSummaryFlag: rules list --format json --summary writes the counts.
var rulesSummaryFlag bool

func init() {
	rulesListCmd.Flags().BoolVar(&rulesSummaryFlag, "summary", false, "with --format json: write the counts (rules that verify, revoke, map access, are composite; providers) instead of the rules")
	rulesCmd.AddCommand(rulesListCmd, rulesTestCmd)
	rootCmd.AddCommand(rulesCmd)
}

// TestRuleExamples runs the examples of the rules that only selects (all when nil)
// through the engine with the whole rule set loaded, as a real scan would: an
// example must yield a finding of its own rule, a negative example must not.
func TestRuleExamples(set *rules.Set, only func(*rules.Rule) bool) ([]string, error) {
	if only != nil && !slices.ContainsFunc(set.Rules, only) {
		return nil, nil // nothing to check: do not pay for an engine
	}
	return rules.RunExamples(set, only, func(s *rules.Set) (func(path, text string) []string, error) {
		eng, err := engine.New(s, engine.Options{})
		if err != nil {
			return nil, err
		}
		return func(path, text string) []string {
			var ids []string
			for _, f := range eng.ScanBytes(path, []byte(text)) {
				if !slices.Contains(ids, f.RuleID) {
					ids = append(ids, f.RuleID)
				}
			}
			return ids
		}, nil
	})
}

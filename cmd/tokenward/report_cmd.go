package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/report"
	"github.com/tokenward/tokenward/sweep/store"
	"github.com/tokenward/tokenward/verify"
)

var reportFlags struct {
	db     string
	triage []string
	repos  []string
}

var reportCmd = &cobra.Command{
	Use:   "report --db FILE",
	Short: "Render the findings of a sweep store in any output format",
	Long: `Write the findings held in a sweep store (tokenward sweep --db) in any format:
one finding per location, with provenance, verification and the file prefixed by the
repository's name (e.g. acme/api/config/app.yaml).

By default only open findings are reported (not triaged, or triaged open):
--triage false-positive,accepted-risk,revoked,open (or all) selects others.
--repo NAME_OR_URL (repeatable) keeps those repositories. --only-live keeps the
secrets stored as live; --verify checks the secrets again and stores the results
(with --only-live: keeps those live now). --baseline suppresses baseline entries
as in any scan.

Repositories that failed or were swept incompletely are named on stderr.
Exit status: 0 nothing reported, 1 findings (--exit-code), 2 error.`,
	Args: cobra.NoArgs,
	RunE: runReport,
}

func init() {
	f := reportCmd.Flags()
	f.StringVar(&reportFlags.db, "db", "tokenward.db", "the findings store")
	f.StringSliceVar(&reportFlags.triage, "triage", []string{store.TriageOpen}, "triage states to report: "+strings.Join(store.TriageStatuses(), ", ")+" or all")
	f.StringArrayVar(&reportFlags.repos, "repo", nil, "report only this repository (name or URL; repeatable)")
	rootCmd.AddCommand(reportCmd)
}

// openExistingStore opens a store that must exist.
func openExistingStore(path string) (*store.Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, usageError(fmt.Errorf("--db: %w (create it with tokenward sweep --db %s)", err, path))
	}
	st, err := store.Open(path)
	if err != nil {
		return nil, usageError(fmt.Errorf("--db: %w", err))
	}
	if err := migrateStore(nil, st, path); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func runReport(cmd *cobra.Command, args []string) error {
	if !report.ValidFormat(common.format) {
		return usageError(errUnknownFormat(common.format))
	}
	var triage []string
	for _, t := range reportFlags.triage {
		t = strings.TrimSpace(t)
		if t == "all" {
			triage = nil
			break
		}
		ok := false
		for _, s := range store.TriageStatuses() {
			ok = ok || s == t
		}
		if !ok {
			return usageError(fmt.Errorf("--triage %q: want %s or all", t, strings.Join(store.TriageStatuses(), ", ")))
		}
		triage = append(triage, t)
	}
	st, err := openExistingStore(reportFlags.db)
	if err != nil {
		return err
	}
	defer st.Close()
	// --only-live without --verify uses the stored verification results.
	fs, err := storeFindings(st, store.Query{Triage: triage, Repos: reportFlags.repos})
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("reading %s: %w", reportFlags.db, err)}
	}
	set, err := loadRulesUnchecked("")
	if err != nil {
		return err
	}
	if common.verify {
		opts, err := verifyOptions()
		if err != nil {
			return usageError(err)
		}
		ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt)
		defer stop()
		if fs, err = verify.Apply(ctx, set, fs, opts, false); err != nil {
			return usageError(err)
		}
		fmt.Fprintln(os.Stderr, "tokenward: verification:", verificationSummary(fs))
		if err := st.SetVerification(ctx, fs); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("storing verification results: %w", err)}
		}
	}
	var unverified []string
	if common.onlyLive { // live and, failing closed, unknown (exit 2)
		fs, unverified = pipeline.OnlyLive(fs)
	}
	common.verify, common.onlyLive = false, false // done: finish must not repeat it
	repos, err := st.Repos()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	res := &results{Findings: fs, Set: set, Problems: unverified}
	for _, r := range repos {
		res.Summary.Blobs += int64(r.Blobs)
		if r.Status != store.StatusOK {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s (%s): %s at the last sweep: %s", r.Name, r.URL, r.Status, r.Detail))
		}
	}
	if len(reportFlags.repos) == 1 {
		for _, r := range repos {
			if r.URL == reportFlags.repos[0] || r.Name == reportFlags.repos[0] {
				res.RepoURI = r.URL
			}
		}
	}
	return finish(cmd, res)
}

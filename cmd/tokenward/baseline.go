package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/baseline"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/report"
)

var baselineFlags struct {
	from           []string
	reason         string
	addedBy        string
	expires        string
	followSymlinks bool
}

var baselineCmd = &cobra.Command{
	Use:   "baseline create|update|prune [PATH...]",
	Short: "Record today's findings so that only new ones fail",
	Long: `Record accepted findings in a baseline file (default ` + baseline.DefaultFile + `,
set with --output) and pass it to scans with --baseline FILE: findings recorded there
are suppressed and counted in the summary, new ones still fail.

Entries are keyed by fingerprint (a hash of rule and secret), never by line or
column, so moving code, renaming files and rebasing keep them valid. Each entry may
carry "reason", "added_by" and "expires" (YYYY-MM-DD; after that day the finding
fails again). The file is sorted: regenerating it without changes is a no-op.

  create   record the current findings, replacing the file
  update   keep existing entries (and their reasons), add new findings
  prune    drop entries whose finding is no longer present

Findings come from scanning PATH... (default: the current directory) and/or from
report files written with --format json or jsonl (--from FILE, repeatable), e.g.
to baseline git history:  tokenward git --format json -o hist.json && tokenward baseline update --from hist.json
With --from and no PATH, nothing is scanned. An incomplete scan writes nothing.`,
	Args:      cobra.MinimumNArgs(1),
	ValidArgs: []string{"create", "update", "prune"},
	RunE:      runBaseline,
}

func init() {
	f := baselineCmd.Flags()
	f.StringArrayVar(&baselineFlags.from, "from", nil, "read findings from a json/jsonl report FILE instead of (or besides) scanning (repeatable)")
	f.StringVar(&baselineFlags.reason, "reason", "", "reason recorded on new entries")
	f.StringVar(&baselineFlags.addedBy, "added-by", "", "who accepted the new entries (recorded as added_by)")
	f.StringVar(&baselineFlags.expires, "expires", "", "YYYY-MM-DD after which new entries stop suppressing")
	f.BoolVar(&baselineFlags.followSymlinks, "follow-symlinks", false, "follow symbolic links while scanning")
	rootCmd.AddCommand(baselineCmd)
}

// warnBaselineKey says when a baseline was made under another fingerprint key:
// its entries then suppress nothing, and the findings come back.
func warnBaselineKey(path string, b *baseline.Baseline) {
	if b.KeyMismatch() {
		fmt.Fprintf(os.Stderr, "tokenward: warning: %s was written under fingerprint key %s, this run uses key %s, so its entries match nothing: use the project's key (%s or $%s; see README, Fingerprint keys)\n",
			path, b.KeyID, finding.KeyID(), finding.ProjectKeyFile, finding.KeyEnv)
	}
}

// filterByBaseline implements --baseline for every scanning command.
func filterByBaseline(path string, fs []finding.Finding) ([]finding.Finding, int, error) {
	b, err := baseline.Load(path)
	if err != nil {
		return nil, 0, err
	}
	warnBaselineKey(path, b)
	now := time.Now()
	kept, suppressed := b.Filter(fs, now)
	expired := 0
	for _, f := range kept {
		if _, e, ok := b.Find(f.Fingerprint); ok && e.Expired(now) {
			expired++
		}
	}
	if expired > 0 {
		fmt.Fprintf(os.Stderr, "tokenward: warning: %s matched expired entries in %s and are reported again\n",
			plural(int64(expired), "finding"), path)
	}
	return kept, suppressed, nil
}

func runBaseline(cmd *cobra.Command, args []string) error {
	action, paths := args[0], args[1:]
	if action != "create" && action != "update" && action != "prune" {
		return usageError(fmt.Errorf("baseline %q: want create, update or prune (see tokenward baseline --help)", action))
	}
	if baselineFlags.expires != "" {
		if _, err := time.Parse(baseline.DateLayout, baselineFlags.expires); err != nil {
			return usageError(fmt.Errorf("--expires %q: want a date as YYYY-MM-DD", baselineFlags.expires))
		}
	}
	out := common.output
	if out == "" {
		out = baseline.DefaultFile
	}
	var old *baseline.Baseline
	if out != "-" {
		b, err := baseline.Load(out)
		switch {
		case err == nil:
			old = b
		case action == "create":
			old = nil // create replaces whatever is there
		case action == "update" && errors.Is(err, fs.ErrNotExist):
			old = nil // the first update creates the file
		default:
			return usageError(err)
		}
	}

	var found []finding.Finding
	for _, path := range baselineFlags.from {
		got, err := readReport(path)
		if err != nil {
			return usageError(err)
		}
		found = append(found, got...)
	}
	if len(paths) > 0 || len(baselineFlags.from) == 0 {
		if len(paths) == 0 {
			paths = []string{"."}
		}
		got, err := scanForBaseline(cmd, paths)
		if err != nil {
			return err
		}
		found = append(found, got...)
	}

	template := baseline.Entry{Reason: baselineFlags.reason, AddedBy: baselineFlags.addedBy, Expires: baselineFlags.expires}
	var nb *baseline.Baseline
	switch action {
	case "create":
		nb = baseline.Create(found, template)
	case "update":
		nb = baseline.Update(old, found, template)
	case "prune":
		nb = baseline.Prune(old, found)
	}

	if out == "-" {
		if err := nb.Write(cmd.OutOrStdout()); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("writing baseline: %w", err)}
		}
	} else if err := nb.WriteFile(out); err != nil {
		return &exitError{code: 2, err: err}
	}
	added, removed := diffEntries(old, nb)
	dest := out
	if out == "-" {
		dest = "stdout"
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "tokenward: baseline %s: %d entries (%d added, %d removed) from %s\n",
		dest, nb.Len(), added, removed, plural(int64(len(found)), "finding"))
	return nil
}

// diffEntries counts fingerprints new in nb and gone from old.
func diffEntries(old, nb *baseline.Baseline) (added, removed int) {
	for fp := range nb.Entries {
		if old == nil || !has(old, fp) {
			added++
		}
	}
	if old != nil {
		for fp := range old.Entries {
			if !has(nb, fp) {
				removed++
			}
		}
	}
	return added, removed
}

func has(b *baseline.Baseline, fp string) bool {
	_, ok := b.Entries[fp]
	return ok
}

// scanForBaseline scans paths through the same pipeline as `tokenward scan`
// (every finding kind; the ignore file applies, the baseline and verification do
// not). An incomplete scan is an error: a baseline missing findings (or pruned of
// live entries) must not be written.
func scanForBaseline(cmd *cobra.Command, paths []string) ([]finding.Finding, error) {
	root := scanRoot(paths)
	set, err := loadRules(root)
	if err != nil {
		return nil, err
	}
	pl, err := pipelineFor(set, pipelineChoice{root: root, noBaseline: true, noVerify: true})
	if err != nil {
		return nil, err
	}
	src, err := fileSource(cmd, paths, baselineFlags.followSymlinks)
	if err != nil {
		return nil, err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	res := pl.Run(ctx, src, pipeline.RunOptions{})
	for _, w := range res.Warnings {
		fmt.Fprintln(os.Stderr, "tokenward: warning:", w)
	}
	if len(res.Problems) > 0 {
		for _, p := range res.Problems {
			fmt.Fprintln(os.Stderr, "tokenward: error:", p)
		}
		return nil, &exitError{code: 2, err: fmt.Errorf("incomplete scan: %s above; baseline not written", plural(int64(len(res.Problems)), "problem"))}
	}
	if ctx.Err() != nil {
		return nil, &exitError{code: 2, err: errors.New("interrupted; baseline not written")}
	}
	return res.Findings, nil
}

// readReport reads findings from a report written with --format json or jsonl.
func readReport(path string) ([]finding.Finding, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	defer f.Close()
	fs, err := report.Read(f, path)
	if err != nil {
		return nil, err
	}
	for i, f := range fs {
		if !baseline.ValidFingerprint(f.Fingerprint) {
			return nil, fmt.Errorf("%s: finding %d (%s at %s:%d) has no valid fingerprint; is this a tokenward report?",
				path, i+1, strings.TrimSpace(f.RuleID), f.File, f.Line)
		}
	}
	return fs, nil
}

package main

import (
	"os"
	"os/signal"
	"runtime"
	"slices"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/report"
	"github.com/tokenward/tokenward/source/files"
)

var scanFlags struct {
	followSymlinks bool
	hostConfig     bool
}

// fileChecks are extra per-file checks (hygiene) added by other command files.
var fileChecks []files.Check

var scanCmd = &cobra.Command{
	Use:   "scan [PATH|-]...",
	Short: "Scan files and directories (- reads stdin)",
	Long: `Scan files and directories for leaked secrets and token hygiene problems.
Directories are walked concurrently; .git/ and binary files are skipped (and counted),
.tokenwardignore (gitignore syntax) at the root excludes paths, symlinks are not
followed unless --follow-symlinks. Files of any size are streamed.`,
	RunE: runScan,
}

func init() {
	scanCmd.Flags().BoolVar(&scanFlags.followSymlinks, "follow-symlinks", false, "follow symbolic links (loops are detected)")
	scanCmd.Flags().BoolVar(&scanFlags.hostConfig, "host-config", false, "also check this user's credential files (~/.netrc, ~/.npmrc, ~/.docker/config.json, kubeconfig...) and their permissions")
	rootCmd.AddCommand(scanCmd)
}

func numCPU() int { return runtime.NumCPU() }

func runScan(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		args = []string{"."}
	}
	if !report.ValidFormat(common.format) {
		return usageError(errUnknownFormat(common.format))
	}
	maxSize, err := parseSize(common.maxFileSize)
	if err != nil {
		return usageError(err)
	}
	root := scanRoot(args)
	set, err := loadRules(root)
	if err != nil {
		return err
	}
	eng, err := newEngine(set)
	if err != nil {
		return err
	}
	hc, err := hygieneChecker(set)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	res := files.Scan(ctx, eng, args, files.Options{
		Workers:        workers(),
		FollowSymlinks: scanFlags.followSymlinks,
		MaxFileSize:    maxSize,
		Checks:         append(slices.Clone(fileChecks), hc.Check),
		Stdin:          cmd.InOrStdin(),
	})
	out := &results{Findings: res.Findings, Set: set, Root: root, Warnings: res.Warnings, Hygiene: hc}
	if scanFlags.hostConfig {
		fs, warnings := hostConfigFindings(hc)
		out.Findings = append(out.Findings, fs...)
		out.Warnings = append(out.Warnings, warnings...)
	}
	out.Summary = report.Summary{Files: res.Stats.Files, BytesScanned: res.Stats.Bytes,
		SkippedBinary: int(res.Stats.SkippedBinary), SkippedLarge: int(res.Stats.SkippedLarge)}
	for _, p := range res.Problems {
		out.Problems = append(out.Problems, p.Error())
	}
	if res.Stats.SkippedSymlinks > 0 {
		out.Warnings = append(out.Warnings, plural(res.Stats.SkippedSymlinks, "symlink")+" not followed (use --follow-symlinks)")
	}
	return finish(cmd, out)
}

package main

import (
	"os"
	"os/signal"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/report"
	"github.com/tokenward/tokenward/source/files"
)

var scanFlags struct {
	followSymlinks bool
	hostConfig     bool
}

var scanCmd = &cobra.Command{
	Use:   "scan [PATH|-]...",
	Short: "Scan files and directories (- reads stdin)",
	Long: `Scan files and directories for leaked secrets and token hygiene problems.
Directories are walked concurrently; .git/ is skipped, .tokenwardignore (gitignore
syntax) at the root excludes paths, symlinks are not followed unless
--follow-symlinks. Archives are opened, UTF-16 text is decoded, binary files are
read as their printable runs (--skip-binary skips them); every file not scanned
is named in the report's statistics. Files of any size are streamed.`,
	RunE: runScan,
}

func init() {
	scanCmd.Flags().BoolVar(&scanFlags.followSymlinks, "follow-symlinks", false, "follow symbolic links (loops are detected)")
	scanCmd.Flags().StringVar(&progressMode, "progress", "auto", progressUsage)
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
	root := scanRoot(args)
	set, err := loadRules(root)
	if err != nil {
		return err
	}
	pl, err := pipelineFor(set, pipelineChoice{root: root})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	src, err := fileSource(cmd, args, scanFlags.followSymlinks)
	if err != nil {
		return err
	}
	res, err := runWithProgress(ctx, pl, src)
	if err != nil {
		return err
	}
	if scanFlags.hostConfig {
		host := &pipeline.Result{}
		var warnings []string
		host.Findings, warnings = hostConfigFindings(pl.Options().Hygiene)
		pl.Finish(ctx, host, nil)
		res.Findings = append(res.Findings, host.Findings...)
		res.Problems = append(res.Problems, host.Problems...)
		res.Warnings = append(res.Warnings, warnings...)
	}
	if res.Stats.Symlinks > 0 {
		res.Warnings = append(res.Warnings, plural(res.Stats.Symlinks, "symlink")+" not followed (use --follow-symlinks)")
	}
	return finish(cmd, fromPipeline(res, set, ""))
}

// fileSource is the file source of a command line's paths.
func fileSource(cmd *cobra.Command, paths []string, follow bool) (*files.Source, error) {
	maxSize, err := parseSize(common.maxFileSize)
	if err != nil {
		return nil, usageError(err)
	}
	return files.New(paths, files.Options{
		Workers:        workers(),
		FollowSymlinks: follow,
		MaxFileSize:    maxSize,
		Stdin:          cmd.InOrStdin(),
		IgnoreRoot:     scanRoot(paths),
	}), nil
}

package main

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/report"
	gitsrc "github.com/tokenward/tokenward/source/git"
)

var gitFlags struct {
	rng         string
	staged      bool
	unreachable bool
	stats       bool
	fullBlobs   bool
	context     int
}

var gitCmd = &cobra.Command{
	Use:   "git [REPO]",
	Short: "Scan git history, a commit range or the staged index",
	Long: `Scan a git repository (a work tree, a bare repository or a linked worktree; default:
the current directory) without running git.

Without flags, every blob reachable from any ref (branches, tags, remote refs, the
stash and its reflog) and every commit and tag message is scanned, each unique blob
once; a blob stored in a pack as a delta of one already scanned is scanned only
around what the delta changes (--full-blobs scans it whole). Each finding names the commit that first introduced the secret at that path,
with its author, date and the line in that version.

  --range BASE..HEAD   only secrets that the commits in the range add (pull requests);
                       BASE...HEAD starts from their merge base
  --staged             only what the index adds against HEAD (pre-commit hooks)
  --include-unreachable  also dangling commits, trees and blobs

Missing or corrupt objects, broken refs and shallow clones are reported and make
the exit status 2; everything readable is still scanned.`,
	Args: cobra.MaximumNArgs(1),
	RunE: runGit,
}

func init() {
	f := gitCmd.Flags()
	f.StringVar(&gitFlags.rng, "range", "", "scan only what the commits in BASE..HEAD add")
	f.BoolVar(&gitFlags.staged, "staged", false, "scan only the index against HEAD")
	f.BoolVar(&gitFlags.unreachable, "include-unreachable", false, "also scan dangling commits, trees and blobs")
	f.BoolVar(&gitFlags.stats, "stats", false, "print scan statistics to stderr")
	f.BoolVar(&gitFlags.fullBlobs, "full-blobs", false, "scan every blob whole, not only around what packed deltas change (slower)")
	f.IntVar(&gitFlags.context, "delta-context", 0, "bytes scanned around each change of a packed delta, widened to whole lines (default 512)")
	f.StringVar(&progressMode, "progress", "auto", progressUsage)
	rootCmd.AddCommand(gitCmd)
}

func runGit(cmd *cobra.Command, args []string) error {
	repoPath := "."
	if len(args) == 1 {
		repoPath = args[0]
	}
	if !report.ValidFormat(common.format) {
		return usageError(errUnknownFormat(common.format))
	}
	if gitFlags.staged && gitFlags.rng != "" {
		return usageError(fmt.Errorf("--staged and --range cannot be combined"))
	}
	maxSize, err := parseSize(common.maxFileSize)
	if err != nil {
		return usageError(err)
	}
	info, err := gitsrc.Describe(repoPath)
	if err != nil {
		return usageError(err)
	}
	root := info.WorkTree
	if root == "" {
		root = info.GitDir
	}
	set, err := loadRules(root)
	if err != nil {
		return err
	}
	pl, err := pipelineFor(set, pipelineChoice{root: root, gitPaths: true})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	src := gitsrc.New(gitsrc.Options{
		Repo:               repoPath,
		Range:              gitFlags.rng,
		Staged:             gitFlags.staged,
		IncludeUnreachable: gitFlags.unreachable,
		Workers:            workers(),
		MaxBlobSize:        maxSize,
		PathClass:          pl.PathClass(),
		FullBlobs:          gitFlags.fullBlobs,
		DeltaContext:       gitFlags.context,
	})
	prog, stopProgress, err := startProgress(progressMode)
	if err != nil {
		return err
	}
	res, err := pl.Run(ctx, src, pipeline.RunOptions{Progress: prog})
	stopProgress()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if gitFlags.stats {
		st := src.Stats
		fmt.Fprintf(os.Stderr, "tokenward: %d refs, %d commits, %d trees, %d unique blobs (%d scanned, %d around delta changes only, %d not read, %d too large, %d streamed), %d messages, %d bytes scanned, %d findings in %s\n",
			st.Refs, st.Commits, st.Trees, st.Blobs, st.BlobsScanned, st.DeltaScanned, st.Binary, st.TooLarge, st.Streamed, st.Messages, st.Bytes, st.Findings, st.Elapsed.Round(1e6))
	}
	return finish(cmd, fromPipeline(res, set, info.RemoteURL))
}

package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/baseline"
	"github.com/tokenward/tokenward/report"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/source/files"
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
around what the delta changes, with the same findings as a scan of it whole
(--full-blobs). Each finding names the commit that first introduced the secret at that path,
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
	f.BoolVar(&gitFlags.fullBlobs, "full-blobs", false, "scan every blob whole, not only around what packed deltas change (same findings, slower)")
	f.IntVar(&gitFlags.context, "delta-context", 0, "ignored: how much around a change is scanned now follows from the rules")
	_ = f.MarkDeprecated("delta-context", "packed deltas are scanned exactly as far around each change as the rules need")
	f.StringVar(&progressMode, "progress", "auto", progressUsage)
	rootCmd.AddCommand(gitCmd)
}

func runGit(cmd *cobra.Command, args []string) error {
	repoPath := "."
	if len(args) == 1 {
		repoPath = args[0]
	}
	// A history scan's caches have fixed sizes, but garbage grows the heap to
	// twice what is live before a collection: unless GOMEMLIMIT says otherwise,
	// collect harder near a soft limit of 180 MiB plus 256 bytes per packed object
	// (what stays live grows by about that per object: tree and blob ids, walk and
	// scan bookkeeping; a fixed limit below it makes the collector run without
	// pause on large histories). Issue 14: peak RSS within 250 MB on a
	// nats-server-sized history, 400 MB on a rancher-sized one.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gitMemoryLimit(gitsrc.PackedObjects(repoPath)))
	}
	// Below the limit, the collector's default pace (GOGC 100): the soft limit
	// already bounds the heap, and collecting at half of it cost the nats-like
	// history ~12% more CPU for no lower peak (bench/RESULTS.md, third round).
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
	var repoConfig *rules.RepoConfig
	var ignore *baseline.IgnoreList
	if gitFlags.rng != "" {
		if repoConfig, ignore, err = configAtBase(repoPath, gitFlags.rng); err != nil {
			return err
		}
	}
	set, err := loadRulesFrom(root, repoConfig)
	if err != nil {
		return err
	}
	pl, err := pipelineFor(set, pipelineChoice{root: root, ignore: ignore, gitPaths: true})
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
	res, err := runWithProgress(ctx, pl, src)
	if err != nil {
		return err
	}
	if gitFlags.stats {
		st := src.Stats
		fmt.Fprintf(os.Stderr, "tokenward: %d refs, %d commits, %d trees, %d unique blobs (%d scanned, %d around delta changes only, %d not read, %d too large, %d streamed), %d messages, %d bytes scanned, %d findings in %s\n",
			st.Refs, st.Commits, st.Trees, st.Blobs, st.BlobsScanned, st.DeltaScanned, st.Binary, st.TooLarge, st.Streamed, st.Messages, st.Bytes, st.Findings, st.Elapsed.Round(1e6))
	}
	if n := len(src.Stats.Submodules); n > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s not scanned (a submodule's content is another repository; scan its checkout with `tokenward git PATH`): %s",
			plural(int64(n), "submodule"), strings.Join(src.Stats.Submodules, ", ")))
	}
	return finish(cmd, fromPipeline(res, set, info.RemoteURL))
}

// configAtBase reads .tokenward.toml and .tokenwardignore as of the range's BASE
// (the merge base for BASE...HEAD), so that the commits under review cannot
// change the rules and ignores they are checked by.
func configAtBase(repoPath, rng string) (*rules.RepoConfig, *baseline.IgnoreList, error) {
	if _, _, _, err := gitsrc.SplitRange(rng); err != nil {
		return nil, nil, usageError(err)
	}
	base, err := gitsrc.RangeBase(repoPath, rng)
	if err != nil {
		return nil, nil, usageError(err)
	}
	short := base[:12]
	cfg, ok, err := gitsrc.ReadFileAt(repoPath, base, rules.ConfigFileName)
	if err != nil {
		return nil, nil, usageError(err)
	}
	if !ok {
		cfg = nil
	}
	repoConfig := &rules.RepoConfig{Name: short + ":" + rules.ConfigFileName, Data: cfg}
	data, ok, err := gitsrc.ReadFileAt(repoPath, base, files.IgnoreFileName)
	if err != nil {
		return nil, nil, usageError(err)
	}
	ignore := &baseline.IgnoreList{Fingerprints: map[string]string{}}
	if ok {
		if ignore, err = baseline.ParseIgnoreBytes(short+":"+files.IgnoreFileName, data); err != nil {
			return nil, nil, usageError(err)
		}
	}
	return repoConfig, ignore, nil
}

// gitMemoryLimit is the soft memory limit of a history scan of a repository
// whose packs hold objects objects.
func gitMemoryLimit(objects int64) int64 {
	return 180<<20 + 256*objects
}

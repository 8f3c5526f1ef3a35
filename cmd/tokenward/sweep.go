package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/report"
	"github.com/tokenward/tokenward/sweep"
	"github.com/tokenward/tokenward/sweep/store"
)

var sweepFlags struct {
	githubOrgs      []string
	githubUsers     []string
	githubAPI       string
	gitlabGroups    []string
	gitlabAPI       string
	reposFiles      []string
	images          []string
	repos           []string
	include         string
	maxPages        int
	includeForks    bool
	includeArchived bool
	db              string
	cache           string
	shard           string
	shardCount      int
	parallel        int
	fetchParallel   int
	rescan          bool
	allRefs         bool
	rateLimitWait   time.Duration
	refetchAfter    time.Duration
	progress        string
	fullBlobs       bool
	deltaContext    int
}

var sweepCmd = &cobra.Command{
	Use:   "sweep",
	Short: "Sweep many repositories (an organisation) incrementally into a findings store",
	Long: `Sweep every repository of GitHub organisations or users, GitLab groups, or a list
file: keep a bare mirror of each under --cache (a re-sweep fetches only new objects),
scan each one's whole history, and commit its findings to the store (--db) in one
transaction per repository.

Re-sweeps cost only what changed: a repository whose refs did not move is not
scanned at all, and a blob already scanned with the same rules (in any repository)
is never read again; its findings are taken from the store. A repository whose
last-push time in the GitHub/GitLab listing is the one seen at its last fetch is
not even fetched (for --refetch-after, default 24h). A sweep that is killed
resumes where it stopped when run again.

Sources (combine freely; each repository is swept once):
  --github-org ORG, --github-user USER   token: $GITHUB_TOKEN; --github-api for GitHub Enterprise
  --gitlab-group GROUP                   token: $GITLAB_TOKEN; --gitlab-api for self-hosted GitLab
  --repo OWNER/NAME, --repo gitlab:PATH  one GitHub repository or GitLab project
  --repos FILE                           one clone URL or local path per line (# comments)
  --images REF,...                       container images (registry references, docker save
                                         tarballs, OCI layouts), as tokenward image reads them;
                                         a layer already scanned with the same rules, in any
                                         image, is not read again

Beyond the code (--include, comma-separated; default code): GitHub issues, pulls,
comments (issue, pull request and review comments), gists, wiki, releases,
actions-logs; GitLab issues (with their notes), merge-requests (with their notes),
snippets, wiki, ci-logs. Wikis, gists and snippets are git repositories, mirrored
and scanned like code. The rest is read through the API, incrementally: only items
updated since the last sweep are fetched and scanned, and the findings of the
others stay in the store and are reported. Each such finding is located by the
item's web URL (a comment's html_url, a workflow run's page followed by
!job/step.txt) and the line within its text.

Forks and archived repositories are skipped unless --include-forks/--include-archived;
what was skipped, and why, is summarised on stderr.

Scale-out: --shard I/N sweeps the I-th of N disjoint shares (a stable hash of the
clone URL); --shard-count N takes I from $JOB_COMPLETION_INDEX (Kubernetes Indexed
Jobs). Sweep each share into its own store and combine them with tokenward merge.

The rules are the built-in set plus --config (a repository's own .tokenward.toml
and .tokenwardignore do not apply to a sweep). Results: tokenward report --db FILE;
with --format or --output, the open findings of the swept repositories are also
written here. Exit status: 0 nothing open, 1 open findings (--exit-code), 2 a
source, repository or the store failed (the rest is still swept and stored).`,
	Args: cobra.NoArgs,
	RunE: runSweep,
}

func init() {
	f := sweepCmd.Flags()
	f.StringArrayVar(&sweepFlags.githubOrgs, "github-org", nil, "sweep the repositories of this GitHub organisation (repeatable)")
	f.StringArrayVar(&sweepFlags.githubUsers, "github-user", nil, "sweep the repositories of this GitHub user (repeatable)")
	f.StringVar(&sweepFlags.githubAPI, "github-api", "", "GitHub API URL (default https://api.github.com/; GitHub Enterprise: https://HOST/api/v3/)")
	f.StringArrayVar(&sweepFlags.gitlabGroups, "gitlab-group", nil, "sweep the projects of this GitLab group and its subgroups (repeatable)")
	f.StringVar(&sweepFlags.gitlabAPI, "gitlab-api", "", "GitLab API URL (default https://gitlab.com/api/v4)")
	f.StringArrayVar(&sweepFlags.reposFiles, "repos", nil, "sweep the repositories listed in FILE: one clone URL or local path per line (repeatable)")
	f.StringSliceVar(&sweepFlags.images, "images", nil, "sweep these container images: registry references, docker save tarballs or OCI layout directories (comma-separated, repeatable)")
	f.StringArrayVar(&sweepFlags.repos, "repo", nil, "sweep one GitHub repository OWNER/NAME, or GitLab project gitlab:GROUP/NAME (repeatable)")
	f.StringVar(&sweepFlags.include, "include", "code", "what of GitHub/GitLab repositories to read: GitHub "+strings.Join(sweep.IncludeNames("github"), ",")+"; GitLab "+strings.Join(sweep.IncludeNames("gitlab"), ","))
	f.IntVar(&sweepFlags.maxPages, "max-pages", 1000, "longest API listing, in pages of 100; a longer one is swept in part and reported (exit 2)")
	f.BoolVar(&sweepFlags.includeForks, "include-forks", false, "also sweep forks")
	f.BoolVar(&sweepFlags.includeArchived, "include-archived", false, "also sweep archived repositories")
	f.StringVar(&sweepFlags.db, "db", "tokenward.db", "the findings store (SQLite), created if missing")
	f.StringVar(&sweepFlags.cache, "cache", "", "directory of bare mirrors (default: the user cache directory, tokenward/mirrors)")
	f.StringVar(&sweepFlags.shard, "shard", "", "sweep only shard I of N (I/N, 0-based)")
	f.IntVar(&sweepFlags.shardCount, "shard-count", 0, "sweep shard $JOB_COMPLETION_INDEX of N (Kubernetes Indexed Jobs)")
	f.IntVar(&sweepFlags.parallel, "parallel", 2, "repositories scanned at once")
	f.IntVar(&sweepFlags.fetchParallel, "fetch-parallel", 8, "mirrors fetched at once, ahead of the scans")
	f.BoolVar(&sweepFlags.rescan, "rescan", false, "scan repositories whose refs did not change too (blobs scanned before still come from the store)")
	f.BoolVar(&sweepFlags.allRefs, "all-refs", false, "mirror every ref (pull request heads, notes, ...), not only branches and tags")
	f.DurationVar(&sweepFlags.refetchAfter, "refetch-after", 24*time.Hour, "trust an unchanged last-push time in the GitHub/GitLab listing for this long before asking git again (0: always ask git)")
	f.DurationVar(&sweepFlags.rateLimitWait, "rate-limit-wait", 15*time.Minute, "longest wait for an API rate limit to reset; longer fails the listing")
	f.StringVar(&sweepFlags.progress, "progress", "auto", "progress on stderr: auto (a status line on a terminal, log lines otherwise), bar, log or none")
	f.BoolVar(&sweepFlags.fullBlobs, "full-blobs", false, "scan every blob whole, not only around what packed deltas change (same findings, slower)")
	f.IntVar(&sweepFlags.deltaContext, "delta-context", 0, "ignored: how much around a change is scanned now follows from the rules")
	_ = f.MarkDeprecated("delta-context", "packed deltas are scanned exactly as far around each change as the rules need")
	rootCmd.AddCommand(sweepCmd)
}

// parseShard returns the shard index and count from --shard or --shard-count.
func parseShard() (int, int, error) {
	if sweepFlags.shard != "" && sweepFlags.shardCount != 0 {
		return 0, 0, errors.New("--shard and --shard-count cannot be combined")
	}
	if sweepFlags.shard != "" {
		is, ns, ok := strings.Cut(sweepFlags.shard, "/")
		i, err1 := strconv.Atoi(strings.TrimSpace(is))
		n, err2 := strconv.Atoi(strings.TrimSpace(ns))
		if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
			return 0, 0, fmt.Errorf("--shard %q: want I/N with 0 <= I < N, e.g. 0/4", sweepFlags.shard)
		}
		return i, n, nil
	}
	if sweepFlags.shardCount != 0 {
		n := sweepFlags.shardCount
		v, ok := os.LookupEnv("JOB_COMPLETION_INDEX")
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if n < 1 || !ok || err != nil || i < 0 || i >= n {
			return 0, 0, fmt.Errorf("--shard-count %d: $JOB_COMPLETION_INDEX is %q, want 0..%d (set by a Kubernetes Indexed Job; elsewhere use --shard I/N)", n, v, n-1)
		}
		return i, n, nil
	}
	return 0, 1, nil
}

func stderrIsTTY() bool {
	st, err := terminal.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runSweep(cmd *cobra.Command, args []string) error {
	fl := sweepFlags
	if len(fl.githubOrgs)+len(fl.githubUsers)+len(fl.gitlabGroups)+len(fl.reposFiles)+len(fl.repos)+len(fl.images) == 0 {
		return usageError(errors.New("nothing to sweep: give --github-org, --github-user, --gitlab-group, --repo, --repos or --images"))
	}
	var ghRepos, glProjects []string
	for _, r := range fl.repos {
		if p, ok := strings.CutPrefix(r, "gitlab:"); ok {
			glProjects = append(glProjects, p)
		} else {
			ghRepos = append(ghRepos, strings.TrimPrefix(r, "github:"))
		}
	}
	ghInclude, glInclude, err := parseIncludes(fl.include, len(fl.githubOrgs)+len(fl.githubUsers)+len(ghRepos) > 0, len(fl.gitlabGroups)+len(glProjects) > 0)
	if err != nil {
		return usageError(err)
	}
	if !report.ValidFormat(common.format) {
		return usageError(errUnknownFormat(common.format))
	}
	if err := errors.Join(sweep.CheckAPIURL("--github-api", fl.githubAPI), sweep.CheckAPIURL("--gitlab-api", fl.gitlabAPI)); err != nil {
		return usageError(err)
	}
	shardI, shardN, err := parseShard()
	if err != nil {
		return usageError(err)
	}
	if fl.refetchAfter == 0 {
		fl.refetchAfter = -1 // sweep.Config: negative is never
	}
	if fl.parallel < 1 || fl.fetchParallel < 1 {
		return usageError(fmt.Errorf("--parallel %d, --fetch-parallel %d: want at least 1", fl.parallel, fl.fetchParallel))
	}
	var showProgress, tty bool
	switch fl.progress {
	case "auto":
		showProgress, tty = true, stderrIsTTY()
	case "bar":
		showProgress, tty = true, true
	case "log":
		showProgress = true
	case "none":
	default:
		return usageError(fmt.Errorf("--progress %q: want auto, bar, log or none", fl.progress))
	}
	maxSize, err := parseSize(common.maxFileSize)
	if err != nil {
		return usageError(err)
	}
	cache := fl.cache
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return usageError(fmt.Errorf("no user cache directory (%v): give --cache DIR", err))
		}
		cache = filepath.Join(dir, "tokenward", "mirrors")
	}
	set, err := loadRules("")
	if err != nil {
		return err
	}
	// The store keeps every finding; --baseline applies to what is reported.
	pl, err := pipelineFor(set, pipelineChoice{noBaseline: true})
	if err != nil {
		return err
	}
	st, err := store.Open(fl.db)
	if err != nil {
		return usageError(fmt.Errorf("--db: %w", err))
	}
	defer st.Close()
	if err := migrateStore(cmd, st, fl.db); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "tokenward: "+format+"\n", a...) }
	limits := sweep.Limits{MaxWait: fl.rateLimitWait, Log: func(m string) { logf("%s", m) }}

	// Enumerate.
	var targets []sweep.Target
	var collections []sweep.Collection
	var skipped []sweep.Skip
	var problems []string
	take := func(l sweep.Listing, err error) {
		if err != nil {
			problems = append(problems, err.Error())
		}
		targets, skipped, collections = append(targets, l.Targets...), append(skipped, l.Skipped...), append(collections, l.Collections...)
	}
	gh := func(o sweep.GitHubOptions) sweep.GitHubOptions {
		o.API, o.Token, o.Include, o.IncludeForks, o.IncludeArchived, o.Limits, o.MaxPages = fl.githubAPI, os.Getenv("GITHUB_TOKEN"), ghInclude, fl.includeForks, fl.includeArchived, limits, fl.maxPages
		return o
	}
	gl := func(o sweep.GitLabOptions) sweep.GitLabOptions {
		o.API, o.Token, o.Include, o.IncludeForks, o.IncludeArchived, o.Limits, o.MaxPages = fl.gitlabAPI, os.Getenv("GITLAB_TOKEN"), glInclude, fl.includeForks, fl.includeArchived, limits, fl.maxPages
		return o
	}
	for _, org := range fl.githubOrgs {
		take(sweep.ListGitHubForge(ctx, gh(sweep.GitHubOptions{Org: org})))
	}
	for _, user := range fl.githubUsers {
		take(sweep.ListGitHubForge(ctx, gh(sweep.GitHubOptions{User: user})))
	}
	for _, r := range ghRepos {
		take(sweep.ListGitHubForge(ctx, gh(sweep.GitHubOptions{Repo: r})))
	}
	for _, g := range fl.gitlabGroups {
		take(sweep.ListGitLabForge(ctx, gl(sweep.GitLabOptions{Group: g})))
	}
	for _, p := range glProjects {
		take(sweep.ListGitLabForge(ctx, gl(sweep.GitLabOptions{Project: p})))
	}
	for _, file := range fl.reposFiles {
		ts, bad, err := sweep.ReadReposFile(file)
		if err != nil {
			return usageError(err)
		}
		for _, e := range bad {
			problems = append(problems, e.Error())
		}
		targets = append(targets, ts...)
	}
	targets = sweep.Dedup(targets)
	listed := len(targets)
	targets = sweep.Shard(targets, shardI, shardN)
	collections = sweep.ShardCollections(collections, shardI, shardN)
	if n := len(skipped); n > 0 {
		logf("skipped %s", skipSummary(skipped))
	}
	if shardN > 1 {
		logf("shard %d/%d: %d of %d repositories", shardI, shardN, len(targets), listed)
	}

	scanOpts := sweep.ScanOptions{GitleaksAllow: common.gitleaksAllow || set.GitleaksAllow, MaxBlobSize: maxSize, FullBlobs: fl.fullBlobs, DeltaContext: fl.deltaContext,
		MaxArchiveDepth: common.maxArchiveDepth, SkipBinary: common.skipBinary}
	cfg := sweep.Config{
		Store: st, Pipeline: pl,
		ScanKey: sweep.ScanKey(set, scanOpts, version), Options: scanOpts,
		CacheDir: cache, AllRefs: fl.allRefs, Workers: workers(), Parallel: fl.parallel, FetchParallel: fl.fetchParallel, Rescan: fl.rescan,
		RefetchAfter: fl.refetchAfter,
	}
	if showProgress {
		cfg.Progress = sweep.NewProgress(progressOut(), tty)
	}
	images := sweepImages(shardI, shardN)
	var sum sweep.Summary
	if len(targets) > 0 || len(images) == 0 {
		if sum, err = sweep.Run(ctx, cfg, targets); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	for _, ref := range images {
		if ctx.Err() != nil {
			sum.Interrupted = true
			break
		}
		opts, err := imageOptions(ref)
		if err != nil {
			return err
		}
		rep := sweep.Image(ctx, cfg, opts)
		sum.Add(rep)
		targets = append(targets, rep.Target)
		if showProgress {
			logf("image %s: %s, %d layers (%d read, %d from the store), %d findings in %s", ref, rep.State,
				rep.Stats.Blobs, rep.Stats.BlobsScanned, rep.Stats.Cached, rep.Findings, rep.Elapsed.Round(time.Millisecond))
		}
	}
	if !showProgress {
		logf("sweep: %s", sweep.SummaryLine(sum))
	}
	for _, p := range sum.Problems {
		problems = append(problems, fmt.Sprintf("%s (%s): %s: %s", p.Target.Name, p.Target.URL, p.State, p.Detail))
	}
	if len(collections) > 0 && ctx.Err() == nil {
		var itemLog func(string)
		if showProgress {
			itemLog = func(m string) { logf("sweep: %s", m) }
		}
		isum := sweep.RunItems(ctx, cfg, collections, itemLog)
		logf("sweep: %s", isum.Line())
		for _, p := range isum.Problems {
			problems = append(problems, fmt.Sprintf("%s %s (%s): %s: %s", p.Collection.Name, p.Collection.Kind, p.Collection.Key, p.State, p.Detail))
		}
		if ctx.Err() != nil && !sum.Interrupted {
			problems = append(problems, "interrupted: run the same command again to resume")
		}
	}
	if sum.Interrupted {
		problems = append(problems, "interrupted: run the same command again to resume")
	}

	// The open findings of the swept repositories decide the exit status, and
	// are written out when --format or --output asks for a report.
	var urls []string
	for _, t := range targets {
		urls = append(urls, t.URL)
	}
	for _, c := range collections {
		urls = append(urls, c.Key)
	}
	var open []finding.Finding
	if len(urls) > 0 {
		if open, err = storeFindings(st, store.Query{Triage: []string{store.TriageOpen}, Repos: urls}); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("reading the store: %w", err)}
		}
		if common.onlyLive { // live and, failing closed, unknown (exit 2)
			var unverified []string
			open, unverified = pipeline.OnlyLive(open)
			problems = append(problems, unverified...)
		}
	}
	if c, err := st.Counts(); err == nil {
		logf("store %s: %d repositories, %d distinct secrets at %d locations (%d open, %d live)", fl.db, c.Repos, c.Fingerprints, c.Locations, c.Open, c.Live)
	}
	if cmd.Flags().Changed("format") || (common.output != "" && common.output != "-") {
		if open, err = applyBaseline(open); err != nil {
			return err
		}
		res := &results{Findings: open, Set: set, Problems: problems}
		res.Summary.Blobs = int64(sum.Blobs)
		res.Summary.BytesScanned = sum.Bytes
		return finish(cmd, res)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "tokenward: error:", p)
		}
		return &exitError{code: 2, err: fmt.Errorf("incomplete sweep: %d problem(s) above; everything else was swept and stored", len(problems))}
	}
	if len(open) > 0 {
		logf("%d open findings in the swept repositories: tokenward report --db %s", len(open), fl.db)
		return exitCode(common.exitCode)
	}
	return nil
}

// sweepImages is this shard's share of --images, each once.
func sweepImages(i, n int) []string {
	var out []string
	seen := map[string]bool{}
	for _, ref := range sweepFlags.images {
		ref = strings.TrimSpace(ref)
		if ref == "" || seen[ref] || sweep.ShardOf(sweep.ImageURLPrefix+ref, n) != i {
			continue
		}
		seen[ref] = true
		out = append(out, ref)
	}
	return out
}

// skipSummary counts skipped repositories by reason.
func skipSummary(sk []sweep.Skip) string {
	by := map[string]int{}
	for _, s := range sk {
		by[s.Reason]++
	}
	var reasons []string
	for r := range by {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	var parts []string
	for _, r := range reasons {
		parts = append(parts, fmt.Sprintf("%d %s", by[r], r))
	}
	hint := ""
	if by["fork"] > 0 || by["archived"] > 0 {
		hint = " (--include-forks, --include-archived sweep them)"
	}
	n := fmt.Sprintf("%d repositories", len(sk))
	if len(sk) == 1 {
		n = "1 repository"
	}
	return n + ": " + strings.Join(parts, ", ") + hint
}

// storeFindings reads findings from the store as report findings: File is
// prefixed with the repository's name, so that locations are unique across
// repositories; forge items are located by their web URLs already.
func storeFindings(st *store.Store, q store.Query) ([]finding.Finding, error) {
	ls, err := st.Findings(q)
	if err != nil {
		return nil, err
	}
	out := make([]finding.Finding, len(ls))
	for i, l := range ls {
		f := l.Finding
		// a git path never holds "//"; an image's locations start with its name
		if !strings.Contains(f.File, "://") && !strings.HasPrefix(l.RepoURL, sweep.ImageURLPrefix) {
			f.File = l.RepoName + "/" + f.File
		}
		out[i] = f
	}
	noteSecrets(out)
	return out, nil
}

// parseIncludes reads --include for each forge in use: a name only one forge
// has must have a source of that forge.
func parseIncludes(list string, github, gitlab bool) (sweep.Include, sweep.Include, error) {
	has := func(forge, n string) bool {
		for _, x := range sweep.IncludeNames(forge) {
			if x == n {
				return true
			}
		}
		return false
	}
	var gh, gl []string
	for _, n := range strings.Split(list, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		inGH, inGL := has("github", n), has("gitlab", n)
		switch {
		case !inGH && !inGL:
			return sweep.Include{}, sweep.Include{}, fmt.Errorf("--include %q: unknown %q (GitHub: %s; GitLab: %s)", list, n,
				strings.Join(sweep.IncludeNames("github"), ","), strings.Join(sweep.IncludeNames("gitlab"), ","))
		case inGH && !inGL && !github:
			return sweep.Include{}, sweep.Include{}, fmt.Errorf("--include %s reads GitHub, and no GitHub source is given (--github-org, --github-user, --repo OWNER/NAME)", n)
		case inGL && !inGH && !gitlab:
			return sweep.Include{}, sweep.Include{}, fmt.Errorf("--include %s reads GitLab, and no GitLab source is given (--gitlab-group, --repo gitlab:PATH)", n)
		}
		if inGH {
			gh = append(gh, n)
		}
		if inGL {
			gl = append(gl, n)
		}
	}
	var ghIn, glIn sweep.Include
	var err error
	if len(gh) > 0 {
		if ghIn, err = sweep.ParseInclude("github", strings.Join(gh, ",")); err != nil {
			return ghIn, glIn, err
		}
	}
	if len(gl) > 0 {
		glIn, err = sweep.ParseInclude("gitlab", strings.Join(gl, ","))
	}
	return ghIn, glIn, err
}

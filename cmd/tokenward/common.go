package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/baseline"
	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/hygiene"
	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/report"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/source/files"
	"github.com/tokenward/tokenward/verify"
)

// common holds the flags shared by every scanning command.
var common struct {
	config        string
	format        string
	template      string
	output        string
	showSecrets   bool
	baseline      string
	workers       int
	exitCode      int
	maxFileSize   string
	gitleaksAllow bool
	noColor       bool
	verify        bool
	onlyLive      bool
	endpoints     []string
	skipBinary    bool
	trustRepo     bool
	// maxArchiveDepth is how deep archives are opened (0: not at all).
	maxArchiveDepth int
	minConfidence   string
}

// workers returns the configured worker count.
func workers() int {
	if common.workers > 0 {
		return common.workers
	}
	return max(2, numCPU())
}

// parseSize reads sizes like 500, 64KB, 50MB, 2GiB.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--max-file-size %q: want a size such as 500KB, 50MB or 1GiB", s)
	}
	return n * mult, nil
}

// usageError is a mistake on the command line or in configuration: exit 2.
func usageError(err error) error { return &exitError{code: 2, err: err} }

// ruleConverters turn foreign configuration formats into tokenward TOML; the
// gitleaks importer registers itself here.
var ruleConverters []func(path string, data []byte) ([]byte, bool, error)

// loadRules returns the rule set for a scan rooted at root. The examples of the
// user's own rules must hold (built-in ones are held by the test suite): a failing
// example is a configuration error.
func loadRules(root string) (*rules.Set, error) { return loadRulesFrom(root, nil) }

// loadRulesFrom is loadRules with the repository's configuration read by the
// caller (git --range: as of BASE); nil reads it from root.
func loadRulesFrom(root string, repoConfig *rules.RepoConfig) (*rules.Set, error) {
	set, err := loadRulesOpts(root, repoConfig)
	if err != nil {
		return nil, err
	}
	failures, err := TestRuleExamples(set, func(r *rules.Rule) bool { return !r.Builtin() })
	if err != nil {
		return nil, usageError(err)
	}
	if len(failures) > 0 {
		return nil, usageError(fmt.Errorf("%s\n(run tokenward rules test to see every failure)", strings.Join(failures, "\n")))
	}
	return set, nil
}

// loadRulesUnchecked loads the rule set without running examples.
func loadRulesUnchecked(root string) (*rules.Set, error) { return loadRulesOpts(root, nil) }

// loadRulesOpts loads the rule set; a configuration found in the scanned tree
// (root's, or repoConfig) is untrusted unless --trust-repo-config.
func loadRulesOpts(root string, repoConfig *rules.RepoConfig) (*rules.Set, error) {
	set, err := rules.Load(rules.LoadOptions{ConfigPath: common.config, Root: root, RepoConfig: repoConfig,
		TrustRepoConfig: common.trustRepo, Hygiene: hygiene.Policy{}, Convert: convertConfig})
	if err != nil {
		return nil, usageError(err)
	}
	if set, err = selectRules(set); err != nil { // --enable-rule, --max-decode-depth
		return nil, usageError(err)
	}
	return set, nil
}

func convertConfig(path string, data []byte) ([]byte, bool, error) {
	for _, c := range ruleConverters {
		if out, ok, err := c(path, data); ok || err != nil {
			return out, ok, err
		}
	}
	return nil, false, nil
}

// newEngine compiles the engine for a rule set.
func newEngine(set *rules.Set) (*engine.Engine, error) {
	eng, err := engine.New(set, engine.Options{GitleaksAllow: common.gitleaksAllow || set.GitleaksAllow, DecodeDepth: engineDecodeDepth()})
	if err != nil {
		return nil, usageError(err)
	}
	return eng, nil
}

// results is what a command writes: findings that went through every stage
// they need (a pipeline run, or a query of the sweep store).
type results struct {
	Findings []finding.Finding
	Summary  report.Summary
	Problems []string // make the result incomplete: exit 2
	Warnings []string // printed, do not change the exit code
	Set      *rules.Set
	RepoURI  string
}

// fromPipeline turns a pipeline result into what finish writes.
func fromPipeline(r *pipeline.Result, set *rules.Set, repoURI string) *results {
	if r.Verified != nil {
		fmt.Fprintln(os.Stderr, "tokenward: verification:", statusSummary(r.Verified))
	}
	if r.Expired > 0 {
		fmt.Fprintf(os.Stderr, "tokenward: warning: %s matched expired entries in %s and are reported again\n",
			plural(int64(r.Expired), "finding"), common.baseline)
	}
	return &results{
		Findings: r.Findings, Problems: r.Problems, Warnings: r.Warnings, Set: set, RepoURI: repoURI,
		Summary: report.Summary{Files: r.Stats.Files, Blobs: r.Stats.Blobs, BytesScanned: r.Stats.Bytes,
			Skipped: r.Skipped, Suppressed: r.Suppressed},
	}
}

// finish writes the report and returns the exit status: 2 when the result is
// incomplete, the --exit-code when findings remain.
func finish(cmd *cobra.Command, res *results) error {
	noteSecrets(res.Findings)       // every secret is redacted, also of findings the filters drop
	if common.minConfidence == "" { // a command without the flag
		common.minConfidence = finding.Confidences[len(finding.Confidences)-1]
	}
	if !finding.ValidConfidence(common.minConfidence) {
		return usageError(fmt.Errorf("--min-confidence %q: want one of %s", common.minConfidence, strings.Join(finding.Confidences, ", ")))
	}
	res.Findings = finding.MinConfidence(res.Findings, common.minConfidence)
	res.Findings = filterResults(res.Findings) // --results
	res.Summary.Problems = res.Problems
	var infos []report.RuleInfo
	if res.Set != nil {
		for _, r := range res.Set.Rules {
			infos = append(infos, report.RuleInfo{ID: r.ID, Description: r.Description, Severity: r.Severity, Tags: r.Tags})
		}
		infos = append(infos, hygieneRuleInfos()...)
	}
	opts := report.Options{
		Format:        common.format,
		ShowSecrets:   common.showSecrets,
		Color:         (common.output == "" || common.output == "-") && colorOK(),
		Version:       version,
		Rules:         infos,
		Summary:       &res.Summary,
		RepositoryURI: res.RepoURI,
		Redactor:      runRedactor,
		Template:      common.template,
	}
	if err := withOutput(cmd, func(w io.Writer) error { return report.Write(w, res.Findings, opts) }); err != nil {
		return err
	}
	if err := writeExtraReports(cmd, res.Findings, opts); err != nil {
		return err
	}
	for _, w := range res.Warnings {
		note("warning: %s", w)
	}
	if len(res.Problems) > 0 {
		for _, p := range res.Problems {
			fmt.Fprintln(os.Stderr, "tokenward: error:", p)
		}
		return &exitError{code: 2, err: fmt.Errorf("incomplete scan: %d problem(s) above; the findings that were found are reported", len(res.Problems))}
	}
	if len(res.Findings) > 0 {
		return exitCode(common.exitCode)
	}
	return nil
}

// pipelineFor builds the pipeline of a scan whose configuration root is root
// (where .tokenwardignore is read; "" for none, as in sweeps). gitPaths applies
// the ignore file's path patterns to findings (the git source does not skip
// paths while reading).
func pipelineFor(set *rules.Set, pc pipelineChoice) (*pipeline.Pipeline, error) {
	eng, err := newEngine(set)
	if err != nil {
		return nil, err
	}
	hc, err := hygieneChecker(set)
	if err != nil {
		return nil, err
	}
	content, err := contentOptions()
	if err != nil {
		return nil, usageError(err)
	}
	opts := pipeline.Options{Rules: set, Engine: eng, Hygiene: hc, Content: content, IgnorePaths: pc.gitPaths, Redactor: runRedactor}
	if pc.ignore != nil {
		opts.Ignore = pc.ignore
	} else if pc.root != "" {
		if opts.Ignore, err = baseline.LoadIgnoreList(filepath.Join(pc.root, files.IgnoreFileName)); err != nil {
			return nil, usageError(err)
		}
	}
	if common.baseline != "" && !pc.noBaseline {
		if opts.Baseline, err = baseline.Load(common.baseline); err != nil {
			return nil, usageError(err)
		}
		warnBaselineKey(common.baseline, opts.Baseline)
	}
	if (common.verify || common.onlyLive) && !pc.noVerify {
		v, err := processVerifier(set)
		if err != nil {
			return nil, err
		}
		opts.Verifier, opts.OnlyLive = v, common.onlyLive
		opts.ReverifyAfter = verifyFlags.reverifyAfter
	}
	return pipeline.New(opts)
}

// pipelineChoice says which stages a command's pipeline has.
type pipelineChoice struct {
	root       string               // where .tokenwardignore is read; "" for none
	ignore     *baseline.IgnoreList // when set, used instead of root's .tokenwardignore (git --range: BASE's)
	gitPaths   bool                 // apply its path patterns to findings (sources that do not skip paths)
	noBaseline bool                 // --baseline applies later (sweeps store every finding)
	noVerify   bool                 // never verify (baselines)
}

// applyBaseline applies --baseline to findings that did not come through a
// pipeline (the sweep store).
func applyBaseline(fs []finding.Finding) ([]finding.Finding, error) {
	if common.baseline == "" {
		return fs, nil
	}
	kept, _, err := filterByBaseline(common.baseline, fs)
	if err != nil {
		return nil, usageError(err)
	}
	return kept, nil
}

// contentOptions reads how blob content is read from the command line.
func contentOptions() (pipeline.ContentOptions, error) {
	maxSize, err := parseSize(common.maxFileSize)
	if err != nil {
		return pipeline.ContentOptions{}, err
	}
	if common.maxArchiveDepth < 0 {
		return pipeline.ContentOptions{}, fmt.Errorf("--max-archive-depth %d: want 0 (archives not opened) or more", common.maxArchiveDepth)
	}
	return pipeline.ContentOptions{MaxFileSize: maxSize, SkipBinary: common.skipBinary, MaxArchiveDepth: common.maxArchiveDepth}, nil
}

var theVerifier struct {
	v   *verify.Verifier
	set *rules.Set
}

// processVerifier returns the one verifier of this process: its per-host rate
// limits, concurrency cap and request dedupe hold across everything it checks.
func processVerifier(set *rules.Set) (*verify.Verifier, error) {
	if theVerifier.v != nil && theVerifier.set == set {
		return theVerifier.v, nil
	}
	opts, err := verifyOptions()
	if err != nil {
		return nil, usageError(err)
	}
	v, err := verify.New(set, opts)
	if err != nil {
		return nil, usageError(err)
	}
	theVerifier.v, theVerifier.set = v, set
	return v, nil
}

func colorOK() bool {
	if common.noColor || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := os.Stdout.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// scanRoot is the directory whose .tokenward.toml and .tokenwardignore apply:
// the top of the repository holding the first path, else that path.
func scanRoot(paths []string) string {
	if len(paths) == 0 || paths[0] == "-" {
		return rules.ConfigRoot(".")
	}
	return rules.ConfigRoot(paths[0])
}

func errUnknownFormat(f string) error {
	return fmt.Errorf("--format %q: want one of %s", f, strings.Join(report.Formats(), ", "))
}

func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.FormatInt(n, 10) + " " + what + "s"
}

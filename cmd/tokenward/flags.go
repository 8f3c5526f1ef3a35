package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/baseline"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/report"
)

// Flags are registered only on the commands they affect: `tokenward rules list
// --verify` is an error, not a flag silently ignored. Each group below is one
// concern; the table in init says which commands have which.

// addRuleFlags: what the rule set is.
func addRuleFlags(c *cobra.Command) {
	c.Flags().StringVarP(&common.config, "config", "c", "", "rule configuration file, trusted (default: .tokenward.toml at the top of the scanned repository, untrusted)")
	c.Flags().BoolVar(&common.trustRepo, "trust-repo-config", false, "let the scanned repository's .tokenward.toml replace built-in rules, name verify/revoke hosts and switch checks off")
}

// addEngineFlags: how content is matched and read.
func addEngineFlags(c *cobra.Command) {
	f := c.Flags()
	f.BoolVar(&common.gitleaksAllow, "gitleaks-allow", false, "also honour inline gitleaks:allow comments")
	f.StringArrayVar(&enableRules, "enable-rule", nil, "run only these rules (rule or hygiene check ids; repeatable or comma-separated)")
	f.IntVar(&maxDecodeDepth, "max-decode-depth", defaultDecodeDepth, "layers of base64/hex/percent/\\u encoding decoded and scanned again (0: none)")
	f.IntVarP(&common.workers, "workers", "j", 0, "concurrent workers (default: number of CPUs)")
	f.StringVar(&common.maxFileSize, "max-file-size", "", "skip files larger than this (e.g. 50MB); default: no limit, large files are streamed")
	f.IntVar(&common.maxArchiveDepth, "max-archive-depth", 4, "open archives (zip, jar, tar, gz, bz2, xz, zst) nested this deep; 0 reads them as binary")
	f.BoolVar(&common.skipBinary, "skip-binary", false, "skip binary files (default: scan their printable runs, as strings(1) would)")
}

// addBaselineFlag: which findings are already accepted.
func addBaselineFlag(c *cobra.Command) {
	c.Flags().StringVar(&common.baseline, "baseline", "", "suppress findings recorded in this baseline file")
}

// addOutputFlag: -o alone, for commands that write one file.
func addOutputFlag(c *cobra.Command, usage string) {
	c.Flags().StringVarP(&common.output, "output", "o", "", usage)
}

// addReportFlags: how findings are written, and the exit status they give.
func addReportFlags(c *cobra.Command, exit bool) {
	f := c.Flags()
	f.StringVarP(&common.format, "format", "f", "text", "output format: "+strings.Join(report.Formats(), "|")+" (template=FILE also)")
	f.StringVar(&common.template, "template", "", "Go text/template FILE rendered by --format template (dot: the list of findings)")
	addOutputFlag(c, "write results to FILE instead of stdout")
	f.BoolVar(&common.showSecrets, "show-secrets", false, "print secrets unredacted")
	f.BoolVar(&common.noColor, "no-color", false, "never colour text output")
	if exit {
		f.IntVar(&common.exitCode, "exit-code", 1, "exit code when findings are reported")
		f.StringVar(&common.minConfidence, "min-confidence", "low", "report only findings at least this sure: "+strings.Join(finding.Confidences, "|"))
		f.StringSliceVar(&resultsFilter, "results", nil, "report only findings with these verification results: live, invalid, unknown, not_checked (comma-separated; all but not_checked imply --verify)")
	}
}

// addVerifyFlags: live checks. scan verifies only when asked (--verify); a
// command that always verifies (verify, revoke) has no --verify.
func addVerifyFlags(c *cobra.Command, optional bool) {
	f := c.Flags()
	if optional {
		f.BoolVar(&common.verify, "verify", false, "check whether found secrets are live (sends each secret only to its rule's host)")
	}
	if c != revokeCmd {
		f.BoolVar(&common.onlyLive, "only-live", false, "report only secrets verified live (implies --verify)")
	}
	f.StringArrayVar(&common.endpoints, "endpoint", nil, "override a verification base URL: RULE_OR_FAMILY=URL (repeatable)")
	f.DurationVar(&verifyFlags.timeout, "verify-timeout", 10*time.Second, "time limit of each verification request")
	f.IntVar(&verifyFlags.concurrency, "verify-concurrency", 8, "verification requests in flight at most")
	f.Float64Var(&verifyFlags.rate, "verify-rate", 4, "verification requests per second to one host at most")
	f.StringVar(&verifyFlags.logLevel, "verify-log", "", "verification log level on stderr: debug|info|warn|error (default: --log-level; never shows secrets)")
	f.BoolVar(&verifyFlags.allowIntern, "allow-internal", false, "let verification reach loopback, private, link-local and metadata addresses (default: only hosts named with --endpoint may)")
}

func init() {
	for _, c := range []*cobra.Command{scanCmd, gitCmd, imageCmd, s3Cmd, sweepCmd} {
		addRuleFlags(c)
		addEngineFlags(c)
		addBaselineFlag(c)
		addReportFlags(c, true)
		addVerifyFlags(c, true)
		addAlsoWrite(c)
	}
	sweepCmd.Flags().DurationVar(&verifyFlags.reverifyAfter, "reverify-after", 24*time.Hour,
		"reuse a verification stored by an earlier sweep (any repository) when younger than this; 0 reuses any age (unknown results are always checked again)")
	addRuleFlags(baselineCmd)
	addEngineFlags(baselineCmd)
	addOutputFlag(baselineCmd, "baseline file to write (default: "+baseline.DefaultFile+")")
	addBaselineFlag(hookInstallCmd)
	addRuleFlags(hookInstallCmd) // --config and --trust-repo-config are written into the hook

	addRuleFlags(reportCmd)
	addReportFlags(reportCmd, true)
	addVerifyFlags(reportCmd, true)
	addAlsoWrite(reportCmd)

	addRuleFlags(verifyCmd)
	addReportFlags(verifyCmd, false)
	addVerifyFlags(verifyCmd, false)

	addRuleFlags(revokeCmd)
	revokeCmd.Flags().StringVarP(&common.format, "format", "f", "text", "output format: text|json|jsonl")
	addOutputFlag(revokeCmd, "write results to FILE instead of stdout")
	addVerifyFlags(revokeCmd, false)

	addRuleFlags(rulesListCmd)
	rulesListCmd.Flags().StringVarP(&common.format, "format", "f", "text", "output format: text|json")
	addRuleFlags(rulesTestCmd)
	addOutputFlag(importGitleaksCmd, "write the converted TOML to FILE (default: stdout)")
	addOutputFlag(mergeCmd, "the merged store to write")

	// Logging, for every command.
	p := rootCmd.PersistentFlags()
	p.BoolVarP(&logFlags.quiet, "quiet", "q", false, "print only errors on stderr (no warnings, notes or progress)")
	p.BoolVarP(&logFlags.verbose, "verbose", "v", false, "print more on stderr (--log-level info)")
	p.StringVar(&logFlags.level, "log-level", "", "stderr log level: debug|info|warn|error (default warn; -q error, -v info)")
	rootCmd.PersistentPreRunE = prepare
}

var logFlags struct {
	quiet, verbose bool
	level          string
	resolved       slog.Level
}

// logEnabled tells whether a message of this level goes to stderr.
func logEnabled(l slog.Level) bool { return l >= logFlags.resolved }

// note prints an informational line to stderr at warn level (hints, notes).
func note(format string, args ...any) {
	if logEnabled(slog.LevelWarn) {
		fmt.Fprintf(os.Stderr, "tokenward: "+format+"\n", args...)
	}
}

// prepare runs before every command: it settles the log level and checks
// flag values that need no scan to be found wrong.
func prepare(cmd *cobra.Command, args []string) error {
	level := slog.LevelWarn
	switch {
	case logFlags.level != "":
		l, ok := parseLogLevel(logFlags.level)
		if !ok {
			return usageError(fmt.Errorf("--log-level %q: want debug, info, warn or error", logFlags.level))
		}
		level = l
		if logFlags.quiet || logFlags.verbose {
			return usageError(fmt.Errorf("--log-level cannot be combined with -q or -v"))
		}
	case logFlags.quiet && logFlags.verbose:
		return usageError(fmt.Errorf("-q and -v cannot be combined"))
	case logFlags.quiet:
		level = slog.LevelError
	case logFlags.verbose:
		level = slog.LevelInfo
	}
	logFlags.resolved = level
	setupFingerprintKey(cmd, args)
	if verifyFlags.logLevel == "" {
		verifyFlags.logLevel = level.String()
	}
	if logFlags.quiet {
		for _, name := range []string{"progress"} {
			if f := cmd.Flags().Lookup(name); f != nil && !f.Changed {
				if err := f.Value.Set("none"); err != nil {
					return usageError(err)
				}
			}
		}
	}
	if err := applyCompat(cmd); err != nil {
		return err
	}
	if _, err := parseAlsoWrite(); err != nil {
		return usageError(err)
	}
	if err := checkResultsFilter(); err != nil {
		return usageError(err)
	}
	if err := checkDecodeDepth(); err != nil {
		return usageError(err)
	}
	return nil
}

// parseLogLevel reads --log-level: tokenward's names, gitleaks' (trace, fatal)
// and TruffleHog's numbers (-1 quiet, 0 its default, 1-5 more and more verbose).
func parseLogLevel(s string) (slog.Level, bool) {
	var l slog.Level
	switch strings.ToLower(s) {
	case "trace", "2", "3", "4", "5":
		return slog.LevelDebug, true
	case "1":
		return slog.LevelInfo, true
	case "0":
		return slog.LevelWarn, true
	case "fatal", "panic", "-1":
		return slog.LevelError, true
	}
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, false
	}
	return l, true
}

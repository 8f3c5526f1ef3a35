package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/report"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/verify"
)

// verifyFlags tune live checks; --verify, --only-live and --endpoint are common flags.
var verifyFlags struct {
	timeout     time.Duration
	concurrency int
	rate        float64
	logLevel    string
	allowIntern bool
	// reverifyAfter: sweep reuses a stored verification younger than this.
	reverifyAfter time.Duration
}

var verifyCmd = &cobra.Command{
	Use:   "verify [REPORT|-]...",
	Short: "Check whether the secrets in a report are live",
	Long: `Re-verify the findings of tokenward JSON or JSONL reports (- or no argument
reads stdin). Reports must have been written with --show-secrets: without the
secret there is nothing to check. Each secret is sent only to the host its rule
names (or the --endpoint override), over HTTPS; loopback, private, link-local and
cloud metadata addresses are refused unless named with --endpoint or allowed with
--allow-internal. An --endpoint key must name a rule id or family.

Results go to the finding's "verification" (status live, invalid, unknown or
not_checked, http_status, checked_at, detail); --only-live keeps live ones, and
unknown ones too, failing with exit 2: unknown is never taken for dead.
Exit codes: 0 nothing live, 1 some secret is live, 2 error (or, with
--only-live, some secret could not be verified).`,
	RunE: runVerify,
}

func init() {
	rootCmd.AddCommand(verifyCmd)
}

// verifyOptions builds verify.Options from the command line.
func verifyOptions() (verify.Options, error) {
	eps, err := verify.ParseEndpoints(common.endpoints)
	if err != nil {
		return verify.Options{}, err
	}
	var level slog.Level
	if verifyFlags.logLevel == "" {
		verifyFlags.logLevel = "warn" // --log-level's default; prepare sets it from -q/-v/--log-level
	}
	if err := level.UnmarshalText([]byte(verifyFlags.logLevel)); err != nil {
		return verify.Options{}, fmt.Errorf("--verify-log %q: want debug, info, warn or error", verifyFlags.logLevel)
	}
	if verifyFlags.timeout <= 0 || verifyFlags.concurrency <= 0 || verifyFlags.rate <= 0 {
		return verify.Options{}, fmt.Errorf("--verify-timeout, --verify-concurrency and --verify-rate must be positive")
	}
	return verify.Options{
		Endpoints:     eps,
		Timeout:       verifyFlags.timeout,
		Concurrency:   verifyFlags.concurrency,
		PerHostRate:   verifyFlags.rate,
		AllowInternal: verifyFlags.allowIntern,
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		UserAgent:     "tokenward/" + version,
	}, nil
}

func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// verificationSummary counts findings by verification status.
func verificationSummary(fs []finding.Finding) string {
	n := map[string]int{}
	for _, f := range fs {
		if f.Verification != nil {
			n[f.Verification.Status]++
		}
	}
	return statusSummary(n)
}

// statusSummary describes counts by verification status.
func statusSummary(n map[string]int) string {
	if len(n) == 0 {
		return "nothing to verify"
	}
	order := []string{finding.StatusLive, finding.StatusInvalid, finding.StatusUnknown, finding.StatusNotChecked}
	var parts []string
	for _, s := range order {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	return strings.Join(parts, ", ")
}

// readReports reads findings from report files ("-" is stdin).
func readReports(cmd *cobra.Command, paths []string) ([]finding.Finding, error) {
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	var all []finding.Finding
	for _, p := range paths {
		var r io.Reader
		name := p
		if p == "-" {
			r, name = cmd.InOrStdin(), "stdin"
		} else {
			f, err := os.Open(p)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			r = f
		}
		fs, err := report.Read(r, name)
		if err != nil {
			return nil, err
		}
		noteSecrets(fs)
		all = append(all, fs...)
	}
	return all, nil
}

func runVerify(cmd *cobra.Command, args []string) error {
	if !report.ValidFormat(common.format) {
		return usageError(errUnknownFormat(common.format))
	}
	opts, err := verifyOptions()
	if err != nil {
		return usageError(err)
	}
	fs, err := readReports(cmd, args)
	if err != nil {
		return usageError(err)
	}
	set, err := loadRules(".")
	if err != nil {
		return err
	}
	missing := 0
	for _, f := range fs {
		if f.Secret == "" && f.Kind != finding.KindHygiene {
			missing++
		}
	}
	if missing > 0 && missing == len(fs) {
		return usageError(fmt.Errorf("the report holds no secrets: write it with --show-secrets (e.g. tokenward scan --format jsonl --show-secrets -o report.jsonl)"))
	}
	ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt)
	defer stop()
	fs, err = verify.Apply(ctx, set, fs, opts, false)
	if err != nil {
		return usageError(err)
	}
	fmt.Fprintln(os.Stderr, "tokenward: verification:", verificationSummary(fs))
	live := len(verify.OnlyLive(fs))
	var problems []string
	if common.onlyLive {
		fs, problems = pipeline.OnlyLive(fs)
	}
	if err := writeFindings(cmd, fs, set); err != nil {
		return err
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "tokenward: error:", p)
		}
		return &exitError{code: 2, err: fmt.Errorf("%d finding(s) could not be verified; they are reported with status unknown", len(problems))}
	}
	if live > 0 {
		return exitCode(1)
	}
	return nil
}

// writeFindings writes findings in --format to --output (or stdout).
func writeFindings(cmd *cobra.Command, fs []finding.Finding, set *rules.Set) error {
	var infos []report.RuleInfo
	for _, r := range set.Rules {
		infos = append(infos, report.RuleInfo{ID: r.ID, Description: r.Description, Severity: r.Severity, Tags: r.Tags})
	}
	return withOutput(cmd, func(w io.Writer) error {
		return report.Write(w, fs, report.Options{Format: common.format, ShowSecrets: common.showSecrets,
			Color: common.output == "" && colorOK(), Version: version, Rules: infos, Redactor: runRedactor, Template: common.template})
	})
}

// uniqueByFingerprint keeps the first secret finding of each fingerprint, in
// input order, preferring one that carries its secret.
func uniqueByFingerprint(fs []finding.Finding) []finding.Finding {
	idx := map[string]int{}
	var out []finding.Finding
	for _, f := range fs {
		if f.Kind == finding.KindHygiene {
			continue
		}
		if f.Fingerprint == "" && f.Secret != "" {
			f.Fingerprint = finding.Fingerprint(f.RuleID, f.Secret)
		}
		if i, ok := idx[f.Fingerprint]; ok {
			if out[i].Secret == "" && f.Secret != "" {
				out[i] = f
			}
			continue
		}
		idx[f.Fingerprint] = len(out)
		out = append(out, f)
	}
	return out
}

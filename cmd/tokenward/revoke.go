package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify"
)

var revokeFlags struct {
	yes             bool
	confirmAttempts int
	confirmDelay    time.Duration
	auditLog        string
	fingerprints    []string
}

var revokeCmd = &cobra.Command{
	Use:   "revoke [REPORT]...",
	Short: "Revoke leaked secrets that verify live (dry run unless --yes)",
	Long: `Revoke the secrets of tokenward JSON/JSONL reports (written with --show-secrets),
or, with --fingerprint F (repeatable) and no report, the secrets given on stdin
(one per line; each fingerprint names its rule).

Without --yes nothing is revoked: each secret is verified and the redacted
requests that would revoke it are printed. With --yes, only secrets verified
live now are revoked; each is verified again afterwards and reported "revoked"
only when confirmed dead, "revoke_unconfirmed" otherwise. Every attempt is
appended to the audit log (--audit-log; JSONL: time, fingerprint, rule, endpoint
host, result, operator from $USER, a sequence number and an HMAC under the key
kept 0600 in AUDIT-LOG.key; never the secret). The log is believed only after
re-verifying: a fingerprint it records as revoked that still verifies live is
revoked again. Edited, forged, unsigned, removed or replayed records are
reported on stderr and ignored.

Exit codes: 0 every secret is dead (or, in a dry run, live and revocable, or
dead), 1 some are not, 2 error.`,
	RunE: runRevoke,
}

func init() {
	f := revokeCmd.Flags()
	f.BoolVar(&revokeFlags.yes, "yes", false, "really revoke (default: dry run)")
	f.StringVar(&revokeFlags.auditLog, "audit-log", "tokenward-audit.jsonl", "append-only JSONL record of revocations")
	f.IntVar(&revokeFlags.confirmAttempts, "confirm-attempts", 3, "re-verifications after a revocation before it counts as unconfirmed")
	f.DurationVar(&revokeFlags.confirmDelay, "confirm-delay", 2*time.Second, "pause between re-verifications (providers may revoke asynchronously)")
	f.StringSliceVar(&revokeFlags.fingerprints, "fingerprint", nil, "revoke only these fingerprints (tw1:…); with no report, read their secrets from stdin")
	rootCmd.AddCommand(revokeCmd)
}

func runRevoke(cmd *cobra.Command, args []string) error {
	switch common.format {
	case "text", "json", "jsonl":
	default:
		return usageError(fmt.Errorf("--format %q: revoke writes text, json or jsonl", common.format))
	}
	opts, err := verifyOptions()
	if err != nil {
		return usageError(err)
	}
	if revokeFlags.confirmAttempts < 1 || revokeFlags.confirmDelay <= 0 {
		return usageError(errors.New("--confirm-attempts and --confirm-delay must be positive"))
	}
	opts.ConfirmAttempts, opts.ConfirmDelay = revokeFlags.confirmAttempts, revokeFlags.confirmDelay
	for _, fp := range revokeFlags.fingerprints {
		if !finding.HasFingerprintPrefix(fp) {
			return usageError(fmt.Errorf("--fingerprint %q: want tw1:… (or a legacy sha256:…) as printed in reports", fp))
		}
	}
	if len(args) == 0 && len(revokeFlags.fingerprints) == 0 {
		return usageError(errors.New("give a report file (written with --show-secrets), or --fingerprint F with the secret on stdin"))
	}
	set, err := loadRules(".")
	if err != nil {
		return err
	}
	var fs []finding.Finding
	switch {
	case len(args) > 0:
		if fs, err = readReports(cmd, args); err != nil {
			return usageError(err)
		}
		if len(revokeFlags.fingerprints) > 0 {
			want := map[string]bool{}
			for _, fp := range revokeFlags.fingerprints {
				want[fp] = true
			}
			kept := fs[:0]
			for _, f := range fs {
				if want[f.Fingerprint] {
					kept = append(kept, f)
				}
			}
			fs = kept
		}
	case len(revokeFlags.fingerprints) > 0:
		in, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
		if err != nil {
			return usageError(fmt.Errorf("reading secrets from stdin: %w", err))
		}
		fs, err = verify.FindingsForFingerprints(set, revokeFlags.fingerprints, string(in))
		noteSecrets(fs)
		if err != nil {
			return usageError(err)
		}
	default:
		return usageError(errors.New("give a report file (written with --show-secrets), or --fingerprint F with the secret on stdin"))
	}
	fs = uniqueByFingerprint(fs)
	if len(fs) == 0 {
		return usageError(errors.New("no secret findings to revoke in the input"))
	}
	for _, f := range fs {
		if f.Secret == "" {
			return usageError(fmt.Errorf("finding %s (%s) has no secret: write the report with --show-secrets, or pass --fingerprint %s with the secret on stdin", f.Fingerprint, f.RuleID, f.Fingerprint))
		}
	}

	v, err := verify.New(set, opts)
	if err != nil {
		return usageError(err)
	}
	var audit *verify.AuditLog
	if revokeFlags.yes {
		audit, err = verify.OpenAudit(revokeFlags.auditLog)
	} else {
		audit, err = verify.LoadAudit(revokeFlags.auditLog)
	}
	if err != nil {
		return usageError(err)
	}
	defer audit.Close()
	for _, p := range audit.Problems() {
		fmt.Fprintln(os.Stderr, "tokenward: warning: audit log:", p)
	}

	ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt)
	defer stop()
	var results []verify.Result
	var runErr error
	for _, f := range fs {
		res, err := v.Revoke(ctx, f, verify.RevokeOptions{DryRun: !revokeFlags.yes, Audit: audit})
		if err != nil {
			runErr = err
			if res.Fingerprint != "" {
				results = append(results, res)
			}
			break
		}
		results = append(results, res)
	}
	if err := withOutput(cmd, func(w io.Writer) error { return writeRevokeResults(w, results, !revokeFlags.yes) }); err != nil {
		return err
	}
	if runErr != nil {
		return &exitError{code: 2, err: runErr}
	}
	for _, r := range results {
		ok := r.Dead || (!revokeFlags.yes && r.Action == verify.ActionDryRun)
		if !ok {
			return exitCode(1)
		}
	}
	return nil
}

func writeRevokeResults(w io.Writer, results []verify.Result, dryRun bool) error {
	switch common.format {
	case "json":
		if results == nil {
			results = []verify.Result{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(results)
	case "jsonl":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	counts := map[string]int{}
	for _, r := range results {
		label := revokeLabel(r)
		counts[label]++
		fmt.Fprintf(w, "%-18s %s %s %s\n", label, r.RuleID, r.Redacted, r.Fingerprint)
		if r.Detail != "" {
			fmt.Fprintf(w, "    %s\n", r.Detail)
		}
		if v := r.Verification; v != nil && r.Action == verify.ActionDryRun && v.Detail != "" {
			fmt.Fprintf(w, "    verified: %s\n", v.Detail)
		}
		for _, req := range r.Requests {
			fmt.Fprintf(w, "    would send: %s\n", strings.ReplaceAll(req, "\n", "\n    "))
		}
	}
	var parts []string
	for _, l := range []string{"revoked", "already revoked", "unconfirmed", "would revoke", "dead", "not live", "unsupported"} {
		if counts[l] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[l], l))
		}
	}
	mode := ""
	if dryRun {
		mode = " (dry run: nothing revoked; --yes to act)"
	}
	_, err := fmt.Fprintf(w, "%d secret(s): %s%s\n", len(results), strings.Join(parts, ", "), mode)
	return err
}

func revokeLabel(r verify.Result) string {
	switch r.Action {
	case verify.ActionDryRun:
		return "would revoke"
	case verify.ActionAlreadyRevoked:
		return "already revoked"
	case verify.ActionUnsupported:
		return "unsupported"
	case verify.ActionSkipped:
		if r.Dead {
			return "dead"
		}
		return "not live"
	}
	if r.Status == finding.StatusRevoked {
		return "revoked"
	}
	return "unconfirmed"
}

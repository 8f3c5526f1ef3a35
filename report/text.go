package report

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// ANSI styles used when Options.Color is set.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiGreen  = "\x1b[32m"
)

// maxContext is the longest context line (in runes) text output prints; longer
// lines (minified files) are cut to a window around the secret.
const maxContext = 160

type styler bool

func (s styler) wrap(style, text string) string {
	if !s || text == "" {
		return text
	}
	return style + text + ansiReset
}

func (s styler) severity(sev string) string {
	switch finding.SeverityRank(sev) {
	case 0:
		return s.wrap(ansiBold+ansiRed, sev)
	case 1:
		return s.wrap(ansiRed, sev)
	case 2:
		return s.wrap(ansiYellow, sev)
	case 3:
		return s.wrap(ansiCyan, sev)
	default:
		return s.wrap(ansiDim, sev)
	}
}

// writeText prints one block per finding:
//
//	config/app.yaml:12:9  github-pat  high  ghp_…Q9xz
//	    token: ghp_…Q9xz
//	    commit 0123456789ab  Alice <alice@example.com>  2026-01-02T03:04:05Z
//	    verification: live (HTTP 200)
//
// and a closing summary line.
func writeText(w io.Writer, fs []finding.Finding, opts Options) error {
	bw := bufio.NewWriter(w)
	st := styler(opts.Color)
	for _, f := range fs {
		loc := fmt.Sprintf("%s:%d:%d", clean(f.File), f.Line, f.Column)
		sev := f.Severity
		if sev == "" {
			sev = "unknown"
		}
		shown := f.Redacted
		if opts.ShowSecrets && f.Secret != "" {
			shown = f.Secret
		}
		fmt.Fprintf(bw, "%s  %s  %s  %s\n", st.wrap(ansiBold, loc), st.wrap(ansiBold, clean(f.RuleID)), st.severity(sev), clean(shown))
		if f.Description != "" {
			fmt.Fprintf(bw, "    %s\n", st.wrap(ansiDim, clean(f.Description)))
		}
		if f.Message != "" {
			fmt.Fprintf(bw, "    %s\n", clean(f.Message))
		}
		if ctx := contextLine(f, shown); ctx != "" {
			fmt.Fprintf(bw, "    | %s\n", ctx)
		}
		if f.Encoding != "" {
			fmt.Fprintf(bw, "    decoded from %s\n", clean(f.Encoding))
		}
		if f.Deleted != "" {
			fmt.Fprintf(bw, "    %s\n", st.wrap(ansiYellow, "deleted in "+clean(f.Deleted)+" (still readable in the layer that holds it)"))
		}
		if f.Commit != "" {
			line := "commit " + shortCommit(clean(f.Commit))
			if who := author(f); who != "" {
				line += "  " + who
			}
			if f.Date != "" {
				line += "  " + clean(f.Date)
			}
			fmt.Fprintf(bw, "    %s\n", st.wrap(ansiDim, line))
		}
		if v := f.Verification; v != nil && v.Status != "" {
			status := v.Status
			switch v.Status {
			case finding.StatusLive:
				status = st.wrap(ansiBold+ansiRed, status)
			case finding.StatusInvalid, finding.StatusRevoked:
				status = st.wrap(ansiGreen, status)
			}
			line := "verification: " + status
			var extra []string
			if v.HTTPStatus != 0 {
				extra = append(extra, fmt.Sprintf("HTTP %d", v.HTTPStatus))
			}
			if v.Detail != "" {
				extra = append(extra, clean(v.Detail))
			}
			if len(extra) > 0 {
				line += " (" + strings.Join(extra, "; ") + ")"
			}
			fmt.Fprintf(bw, "    %s\n", line)
			if a := v.Access.Summary(); a != "" {
				fmt.Fprintf(bw, "    access: %s\n", clean(a))
			}
		}
		for _, p := range f.Parts {
			fmt.Fprintf(bw, "    with %s %s at line %d\n", clean(p.RuleID), clean(p.Redacted), p.Line)
		}
		fmt.Fprintf(bw, "    fingerprint %s\n\n", st.wrap(ansiDim, clean(f.Fingerprint)))
	}
	fmt.Fprintln(bw, summaryLine(fs, opts.Summary, st))
	if s := opts.Summary; s != nil {
		for _, p := range s.Problems {
			fmt.Fprintf(bw, "%s %s\n", st.wrap(ansiBold+ansiYellow, "problem:"), clean(p))
		}
	}
	return bw.Flush()
}

func author(f finding.Finding) string {
	switch {
	case f.Author != "" && f.Email != "":
		return clean(f.Author) + " <" + clean(f.Email) + ">"
	case f.Author != "":
		return clean(f.Author)
	default:
		return clean(f.Email)
	}
}

// summaryLine is e.g. "3 findings (1 critical, 2 high) in 120 files, 4 binary files skipped".
func summaryLine(fs []finding.Finding, s *Summary, st styler) string {
	var parts []string
	head := plural(len(fs), "finding", "findings")
	if len(fs) > 0 {
		counts := map[string]int{}
		var order []string
		for _, f := range fs {
			sev := f.Severity
			if sev == "" {
				sev = "unknown"
			}
			if counts[sev] == 0 {
				order = append(order, sev)
			}
			counts[sev]++
		}
		sortSeverities(order)
		var bySev []string
		for _, sev := range order {
			bySev = append(bySev, fmt.Sprintf("%d %s", counts[sev], sev))
		}
		head += " (" + strings.Join(bySev, ", ") + ")"
		head = st.wrap(ansiBold+ansiRed, head)
	} else {
		head = st.wrap(ansiBold+ansiGreen, head)
	}
	if s == nil {
		return head
	}
	var scanned []string
	if s.Files > 0 || s.Blobs == 0 {
		scanned = append(scanned, plural64(s.Files, "file", "files"))
	}
	if s.Blobs > 0 {
		scanned = append(scanned, plural64(s.Blobs, "blob", "blobs"))
	}
	head += " in " + strings.Join(scanned, " and ")
	if s.BytesScanned > 0 {
		head += " (" + humanBytes(s.BytesScanned) + ")"
	}
	if n := len(s.Skipped); n > 0 {
		parts = append(parts, fmt.Sprintf("%d not scanned (%s)", n, skipReasons(s.Skipped)))
	}
	if s.Suppressed > 0 {
		parts = append(parts, fmt.Sprintf("%d suppressed by baseline or ignore list", s.Suppressed))
	}
	if n := len(s.Problems); n > 0 {
		parts = append(parts, st.wrap(ansiBold+ansiYellow, plural(n, "problem", "problems")+" (scan incomplete)"))
	}
	if len(parts) > 0 {
		head += "; " + strings.Join(parts, "; ")
	}
	return head
}

func sortSeverities(s []string) {
	slices.SortFunc(s, func(a, b string) int {
		return cmp.Or(cmp.Compare(finding.SeverityRank(a), finding.SeverityRank(b)), cmp.Compare(a, b))
	})
}

func plural(n int, one, many string) string { return plural64(int64(n), one, many) }

func plural64(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// contextLine returns the finding's line, trimmed, made safe for a terminal and
// cut to a window around the shown secret when it is very long.
func contextLine(f finding.Finding, shown string) string {
	ctx := strings.TrimRight(f.Context, "\r\n")
	ctx = strings.TrimSpace(ctx)
	if ctx == "" {
		return ""
	}
	if utf8.RuneCountInString(ctx) > maxContext {
		ctx = window(ctx, shown, maxContext)
	}
	return clean(ctx)
}

// window cuts s to about n bytes around the first occurrence of needle (the
// redacted secret), never inside a token (see finding.Excerpt).
func window(s, needle string, n int) string {
	i := strings.Index(s, needle)
	if needle == "" || i < 0 {
		i, needle = 0, ""
	}
	return finding.Excerpt(s, i, i+len(needle), n, false, false)
}

// clean makes text safe to print on a terminal: invalid UTF-8 becomes U+FFFD and
// control characters (escape sequences from a scanned file) are shown escaped.
func clean(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, "\\x%02x", r)
		case r == '\u2028' || r == '\u2029' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') || r == '\u061c' || r == '\u200e' || r == '\u200f':
			// line separators and bidirectional overrides ("trojan source")
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// skipReasons counts skipped items by reason: "binary" or "binary: 2, too large: 1".
func skipReasons(sk []source.Skip) string {
	by := map[string]int{}
	var reasons []string
	for _, s := range sk {
		if by[s.Reason] == 0 {
			reasons = append(reasons, s.Reason)
		}
		by[s.Reason]++
	}
	sort.Strings(reasons)
	if len(reasons) == 1 {
		return reasons[0]
	}
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%s: %d", r, by[r])
	}
	return strings.Join(parts, ", ")
}

// Package report writes findings out: text for people, json and jsonl for machines,
// SARIF 2.1.0 for code scanning, GitHub workflow-command annotations, gitleaks'
// JSON report, csv, JUnit XML, a self-contained HTML page and user templates
// (Go text/template). It knows
// nothing of regexes or sources; everything it needs comes in as findings and
// RuleInfo. Secrets are redacted in every format unless Options.ShowSecrets.
package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// Format names accepted by Write.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatJSONL    = "jsonl"
	FormatSARIF    = "sarif"
	FormatGitHub   = "github"
	FormatGitleaks = "gitleaks"
	FormatCSV      = "csv"
	FormatJUnit    = "junit"
	FormatHTML     = "html"
	// FormatTemplate renders Options.Template, a Go text/template file; the
	// format may also be written "template=FILE".
	FormatTemplate = "template"
)

// Formats lists the accepted format names, in the order they are documented.
func Formats() []string {
	return []string{FormatText, FormatJSON, FormatJSONL, FormatSARIF, FormatGitHub,
		FormatGitleaks, FormatCSV, FormatJUnit, FormatHTML, FormatTemplate}
}

// InformationURI is the project's home page, written into SARIF.
const InformationURI = "https://github.com/tokenward/tokenward"

// RuleInfo describes a rule for reports (SARIF rule metadata). It carries no regexes.
type RuleInfo struct {
	ID          string
	Description string
	Severity    string
	HelpURI     string
	Tags        []string
}

// Summary describes the scan that produced the findings; text prints it as a
// closing line, github as annotations for problems.
type Summary struct {
	Files        int64 // files (or paths) scanned
	Blobs        int64 // git blobs scanned
	BytesScanned int64
	Skipped      []source.Skip // every file, blob or archive member not scanned, and why
	Suppressed   int           // findings suppressed by baseline or ignore list
	Problems     []string      // what made the scan incomplete (unreadable files...)
}

// Options controls Write.
type Options struct {
	Format      string // one of Formats(); "" means text
	ShowSecrets bool   // keep raw secrets in the output
	Color       bool   // ANSI colour in text output; callers enable it on a TTY only
	Version     string // tokenward version, for SARIF tool.driver.version
	// Rules supplies SARIF rule metadata. Only rules referenced by a finding are
	// written; a referenced rule missing here is described from its findings.
	Rules   []RuleInfo
	Summary *Summary // optional
	// RepositoryURI and Revision, when RepositoryURI is set, become SARIF
	// run.versionControlProvenance (the schema requires repositoryUri there).
	// Revision defaults to the commit shared by every finding, if there is one.
	RepositoryURI string
	Revision      string
	// Redactor holds every secret of the run (also those of findings that
	// are not written: suppressed, or below a threshold). Unless ShowSecrets,
	// each is hidden, in every encoding, from every byte Write writes. nil: the
	// secrets of the findings written.
	Redactor *finding.Redactor
	// Template is the Go text/template file rendered by the template format
	// (--template FILE); "template=FILE" as Format sets it too.
	Template string
}

// Write writes findings in opts.Format. Whatever the format, the findings and
// the bytes written pass the guard (guard.go): secrets redacted, control
// characters escaped. Findings are written in a deterministic
// order (file, position, rule, commit, fingerprint) whatever order they came in,
// and the caller's slice is not modified.
func Write(w io.Writer, findings []finding.Finding, opts Options) (err error) {
	w, fs, finish := guard(w, findings, &opts)
	defer func() { err = finish(err) }()
	format := strings.ToLower(opts.Format)
	if name, file, ok := strings.Cut(opts.Format, "="); ok && strings.EqualFold(name, FormatTemplate) {
		format = FormatTemplate
		if opts.Template == "" {
			opts.Template = file
		}
	}
	switch format {
	case "", FormatText:
		return writeText(w, fs, opts)
	case FormatJSON:
		return writeJSON(w, fs)
	case FormatJSONL:
		return writeJSONL(w, fs, opts.Summary)
	case FormatSARIF:
		return writeSARIF(w, fs, opts)
	case FormatGitHub:
		return writeGitHub(w, fs, opts)
	case FormatGitleaks:
		return writeGitleaks(w, fs, opts)
	case FormatCSV:
		return writeCSV(w, fs)
	case FormatJUnit:
		return writeJUnit(w, fs, opts)
	case FormatHTML:
		return writeHTML(w, fs, opts)
	case FormatTemplate:
		return writeTemplate(w, fs, opts)
	default:
		return fmt.Errorf("unknown report format %q: use one of %s", opts.Format, strings.Join(Formats(), ", "))
	}
}

// ValidFormat reports whether name is an accepted format ("template=FILE" included).
func ValidFormat(name string) bool {
	if t, file, ok := strings.Cut(name, "="); ok {
		return strings.EqualFold(t, FormatTemplate) && file != ""
	}
	return slices.Contains(Formats(), strings.ToLower(name))
}

// Prepare returns a sorted copy of findings ready for output: unless showSecrets,
// Secret is cleared and the raw secret is removed from Context and Message.
// Redacted is filled in when the source left it empty.
func Prepare(findings []finding.Finding, showSecrets bool) []finding.Finding {
	out := make([]finding.Finding, len(findings))
	for i, f := range findings {
		if f.Redacted == "" && f.Secret != "" {
			f.Redacted = finding.Redact(f.Secret)
		}
		if !showSecrets {
			f = redact(f)
		}
		f.Groups = nil
		f.Tags = slices.Clone(f.Tags)
		if f.Verification != nil {
			v := *f.Verification
			f.Verification = &v
		}
		out[i] = f
	}
	slices.SortStableFunc(out, compareFindings)
	return out
}

// redact removes every trace of the raw secret from f's printable fields.
func redact(f finding.Finding) finding.Finding {
	s := f.Secret
	f.Secret = ""
	if s == "" {
		return f
	}
	f.Context = finding.RedactIn(f.Context, s)
	f.Message = finding.RedactIn(f.Message, s)
	f.Description = finding.RedactIn(f.Description, s)
	if f.Redacted == s {
		f.Redacted = finding.Redact(s)
	}
	if f.Verification != nil {
		v := *f.Verification
		v.Detail = finding.RedactIn(v.Detail, s)
		v.Access = mapAccess(v.Access, func(x string) string { return finding.RedactIn(x, s) })
		f.Verification = &v
	}
	f.Parts = slices.Clone(f.Parts)
	for i := range f.Parts {
		if f.Parts[i].Redacted == "" {
			f.Parts[i].Redacted = finding.Redact(f.Parts[i].Secret)
		}
		f.Parts[i].Secret = ""
	}
	return f
}

// mapAccess returns a copy of a with fn applied to every string in it.
func mapAccess(a *finding.Access, fn func(string) string) *finding.Access {
	if a == nil {
		return nil
	}
	out := &finding.Access{Identity: fn(a.Identity), Account: fn(a.Account), ResourceKind: fn(a.ResourceKind), Resources: a.Resources}
	for _, sc := range a.Scopes {
		out.Scopes = append(out.Scopes, fn(sc))
	}
	if a.Properties != nil {
		out.Properties = map[string]string{}
		for k, v := range a.Properties {
			out.Properties[fn(k)] = fn(v)
		}
	}
	return out
}

func compareFindings(a, b finding.Finding) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Column, b.Column),
		cmp.Compare(a.EndLine, b.EndLine),
		cmp.Compare(a.EndColumn, b.EndColumn),
		cmp.Compare(a.RuleID, b.RuleID),
		cmp.Compare(a.Commit, b.Commit),
		cmp.Compare(a.Fingerprint, b.Fingerprint),
		cmp.Compare(a.Encoding, b.Encoding),
	)
}

// level maps a severity onto the SARIF/GitHub three-level scale.
func level(severity string) string {
	switch finding.SeverityRank(severity) {
	case 0, 1:
		return "error"
	case 2:
		return "warning"
	default:
		return "note"
	}
}

// message is the one-line description of a finding used by SARIF and github.
// It never contains the raw secret (callers pass prepared findings).
func message(f finding.Finding) string {
	var b strings.Builder
	desc := f.Description
	if desc == "" {
		desc = f.RuleID
	}
	b.WriteString(desc)
	if f.Redacted != "" {
		b.WriteString(": ")
		b.WriteString(f.Redacted)
	}
	if f.Message != "" {
		b.WriteString(" — ")
		b.WriteString(f.Message)
	}
	if f.Encoding != "" {
		b.WriteString(" (decoded from ")
		b.WriteString(f.Encoding)
		b.WriteString(")")
	}
	if f.Commit != "" {
		b.WriteString(" in commit ")
		b.WriteString(shortCommit(f.Commit))
		if f.Author != "" {
			b.WriteString(" by ")
			b.WriteString(f.Author)
		}
	}
	if v := f.Verification; v != nil && v.Status != "" && v.Status != finding.StatusNotChecked {
		b.WriteString(" [")
		b.WriteString(v.Status)
		b.WriteString("]")
	}
	return b.String()
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

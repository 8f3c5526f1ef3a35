package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/template"

	"github.com/tokenward/tokenward/finding"
)

// writeTemplate renders opts.Template, a Go text/template file. Its dot is the
// list of findings ([]finding.Finding, sorted; fields as in the Go struct:
// .RuleID, .File, .Line, .Redacted, .Verification.Status...), as in gitleaks'
// template reports. Functions: json (compact JSON), shown (the secret with
// --show-secrets, else its redacted form), upper, lower, join, replace, quote,
// summary (the scan summary or nil), version, and gitleaks (the findings as
// gitleaks' report entries, so a gitleaks template works with "range gitleaks"
// in place of "range .").
func writeTemplate(w io.Writer, fs []finding.Finding, opts Options) error {
	if opts.Template == "" {
		return errors.New("--format template needs a template: add --template FILE (or --format template=FILE), a Go text/template file whose dot is the list of findings")
	}
	src, err := os.ReadFile(opts.Template)
	if err != nil {
		return fmt.Errorf("--template: %w", err)
	}
	tmpl, err := template.New(opts.Template).Funcs(templateFuncs(fs, opts)).Parse(string(src))
	if err != nil {
		return fmt.Errorf("--template %s: %w (see text/template syntax: https://pkg.go.dev/text/template)", opts.Template, err)
	}
	if fs == nil {
		fs = []finding.Finding{}
	}
	bw := bufio.NewWriter(w)
	if err := tmpl.Execute(bw, fs); err != nil {
		return fmt.Errorf("--template %s: %w", opts.Template, err)
	}
	return bw.Flush()
}

func templateFuncs(fs []finding.Finding, opts Options) template.FuncMap {
	return template.FuncMap{
		"gitleaks": func() []gitleaksFinding { return toGitleaks(fs, opts) },
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"shown": func(f finding.Finding) string {
			if opts.ShowSecrets && f.Secret != "" {
				return f.Secret
			}
			return f.Redacted
		},
		"upper":   strings.ToUpper,
		"lower":   strings.ToLower,
		"join":    func(sep string, xs []string) string { return strings.Join(xs, sep) },
		"replace": func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"quote":   strconv.Quote,
		"summary": func() *Summary { return opts.Summary },
		"version": func() string { return opts.Version },
	}
}

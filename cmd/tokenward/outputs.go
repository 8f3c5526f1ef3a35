package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/report"
)

// alsoWrite holds --also-write FORMAT=FILE: more reports of the same results, so
// that one scan can feed, say, SARIF for code scanning and annotations for the log.
var alsoWrite []string

const alsoWriteUsage = "also write the results in FORMAT to FILE (- for stdout); repeatable: FORMAT=FILE"

// addAlsoWrite registers --also-write on a command that writes results.
func addAlsoWrite(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&alsoWrite, "also-write", nil, alsoWriteUsage)
}

// extraReport is one --also-write.
type extraReport struct{ format, path string }

// parseAlsoWrite checks every --also-write before anything is scanned.
func parseAlsoWrite() ([]extraReport, error) {
	var out []extraReport
	for _, a := range alsoWrite {
		format, path, ok := strings.Cut(a, "=")
		if !ok || path == "" || !report.ValidFormat(format) {
			return nil, fmt.Errorf("--also-write %q: want FORMAT=FILE with FORMAT one of %s", a, strings.Join(report.Formats(), ", "))
		}
		out = append(out, extraReport{strings.ToLower(format), path})
	}
	return out, nil
}

// writeExtraReports writes each --also-write report with the main report's
// options, through the same output guard as --output (run-wide redaction,
// atomic files, 0600 with --show-secrets).
func writeExtraReports(cmd *cobra.Command, fs []finding.Finding, opts report.Options) error {
	extras, err := parseAlsoWrite()
	if err != nil {
		return usageError(err)
	}
	for _, x := range extras {
		o := opts
		o.Format, o.Color = x.format, false
		flag := "--also-write " + x.format + "=" + x.path
		if err := withOutputPath(cmd, x.path, flag, func(w io.Writer) error { return report.Write(w, fs, o) }); err != nil {
			return err
		}
	}
	return nil
}

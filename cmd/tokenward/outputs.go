package main

import (
	"bufio"
	"fmt"
	"os"
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

// writeExtraReports writes each --also-write report with the main report's options.
func writeExtraReports(fs []finding.Finding, opts report.Options) error {
	extras, err := parseAlsoWrite()
	if err != nil {
		return usageError(err)
	}
	for _, x := range extras {
		o := opts
		o.Format, o.Color = x.format, false
		if err := writeReportTo(x.path, fs, o); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--also-write %s=%s: %w", x.format, x.path, err)}
		}
	}
	return nil
}

func writeReportTo(path string, fs []finding.Finding, opts report.Options) error {
	if path == "-" {
		bw := bufio.NewWriter(os.Stdout)
		if err := report.Write(bw, fs, opts); err != nil {
			return err
		}
		return bw.Flush()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	err = report.Write(bw, fs, opts)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

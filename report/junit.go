package report

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/tokenward/tokenward/finding"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// writeJUnit writes JUnit XML for CI test reports: one testsuite per rule, one
// failing testcase per finding (named by location, typed by severity, with the
// redacted details as the failure text), a "tokenward" suite with an error
// per problem that left the scan incomplete, and a "tokenward: not scanned"
// suite with a skipped testcase per file the scan skipped. encoding/xml escapes every
// attribute and text node and replaces characters XML cannot hold with U+FFFD.
func writeJUnit(w io.Writer, fs []finding.Finding, opts Options) error {
	doc := junitSuites{Name: "tokenward"}
	byRule := map[string]*junitSuite{}
	var order []string
	for _, f := range fs {
		s := byRule[f.RuleID]
		if s == nil {
			s = &junitSuite{Name: f.RuleID}
			byRule[f.RuleID] = s
			order = append(order, f.RuleID)
		}
		loc := fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column)
		sev := f.Severity
		if sev == "" {
			sev = "unknown"
		}
		s.Cases = append(s.Cases, junitCase{
			Name:      loc,
			ClassName: "tokenward." + f.RuleID,
			File:      f.File,
			Line:      f.Line,
			Failure:   &junitProblem{Message: message(f), Type: sev, Body: junitBody(f, opts)},
		})
		s.Tests++
		s.Failures++
	}
	slices.Sort(order)
	for _, id := range order {
		doc.Suites = append(doc.Suites, *byRule[id])
	}
	if opts.Summary != nil && len(opts.Summary.Problems) > 0 {
		s := junitSuite{Name: "tokenward"}
		for i, p := range opts.Summary.Problems {
			s.Cases = append(s.Cases, junitCase{
				Name:      "scan problem " + strconv.Itoa(i+1),
				ClassName: "tokenward.scan",
				Error:     &junitProblem{Message: "scan incomplete", Type: "incomplete", Body: p},
			})
			s.Tests++
			s.Errors++
		}
		doc.Suites = append(doc.Suites, s)
	}
	if opts.Summary != nil && len(opts.Summary.Skipped) > 0 {
		s := junitSuite{Name: "tokenward: not scanned"}
		for _, sk := range opts.Summary.Skipped {
			s.Cases = append(s.Cases, junitCase{
				Name:      sk.Path,
				ClassName: "tokenward.skipped",
				File:      sk.Path,
				Skipped:   &junitProblem{Message: sk.Reason},
			})
			s.Tests++
			s.Skipped++
		}
		doc.Suites = append(doc.Suites, s)
	}
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header)
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	bw.WriteString("\n")
	return bw.Flush()
}

// junitBody is the failure text: one "key: value" line per known detail.
func junitBody(f finding.Finding, opts Options) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	line("rule", f.RuleID)
	line("severity", f.Severity)
	line("kind", f.Kind)
	line("location", fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column))
	shown := f.Redacted
	if opts.ShowSecrets && f.Secret != "" {
		shown = f.Secret
	}
	line("secret", shown)
	line("context", f.Context)
	line("message", f.Message)
	line("encoding", f.Encoding)
	line("commit", f.Commit)
	author := f.Author
	if f.Email != "" {
		author = strings.TrimSpace(author + " <" + f.Email + ">")
	}
	line("author", author)
	line("date", f.Date)
	if v := f.Verification; v != nil && v.Status != "" {
		status := v.Status
		if v.HTTPStatus != 0 {
			status += fmt.Sprintf(" (HTTP %d)", v.HTTPStatus)
		}
		line("verification", status)
		line("verification detail", v.Detail)
	}
	line("fingerprint", f.Fingerprint)
	return b.String()
}

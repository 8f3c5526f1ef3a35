package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tokenward/tokenward/finding"
)

// writeGitHub prints GitHub Actions workflow commands, one annotation per finding:
//
//	::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=RULE::message
//
// critical/high findings are errors, medium warnings, low/info notices. Scan
// problems become warnings titled "tokenward: scan incomplete".
func writeGitHub(w io.Writer, fs []finding.Finding, opts Options) error {
	bw := bufio.NewWriter(w)
	for _, f := range fs {
		cmd := level(f.Severity)
		if cmd == "note" {
			cmd = "notice"
		}
		props := []string{"file=" + escapeProperty(f.File)}
		if f.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", f.Line))
			if f.Column > 0 {
				props = append(props, fmt.Sprintf("col=%d", f.Column))
			}
			if f.EndLine >= f.Line {
				props = append(props, fmt.Sprintf("endLine=%d", f.EndLine))
				if f.EndColumn > 0 {
					props = append(props, fmt.Sprintf("endColumn=%d", f.EndColumn))
				}
			}
		}
		title := f.RuleID
		if f.Severity != "" {
			title += " (" + f.Severity + ")"
		}
		props = append(props, "title="+escapeProperty(title))
		msg := message(f)
		if opts.ShowSecrets && f.Secret != "" {
			msg += "\nsecret: " + clean(f.Secret)
		}
		msg += "\nfingerprint: " + f.Fingerprint
		fmt.Fprintf(bw, "::%s %s::%s\n", cmd, strings.Join(props, ","), escapeData(msg))
	}
	if s := opts.Summary; s != nil {
		for _, p := range s.Problems {
			fmt.Fprintf(bw, "::warning title=%s::%s\n", escapeProperty("tokenward: scan incomplete"), escapeData(p))
		}
	}
	return bw.Flush()
}

// escapeData escapes a workflow command's message.
func escapeData(s string) string {
	s = strings.ReplaceAll(s, "%", "%25")
	s = strings.ReplaceAll(s, "\r", "%0D")
	return strings.ReplaceAll(s, "\n", "%0A")
}

// escapeProperty escapes a workflow command's property value.
func escapeProperty(s string) string {
	s = escapeData(s)
	s = strings.ReplaceAll(s, ":", "%3A")
	return strings.ReplaceAll(s, ",", "%2C")
}

package report

import (
	"io"
	"slices"
	"strings"

	"github.com/tokenward/tokenward/finding"
)

// This file is the layer every format goes through (Write calls guard before it
// picks a format): findings are redacted field by field with the run's
// Redactor and their text made safe to print, and unless ShowSecrets the
// writer itself is wrapped in a RedactWriter, so no byte a format writes can
// hold a secret of the run in any encoding the Redactor knows.

// guard prepares findings for output and wraps w. finish flushes what the
// wrapper holds back; call it with the format's error once the format is done.
func guard(w io.Writer, findings []finding.Finding, opts *Options) (io.Writer, []finding.Finding, func(error) error) {
	red := opts.Redactor
	if red == nil {
		red = finding.NewRedactor()
	}
	red.AddFindings(findings)
	fs := Prepare(findings, opts.ShowSecrets)
	for i := range fs {
		fs[i] = sanitize(fs[i], red, opts.ShowSecrets)
	}
	if s := opts.Summary; s != nil {
		c := *s
		c.Problems = make([]string, len(s.Problems))
		for i, p := range s.Problems {
			if !opts.ShowSecrets {
				p = red.Redact(p)
			}
			c.Problems[i] = CleanMessage(p)
		}
		opts.Summary = &c
	}
	if rw, ok := w.(*RedactWriter); opts.ShowSecrets || red.Empty() || ok && rw.r == red {
		// nothing to hide, or the caller's writer already hides it
		return w, fs, func(err error) error { return err }
	}
	rw := NewRedactWriter(w, red)
	return rw, fs, func(err error) error {
		if ferr := rw.Flush(); err == nil {
			err = ferr
		}
		return err
	}
}

// sanitize hides every secret of the run in f's free text (unless showSecrets)
// and escapes control characters in every string, so no format can be made to
// print an escape sequence, a forged line or a workflow command.
func sanitize(f finding.Finding, red *finding.Redactor, showSecrets bool) finding.Finding {
	hide := func(s string) string {
		if !showSecrets {
			s = red.Redact(s)
		}
		return Clean(s)
	}
	f.Context = hide(f.Context)
	f.Message = hide(f.Message)
	f.Description = hide(f.Description)
	f.File = hide(f.File)
	f.Author = hide(f.Author)
	f.Email = hide(f.Email)
	f.RuleID = Clean(f.RuleID)
	f.Severity = Clean(f.Severity)
	f.Kind = Clean(f.Kind)
	f.Commit = Clean(f.Commit)
	f.Date = Clean(f.Date)
	f.Encoding = Clean(f.Encoding)
	f.Deleted = Clean(f.Deleted)
	f.Fingerprint = Clean(f.Fingerprint)
	f.Redacted = Clean(f.Redacted)
	// Secret (only with ShowSecrets) stays exact: machine formats encode it
	// safely and verify/revoke read it back; text and github escape it.
	f.Parts = slices.Clone(f.Parts)
	for i := range f.Parts {
		f.Parts[i].RuleID = Clean(f.Parts[i].RuleID)
		f.Parts[i].Redacted = Clean(f.Parts[i].Redacted)
	}
	f.Tags = slices.Clone(f.Tags)
	for i, t := range f.Tags {
		f.Tags[i] = Clean(t)
	}
	if f.Verification != nil {
		v := *f.Verification
		v.Detail = hide(v.Detail)
		v.Access = mapAccess(v.Access, hide)
		v.Status = Clean(v.Status)
		v.CheckedAt = Clean(v.CheckedAt)
		f.Verification = &v
	}
	return f
}

// Clean makes text safe to print: invalid UTF-8 becomes U+FFFD; control
// characters (newlines, escape sequences from a scanned file or its name), C1
// controls, line separators and bidirectional overrides are shown escaped, as
// \x1b or \u202e. Tabs are kept. Clean is idempotent.
func Clean(s string) string { return clean(s) }

// CleanMessage is Clean for a message of several lines: the newlines are kept,
// everything else is escaped as Clean does, and a line that would start a
// GitHub workflow command ("::") or an Azure Pipelines logging command
// ("##vso[", "##[") is prefixed so the runner does not execute it.
func CleanMessage(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = clean(strings.TrimSuffix(l, "\r"))
		if t := strings.TrimLeft(l, " \t"); strings.HasPrefix(t, "::") || strings.HasPrefix(t, "##") {
			l = "| " + l
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// RedactWriter hides a Redactor's secrets in everything written through it.
// A secret split across two writes is still found: the writer holds back the
// last MaxLen-1 bytes until more arrive or Flush is called.
type RedactWriter struct {
	w   io.Writer
	r   *finding.Redactor
	buf []byte
}

// NewRedactWriter returns a RedactWriter writing to w.
func NewRedactWriter(w io.Writer, r *finding.Redactor) *RedactWriter {
	return &RedactWriter{w: w, r: r}
}

// Write redacts p (with what was held back) and writes what can no longer be
// part of a match.
func (rw *RedactWriter) Write(p []byte) (int, error) {
	rw.buf = append(rw.buf, p...)
	if err := rw.drain(false); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes everything held back. It does not flush w.
func (rw *RedactWriter) Flush() error { return rw.drain(true) }

func (rw *RedactWriter) drain(final bool) error {
	safe := len(rw.buf)
	if !final {
		safe -= max(rw.r.MaxLen()-1, 0)
	}
	if safe <= 0 {
		return nil
	}
	var out []byte
	pos := 0
	// A match starting before safe lies wholly in buf (patterns are at most
	// MaxLen long), so it is the same match the whole stream would give.
	for _, sp := range rw.r.Find(rw.buf) {
		if sp.Start >= safe {
			break
		}
		out = append(out, rw.buf[pos:sp.Start]...)
		out = append(out, finding.SafeRedact(string(rw.buf[sp.Start:sp.End]))...)
		pos = sp.End
	}
	if pos < safe {
		out = append(out, rw.buf[pos:safe]...)
		pos = safe
	}
	rw.buf = append(rw.buf[:0], rw.buf[pos:]...)
	if len(out) == 0 {
		return nil
	}
	_, err := rw.w.Write(out)
	return err
}

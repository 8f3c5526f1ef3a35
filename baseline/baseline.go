// Package baseline records accepted findings so that only new ones fail a scan.
//
// A baseline file (conventionally .tokenward-baseline.json) is JSON keyed by
// finding fingerprint — a keyed hash of rule id and secret, never a line or
// column — so moving code, renaming files and rebasing do not invalidate it:
//
//	{
//	  "version": 1,
//	  "findings": {
//	    "tw1:4f1c…": {
//	      "rule_id": "github-pat",
//	      "file": "config/app.yaml",
//	      "reason": "test fixture, revoked 2026-01-02",
//	      "added_by": "alice@example.com",
//	      "expires": "2026-06-30"
//	    }
//	  }
//	}
//
// rule_id and file are informational (file is the first path, in sort order, where
// the secret was seen). reason, added_by and expires are for people; an entry
// whose expires date (YYYY-MM-DD) has passed no longer suppresses its finding.
// Write emits keys in sorted order with fixed indentation, so regenerating an
// unchanged baseline is a byte-identical no-op.
//
// Keys written before fingerprints were keyed have the legacy form sha256:…;
// they still suppress their findings, and Update and Prune rewrite each entry
// that matches a finding to the current tw1: form (the migration).
package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tokenward/tokenward/finding"
)

// DefaultFile is the conventional baseline file name.
const DefaultFile = ".tokenward-baseline.json"

// Version is the baseline file format version Write emits and Load accepts.
const Version = 1

// DateLayout is the format of Entry.Expires.
const DateLayout = "2006-01-02"

// Entry is one accepted finding.
type Entry struct {
	RuleID  string `json:"rule_id,omitempty"`
	File    string `json:"file,omitempty"`
	Reason  string `json:"reason,omitempty"`
	AddedBy string `json:"added_by,omitempty"`
	Expires string `json:"expires,omitempty"` // YYYY-MM-DD; suppresses through that day
}

// Baseline maps fingerprints to accepted entries. The zero value and nil are
// empty baselines.
type Baseline struct {
	Entries map[string]Entry
	// KeyID names the fingerprint key the entries were made under
	// (finding.KeyID); "" in files written before keys were recorded.
	KeyID string
}

type fileFormat struct {
	Version  int              `json:"version"`
	Findings map[string]Entry `json:"findings"`
	KeyID    string           `json:"fingerprint_key_id,omitempty"`
}

// ValidFingerprint reports whether s has the form of a finding fingerprint:
// tw1: (or the legacy sha256:) and 64 lower-case hex digits.
func ValidFingerprint(s string) bool { return finding.ValidFingerprint(s) }

// Load reads a baseline file. Errors name the file, the position or entry at
// fault and what to do about it.
func Load(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w (create one with `tokenward baseline create --output %s`)", err, path)
	}
	b, err := Parse(data)
	var pe *posError
	switch {
	case errors.As(err, &pe):
		return nil, fmt.Errorf("%s:%w", path, err) // file:line:col: ...
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// Parse decodes a baseline from its JSON form. Errors start with "line:col: "
// when the JSON itself is at fault; Load prefixes the file name.
func Parse(data []byte) (*Baseline, error) {
	const fix = "fix the file or regenerate it with `tokenward baseline create`"
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("empty baseline file: %s", fix)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ff fileFormat
	if err := dec.Decode(&ff); err != nil {
		pos := jsonPos(data, err)
		if pos == "" {
			pos = offsetPos(data, dec.InputOffset())
		}
		return nil, &posError{pos, fmt.Sprintf("not a valid baseline: %s; %s", jsonErr(err), fix)}
	}
	if dec.More() {
		off := dec.InputOffset()
		return nil, &posError{offsetPos(data, off), "unexpected data after the baseline object; " + fix}
	}
	if ff.Version == 0 {
		return nil, fmt.Errorf("not a baseline: \"version\": %d is missing; %s", Version, fix)
	}
	if ff.Version != Version {
		return nil, fmt.Errorf("baseline version %d is not supported (this tokenward reads version %d); %s", ff.Version, Version, fix)
	}
	b := &Baseline{Entries: make(map[string]Entry, len(ff.Findings)), KeyID: ff.KeyID}
	for fp, e := range ff.Findings {
		if !ValidFingerprint(fp) {
			return nil, fmt.Errorf("entry %q: a key must be a fingerprint of the form tw1:<64 hex digits> (copy it from a report's \"fingerprint\" field)", fp)
		}
		if e.Expires != "" {
			if _, err := time.Parse(DateLayout, e.Expires); err != nil {
				return nil, fmt.Errorf("entry %s: expires %q is not a date in YYYY-MM-DD form", fp, e.Expires)
			}
		}
		b.Entries[fp] = e
	}
	return b, nil
}

// posError is an error at a line:col of the baseline.
type posError struct{ pos, msg string }

func (e *posError) Error() string { return e.pos + ": " + e.msg }

// jsonErr strips Go type names from decoder errors.
func jsonErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "the document"
		}
		return fmt.Sprintf("%s must not be a JSON %s", field, te.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "the file ends early (truncated?)"
	}
	return err.Error()
}

// jsonPos turns a decoder error into "line:col" where it has an offset, else "".
func jsonPos(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return offsetPos(data, se.Offset)
	case errors.As(err, &te):
		return offsetPos(data, te.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return offsetPos(data, int64(len(data)))
	}
	return ""
}

func offsetPos(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return fmt.Sprintf("%d:%d", line, col)
}

// Len is the number of entries.
func (b *Baseline) Len() int {
	if b == nil {
		return 0
	}
	return len(b.Entries)
}

// Expired reports whether e no longer suppresses on the calendar day of now
// (in now's location): the entry is valid through its expires date.
func (e Entry) Expired(now time.Time) bool {
	return e.Expires != "" && now.Format(DateLayout) > e.Expires
}

// Filter returns the findings the baseline does not suppress, in their original
// order, and how many it suppressed. A finding whose entry has expired is kept.
func (b *Baseline) Filter(fs []finding.Finding, now time.Time) (kept []finding.Finding, suppressed int) {
	kept = make([]finding.Finding, 0, len(fs))
	for _, f := range fs {
		if e, ok := b.lookup(f.Fingerprint); ok && !e.Expired(now) {
			suppressed++
			continue
		}
		kept = append(kept, f)
	}
	return kept, suppressed
}

// lookup finds the entry of fingerprint fp, stored in its current or its
// legacy form.
func (b *Baseline) lookup(fp string) (Entry, bool) {
	_, e, ok := b.Find(fp)
	return e, ok
}

// Find returns the key and entry that suppress fingerprint fp: fp itself, or
// its legacy sha256: form (see finding.MatchFingerprint).
func (b *Baseline) Find(fp string) (key string, e Entry, ok bool) {
	if b == nil || fp == "" {
		return "", Entry{}, false
	}
	if e, ok := b.Entries[fp]; ok {
		return fp, e, true
	}
	if l, ok := finding.LegacyOf(fp); ok {
		if e, ok := b.Entries[l]; ok {
			return l, e, true
		}
	}
	return "", Entry{}, false
}

// KeyMismatch reports whether the baseline records a fingerprint key other
// than this process's: its tw1: entries then match nothing.
func (b *Baseline) KeyMismatch() bool {
	return b != nil && b.KeyID != "" && b.KeyID != finding.KeyID() && len(b.Entries) > b.Legacy()
}

// Legacy counts the entries still keyed by a legacy sha256: fingerprint.
func (b *Baseline) Legacy() int {
	n := 0
	if b != nil {
		for fp := range b.Entries {
			if finding.IsLegacyFingerprint(fp) {
				n++
			}
		}
	}
	return n
}

// Expired lists the fingerprints of entries that have expired as of now, sorted.
func (b *Baseline) Expired(now time.Time) []string {
	var out []string
	if b == nil {
		return out
	}
	for fp, e := range b.Entries {
		if e.Expired(now) {
			out = append(out, fp)
		}
	}
	slices.Sort(out)
	return out
}

// seen groups findings by fingerprint: the informational rule id and file of
// each (the smallest file path, so the choice does not depend on scan order).
func seen(fs []finding.Finding) map[string]Entry {
	out := make(map[string]Entry, len(fs))
	for _, f := range fs {
		if f.Fingerprint == "" {
			continue
		}
		e, ok := out[f.Fingerprint]
		if !ok || f.File < e.File {
			out[f.Fingerprint] = Entry{RuleID: f.RuleID, File: f.File}
		}
	}
	return out
}

// Create builds a baseline accepting every finding. Each entry carries the
// template's Reason, AddedBy and Expires.
func Create(fs []finding.Finding, template Entry) *Baseline {
	return Update(nil, fs, template)
}

// Update keeps every entry of old (with its reason, added_by and expires),
// refreshes the informational rule_id and file of those seen again, and adds an
// entry, from template, for each new finding.
func Update(old *Baseline, fs []finding.Finding, template Entry) *Baseline {
	b := &Baseline{Entries: map[string]Entry{}, KeyID: finding.KeyID()}
	if old != nil {
		for fp, e := range old.Entries {
			b.Entries[fp] = e
		}
	}
	for fp, s := range seen(fs) {
		key, e, ok := b.Find(fp)
		if !ok {
			e = Entry{Reason: template.Reason, AddedBy: template.AddedBy, Expires: template.Expires}
		} else if key != fp {
			delete(b.Entries, key) // migrate a legacy key to the current form
		}
		e.RuleID, e.File = s.RuleID, s.File
		b.Entries[fp] = e
	}
	return b
}

// Prune keeps only the entries of old whose fingerprint is among fs, unchanged.
func Prune(old *Baseline, fs []finding.Finding) *Baseline {
	b := &Baseline{Entries: map[string]Entry{}, KeyID: finding.KeyID()}
	if old == nil {
		return b
	}
	for fp := range seen(fs) {
		if _, e, ok := old.Find(fp); ok {
			b.Entries[fp] = e // under the current form
		}
	}
	return b
}

// Write emits the baseline as sorted, indented JSON ending in a newline. The same
// entries always produce the same bytes.
func (b *Baseline) Write(w io.Writer) error {
	ff := fileFormat{Version: Version, Findings: map[string]Entry{}}
	if b != nil {
		ff.KeyID = b.KeyID
		for fp, e := range b.Entries {
			ff.Findings[fp] = e
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(ff)
}

// WriteFile writes the baseline to path atomically (a temporary file renamed
// into place), so an interrupted run never leaves a truncated baseline.
func (b *Baseline) WriteFile(path string) error {
	var buf bytes.Buffer
	if err := b.Write(&buf); err != nil {
		return err
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, buf.Bytes()) {
		return nil // unchanged: leave the file (and its mtime) alone
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tokenward-baseline-*.tmp")
	if err != nil {
		return fmt.Errorf("baseline: cannot write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("baseline: cannot write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("baseline: cannot write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("baseline: cannot write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("baseline: cannot write %s: %w", path, err)
	}
	return nil
}

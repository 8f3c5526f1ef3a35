package baseline

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"

	ignore "github.com/sabhiram/go-gitignore"

	"github.com/tokenward/tokenward/finding"
)

// IgnoreList is a set of fingerprints whose findings are never reported, read
// from an ignore file (.tokenwardignore). The file format, one entry a line:
//
//	# comment lines and blank lines are skipped
//	tw1:4f1c…e9  # test fixture, revoked   <- a fingerprint, optional trailing comment
//	vendor/**                              <- anything else is a path pattern
//
// A line whose first word starts with "tw1:" (or the legacy "sha256:") is a
// fingerprint and must be that prefix followed by 64 lower-case hex digits
// (copy it from a report's "fingerprint" field). Legacy sha256: entries still
// suppress the findings they were made for. All other lines are gitignore-syntax path patterns,
// which the file source applies; LoadIgnoreList returns them in Patterns for
// completeness, and IsFingerprintLine lets a path matcher skip fingerprint lines.
type IgnoreList struct {
	Fingerprints map[string]string // fingerprint -> its trailing comment, if any
	Patterns     []string          // the other (path) lines, in file order

	once    sync.Once
	matcher *ignore.GitIgnore
}

// MatchesPath reports whether a slash-separated path relative to the ignore
// file's directory matches one of its path patterns (gitignore syntax; a pattern
// naming a directory matches everything below it).
func (l *IgnoreList) MatchesPath(p string) bool {
	if l == nil || len(l.Patterns) == 0 {
		return false
	}
	l.once.Do(func() { l.matcher = ignore.CompileIgnoreLines(l.Patterns...) })
	p = strings.TrimPrefix(p, "./")
	if l.matcher.MatchesPath(p) {
		return true
	}
	// A directory pattern ("vendor/") matches the files below it.
	for i := strings.IndexByte(p, '/'); i >= 0; {
		if l.matcher.MatchesPath(p[:i+1]) {
			return true
		}
		j := strings.IndexByte(p[i+1:], '/')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// ParseIgnoreBytes parses an ignore file held in memory (git --range reads the
// file as of BASE); name is used in errors.
func ParseIgnoreBytes(name string, data []byte) (*IgnoreList, error) {
	return ParseIgnoreList(bytes.NewReader(data), name)
}

// IsFingerprintLine reports whether an ignore-file line is a fingerprint entry.
func IsFingerprintLine(line string) bool {
	f := strings.Fields(line)
	return len(f) > 0 && finding.HasFingerprintPrefix(f[0])
}

// LoadIgnoreList reads an ignore file. A missing file is an empty list, not an
// error; a malformed fingerprint is an error naming file:line.
func LoadIgnoreList(path string) (*IgnoreList, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &IgnoreList{Fingerprints: map[string]string{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ignore list: %w", err)
	}
	defer f.Close()
	return ParseIgnoreList(f, path)
}

// ParseIgnoreList reads the ignore-file format from r; name is used in errors.
func ParseIgnoreList(r io.Reader, name string) (*IgnoreList, error) {
	l := &IgnoreList{Fingerprints: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !IsFingerprintLine(line) {
			l.Patterns = append(l.Patterns, line)
			continue
		}
		fp, comment, _ := strings.Cut(line, "#")
		fp = strings.TrimSpace(fp)
		if !ValidFingerprint(fp) {
			return nil, fmt.Errorf("%s:%d: %q is not a fingerprint: write tw1: followed by 64 lower-case hex digits, as in a report's \"fingerprint\" field, optionally followed by # and a comment", name, n, fp)
		}
		l.Fingerprints[fp] = strings.TrimSpace(comment)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return l, nil
}

// Len is the number of fingerprints.
func (l *IgnoreList) Len() int {
	if l == nil {
		return 0
	}
	return len(l.Fingerprints)
}

// Filter returns the findings whose fingerprint is not listed, in their original
// order, and how many were dropped.
func (l *IgnoreList) Filter(fs []finding.Finding) (kept []finding.Finding, suppressed int) {
	kept = make([]finding.Finding, 0, len(fs))
	for _, f := range fs {
		if l != nil {
			if l.has(f.Fingerprint) {
				suppressed++
				continue
			}
		}
		kept = append(kept, f)
	}
	return kept, suppressed
}

// has reports whether fp is listed, in its current or its legacy form.
func (l *IgnoreList) has(fp string) bool {
	if fp == "" {
		return false
	}
	if _, ok := l.Fingerprints[fp]; ok {
		return true
	}
	if old, ok := finding.LegacyOf(fp); ok {
		_, ok = l.Fingerprints[old]
		return ok
	}
	return false
}

package gitleaks

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/tokenward/tokenward/finding"
)

// IgnoreEntry is one .gitleaksignore fingerprint: commit:file:rule-id:start-line
// (a finding in one commit) or file:rule-id:start-line (in any commit, or in a
// directory scan).
type IgnoreEntry struct {
	Line      int    // 1-based line in the ignore file
	Text      string // the entry as written
	Commit    string // empty for file:rule-id:start-line
	File      string // slash-separated, relative to the scanned root
	RuleID    string // the gitleaks rule id
	StartLine int    // 1-based line of the match in File
}

// Unrecovered is an ignore entry that could not become a baseline entry.
type Unrecovered struct {
	Line   int
	Text   string
	Reason string
}

func (u Unrecovered) String() string { return fmt.Sprintf("line %d: %s: %s", u.Line, u.Text, u.Reason) }

// Recovered is an ignore entry whose secret was found again.
type Recovered struct {
	Entry IgnoreEntry
	// Findings are the tokenward findings the entry stands for; each becomes a
	// baseline entry (keyed by fingerprint, so it holds wherever the secret moves).
	Findings []finding.Finding
	// Note is set when tokenward's rule differs from the gitleaks one.
	Note string
}

// ParseIgnore reads a .gitleaksignore file. Malformed lines and glob entries
// (which stand for many findings, not one secret) come back as Unrecovered.
func ParseIgnore(r io.Reader) ([]IgnoreEntry, []Unrecovered, error) {
	var entries []IgnoreEntry
	var bad []Unrecovered
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ":")
		e := IgnoreEntry{Line: n, Text: line}
		switch len(parts) {
		case 3:
			e.File, e.RuleID = parts[0], parts[1]
		case 4:
			e.Commit, e.File, e.RuleID = parts[0], parts[1], parts[2]
		default:
			bad = append(bad, Unrecovered{n, line, "not a gitleaks fingerprint: want commit:file:rule-id:line or file:rule-id:line"})
			continue
		}
		e.File = strings.ReplaceAll(e.File, `\`, "/")
		last := parts[len(parts)-1]
		if strings.Contains(line, "*") {
			bad = append(bad, Unrecovered{n, line, "a glob entry stands for many findings, not one secret: use a path pattern in .tokenwardignore, or accept the findings with `tokenward baseline update`"})
			continue
		}
		var err error
		if e.StartLine, err = strconv.Atoi(last); err != nil || e.StartLine < 1 {
			bad = append(bad, Unrecovered{n, line, fmt.Sprintf("the line number %q is not a positive integer", last)})
			continue
		}
		if e.File == "" || e.RuleID == "" {
			bad = append(bad, Unrecovered{n, line, "the file or rule id is empty"})
			continue
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	return entries, bad, nil
}

// Source reads the files ignore entries name: from the work tree under Root, or
// for commit entries from the git repository at (or above) Root.
type Source struct {
	Root string

	repo    *git.Repository
	repoErr error
	opened  bool
}

// Read returns file's content at commit, or in the work tree when commit is "".
func (s *Source) Read(commit, file string) ([]byte, error) {
	if !filepath.IsLocal(filepath.FromSlash(file)) {
		return nil, fmt.Errorf("the path %q leaves the scanned root", file)
	}
	if commit == "" {
		return os.ReadFile(filepath.Join(s.Root, filepath.FromSlash(file)))
	}
	if !s.opened {
		s.opened = true
		s.repo, s.repoErr = git.PlainOpenWithOptions(s.Root, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	}
	if s.repoErr != nil {
		return nil, fmt.Errorf("%s is not a git repository (%v), so commit entries cannot be read", s.Root, s.repoErr)
	}
	h, err := s.repo.ResolveRevision(plumbing.Revision(commit))
	if err != nil {
		return nil, fmt.Errorf("commit %s is not in the repository (fetch it, or the whole history)", commit)
	}
	c, err := s.repo.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %v", commit, err)
	}
	f, err := c.File(file)
	if err != nil {
		return nil, fmt.Errorf("%s does not exist in commit %s", file, commit)
	}
	text, err := f.Contents()
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s: %v", file, commit, err)
	}
	return []byte(text), nil
}

// Recover finds the secret behind each entry: it reads the file the entry names
// (at its commit, if it has one), scans it with scan (the converted rule set) and
// takes the findings that start on the entry's line. ruleIDs maps gitleaks rule
// ids to tokenward ones (Result.RuleIDs). When the gitleaks rule has no tokenward
// counterpart, the findings of any rule on that line are taken, with a Note.
func Recover(entries []IgnoreEntry, read func(commit, file string) ([]byte, error), ruleIDs map[string]string,
	scan func(path string, data []byte) []finding.Finding) ([]Recovered, []Unrecovered) {
	var rec []Recovered
	var unrec []Unrecovered
	type key struct{ commit, file string }
	cache := map[key][]finding.Finding{}
	cacheErr := map[key]error{}
	for _, e := range entries {
		k := key{e.Commit, e.File}
		fs, seen := cache[k]
		err := cacheErr[k]
		if !seen && err == nil {
			var data []byte
			if data, err = read(e.Commit, e.File); err == nil {
				fs = scan(e.File, data)
				cache[k] = fs
			} else {
				if errors.Is(err, os.ErrNotExist) {
					err = fmt.Errorf("%s is not in the work tree (for a file that only exists in history, write the entry with its commit)", e.File)
				}
				cacheErr[k] = err
			}
		}
		if err != nil {
			unrec = append(unrec, Unrecovered{e.Line, e.Text, err.Error()})
			continue
		}
		var onLine []finding.Finding
		for _, f := range fs {
			if f.Line == e.StartLine || (f.Line <= e.StartLine && e.StartLine <= f.EndLine) {
				onLine = append(onLine, f)
			}
		}
		want, known := ruleIDs[e.RuleID]
		var same []finding.Finding
		for _, f := range onLine {
			if f.RuleID == want {
				same = append(same, f)
			}
		}
		switch {
		case known && len(same) > 0:
			rec = append(rec, Recovered{Entry: e, Findings: same})
		case known:
			unrec = append(unrec, Unrecovered{e.Line, e.Text, fmt.Sprintf("rule %q finds nothing on line %d of %s (has the file changed since?)", want, e.StartLine, at2(e))})
		case len(onLine) > 0:
			var ids []string
			for _, f := range onLine {
				ids = append(ids, f.RuleID)
			}
			rec = append(rec, Recovered{Entry: e, Findings: onLine,
				Note: fmt.Sprintf("gitleaks rule %q has no tokenward counterpart; accepted what tokenward finds on that line (%s)", e.RuleID, strings.Join(ids, ", "))})
		default:
			unrec = append(unrec, Unrecovered{e.Line, e.Text, fmt.Sprintf("gitleaks rule %q has no tokenward counterpart, and tokenward finds nothing on line %d of %s", e.RuleID, e.StartLine, at2(e))})
		}
	}
	return rec, unrec
}

func at2(e IgnoreEntry) string {
	if e.Commit != "" {
		return e.File + " at " + e.Commit
	}
	return e.File
}

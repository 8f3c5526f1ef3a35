// Package source defines what every input of a scan implements. A Source hands
// each blob it holds to a Scanner that the pipeline supplies (decoders, the
// engine, per-file checks) and returns the findings located in the source: file
// path, and for git the commit, author and date.
//
// Sources push blobs rather than being pulled from: the git source scans each
// unique blob once, concurrently, and resolves provenance afterwards only for the
// blobs that produced findings, which an iterator of (blob, provenance) pairs
// could not express without resolving provenance for every blob.
package source

import (
	"context"
	"io"

	"github.com/tokenward/tokenward/finding"
)

// Blob is one unit of content.
type Blob struct {
	ID   string // identity within the source: a file path, a git blob hash, "-" for stdin
	Path string // slash-separated path, reported and matched by path rules and checks
	Data []byte // the content, or nil when Open is set; valid only during ScanBlob
	// Open streams content too large to hold.
	Open func() (io.ReadCloser, error)
	// Windows, when set, are the only parts of Data the engine needs to read (a
	// packed delta's changes); checks that judge a whole file still see all of Data.
	Windows []Span
	// WindowChecks, with Windows of whole lines, lets the per-file checks too read
	// only the windows when the scanner finds them line-local for Data (the source
	// takes the other lines' findings from a base: see pipeline.LineChecker).
	WindowChecks bool
}

// Span is the byte range [Start, End) of a blob's Data, starting on 1-based line Line.
type Span struct{ Start, End, Line int }

// Scanner scans one blob's content. It is safe for concurrent use.
type Scanner interface {
	ScanBlob(b Blob) Outcome
}

// Composer is implemented by a Scanner that joins the findings of one blob
// into composite credentials (pipeline.Compose). Sources that assemble a
// blob's findings from parts (git: unchanged regions taken from a delta base)
// or attribute findings to commits by fingerprint call it on each blob's
// complete findings, so that a composite's parts come from one blob version.
// It must not modify fs.
type Composer interface {
	ComposeBlob(fs []finding.Finding) []finding.Finding
	// Composite reports whether findings of the rule take part in composites
	// (it requires companions, or is one): their result depends on lines
	// around them, so a source that scanned only a blob's changed lines must
	// take that blob's complete findings instead.
	Composite(ruleID string) bool
}

// Outcome is what scanning one blob gave.
type Outcome struct {
	// Findings are positioned in the blob. File is "" for the blob itself, or the
	// archive member chain below it ("!inner.tar!dir/file"): the source prefixes
	// its own location (the file path, or the path at a commit).
	Findings []finding.Finding
	Bytes    int64  // content bytes scanned (decoded members included)
	Skipped  []Skip // the blob, or members of it, that were not scanned
	Err      error  // reading or decoding failed part way: the result is incomplete
}

// Skip names content that was not scanned, and why.
type Skip struct {
	Path   string `json:"path"`   // as the source reports it, with any member chain
	Reason string `json:"reason"` // e.g. "binary (--skip-binary)", "larger than --max-file-size", "archive: entry limit"
}

// Source is an input of a scan.
type Source interface {
	// Scan hands every blob to sc and returns the findings with provenance.
	Scan(ctx context.Context, sc Scanner) Result
}

// Result is what a source found.
type Result struct {
	Findings []finding.Finding // located: File, and for git Commit, Author, Email, Date
	Stats    Stats
	Problems []Problem // what could not be read: the scan is incomplete
	Warnings []string  // what was left on purpose (a symlink loop); the exit status is unchanged
	Skipped  []Skip
}

// Stats counts what a source saw. Fields a source has no notion of stay zero.
type Stats struct {
	Files    int64 `json:"files,omitempty"`    // files scanned
	Blobs    int64 `json:"blobs,omitempty"`    // blob scans run (git)
	Bytes    int64 `json:"bytes"`              // content bytes scanned
	Skipped  int64 `json:"skipped,omitempty"`  // files or blobs not scanned (each named in Result.Skipped)
	Ignored  int64 `json:"ignored,omitempty"`  // paths excluded by .tokenwardignore
	Symlinks int64 `json:"symlinks,omitempty"` // symlinks not followed
	Refs     int   `json:"refs,omitempty"`
	Commits  int   `json:"commits,omitempty"`
	Messages int   `json:"messages,omitempty"` // commit and tag messages scanned
	Cached   int   `json:"cached,omitempty"`   // blob results taken from a cache
}

// Problem is something that could not be scanned completely.
type Problem struct {
	Path string // a file, object or ref name
	Err  error
}

func (p Problem) Error() string {
	if p.Path == "" {
		return p.Err.Error()
	}
	return p.Path + ": " + p.Err.Error()
}

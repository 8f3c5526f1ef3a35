package pipeline

import (
	"sync/atomic"
	"time"

	"github.com/tokenward/tokenward/source"
)

// Progress counts a run's work as it happens, for progress displays. Its
// methods are safe for concurrent use.
type Progress struct {
	blobs, bytes, findings atomic.Int64
	start                  time.Time
}

// NewProgress starts counting now.
func NewProgress() *Progress { return &Progress{start: time.Now()} }

// Snapshot is the progress so far.
type Snapshot struct {
	Blobs, Bytes, Findings int64
	Elapsed                time.Duration
}

// Snapshot returns the counts so far.
func (p *Progress) Snapshot() Snapshot {
	return Snapshot{Blobs: p.blobs.Load(), Bytes: p.bytes.Load(), Findings: p.findings.Load(), Elapsed: time.Since(p.start)}
}

// counting wraps a scanner to count each blob it scans into a Progress.
type counting struct {
	*ContentScanner // its Reach, SpanningHits and Windowable too (source/git.Local)
	p               *Progress
}

func (c counting) ScanBlob(b source.Blob) source.Outcome {
	o := c.ContentScanner.ScanBlob(b)
	c.p.blobs.Add(1)
	c.p.bytes.Add(o.Bytes)
	c.p.findings.Add(int64(len(o.Findings)))
	return o
}

// Package engine is the detection engine: anchor prefilter -> windowed regex ->
// entropy, allow lists and placeholders -> findings. It knows nothing of files or git.
package engine

import "io"

// Blob is a unit of content to scan, as yielded by a source.
type Blob struct {
	ID   string // identity: a file path, a git blob hash, "-" for stdin
	Path string // the path reported and matched by path allow lists
	Data []byte // the content, or nil when Open is set
	// Open streams content too large to hold; the engine reads it in chunks.
	Open func() (io.ReadCloser, error)
}

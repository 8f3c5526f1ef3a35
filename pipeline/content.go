package pipeline

import (
	"fmt"
	"io"

	"github.com/sourcegraph/conc/panics"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/source"
)

// ContentOptions tune how blob content is read.
type ContentOptions struct {
	SkipBinary  bool
	MaxFileSize int64
}

// ContentScanner is the source.Scanner of a pipeline: the engine and the
// per-file checks over each blob.
type ContentScanner struct {
	eng    *engine.Engine
	checks []Check
	opts   ContentOptions
}

// NewContentScanner returns a scanner running eng and checks on each blob.
func NewContentScanner(eng *engine.Engine, checks []Check, opts ContentOptions) *ContentScanner {
	return &ContentScanner{eng: eng, checks: checks, opts: opts}
}

// ScanBlob implements source.Scanner.
func (c *ContentScanner) ScanBlob(b source.Blob) (out source.Outcome) {
	if r := panics.Try(func() { out = c.scan(b) }); r != nil {
		out.Err = fmt.Errorf("internal error while scanning (please report it): %v", r.Value)
	}
	for i := range out.Findings {
		out.Findings[i].File = ""
	}
	return out
}

func (c *ContentScanner) scan(b source.Blob) source.Outcome {
	var out source.Outcome
	eb := engine.Blob{ID: b.ID, Path: b.Path, Data: b.Data, Open: b.Open}
	if b.Data == nil && b.Open != nil {
		var n int64
		eb.Open = func() (io.ReadCloser, error) {
			rc, err := b.Open()
			if err != nil {
				return nil, err
			}
			return &countingReader{rc, &n}, nil
		}
		fs, err := c.eng.Scan(eb)
		out.Findings, out.Err, out.Bytes = fs, err, n
		return out
	}
	if engine.IsBinary(b.Data) {
		out.Skipped = append(out.Skipped, source.Skip{Path: b.Path, Reason: "binary"})
		return out
	}
	out.Bytes = int64(len(b.Data))
	if b.Windows == nil {
		out.Findings, out.Err = c.eng.Scan(eb)
	} else {
		for _, w := range b.Windows {
			wb := eb
			wb.Data = b.Data[w.Start:w.End]
			fs, err := c.eng.Scan(wb)
			for i := range fs {
				fs[i].Line += w.Line - 1
				fs[i].EndLine += w.Line - 1
			}
			out.Findings = append(out.Findings, fs...)
			if err != nil {
				out.Err = err
			}
		}
	}
	for _, check := range c.checks {
		out.Findings = append(out.Findings, check(b.Path, b.Data)...)
	}
	return out
}

type countingReader struct {
	io.ReadCloser
	n *int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	*c.n += int64(n)
	return n, err
}

var _ source.Scanner = (*ContentScanner)(nil)

package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
	"github.com/tokenward/tokenward/source/archive"
	"github.com/tokenward/tokenward/source/text"
)

// ContentOptions tune how content is read.
type ContentOptions struct {
	// MaxArchiveDepth is how many levels of archives are opened: an archive blob
	// is level 1, an archive inside it level 2 (4 is the CLI's default). 0 turns
	// archives off: they are read as any other content (binary).
	MaxArchiveDepth int
	// SkipBinary skips binary content instead of scanning its printable runs.
	SkipBinary bool
	// MaxFileSize skips archive members larger than this (0: no limit); sources
	// apply it to their own blobs.
	MaxFileSize int64
	// Archive limits (0: the archive package's defaults): bytes decompressed in
	// all (1 GiB), members in all (100 000), and decompressed bytes per
	// compressed byte of one member or stream (100, checked after the first MiB).
	MaxArchiveBytes   int64
	MaxArchiveEntries int
	MaxArchiveRatio   int
	// TempDir holds the temporary copies of zips too large to hold in memory
	// that are read from a stream ("": the system's).
	TempDir string
}

// memberMemory is the largest archive member held in memory (and judged by the
// checks); larger members are streamed through the engine.
const memberMemory = 4 << 20

// ContentScanner reads each blob as what it is and scans it (docs/content.md):
// archives member by member (a member's findings have File "!dir/member", nested
// "!dir/inner.tar!path", for the source to prefix with its own location; a
// Skip's Path is already the blob's Path followed by that chain), UTF-16 decoded, binary content as its printable runs
// (see package text for what lines and columns mean there), and text as it is;
// the engine and every check see each text member, under the path
// "<blob path>/dir/inner.tar/path" (an archive is matched as a directory). The
// checks see only content held in memory: blobs given as Data, and members up
// to 4 MiB. It implements source.Scanner and is safe for concurrent use.
type ContentScanner struct {
	compose     func([]finding.Finding) []finding.Finding // set by the pipeline: Compose with its rules
	inComposite map[string]bool                           // rule ids that require companions or are one
	eng         *engine.Engine
	lines       LineChecker // runs first; nil: none
	checks      []Check
	opts        ContentOptions
	limits      archive.Limits
}

// LineChecker is a per-file check that knows where its findings are line-local
// (*hygiene.Checker): for content LineLocal accepts, Check's findings are those of
// CheckLines on each line alone, so a source that scans only the changed lines of
// a version may take the others' findings from a base (source.Blob.WindowChecks).
type LineChecker interface {
	Check(path string, data []byte) []finding.Finding
	LineLocal(path string, data []byte) bool
	CheckLines(path string, lines []byte) []finding.Finding
}

// NewContentScanner returns a scanner running eng and checks on every blob.
func NewContentScanner(eng *engine.Engine, checks []Check, opts ContentOptions) *ContentScanner {
	return &ContentScanner{eng: eng, checks: checks, opts: opts, limits: archive.Limits{
		MaxDepth:   opts.MaxArchiveDepth,
		MaxBytes:   opts.MaxArchiveBytes,
		MaxEntries: opts.MaxArchiveEntries,
		MaxRatio:   opts.MaxArchiveRatio,
		TempDir:    opts.TempDir,
	}}
}

// ScanBlob scans one blob. With b.Windows set and b.Data plain text, the engine
// reads only the windows, and so do the checks when b.WindowChecks is set (the
// source found LocalChecks true: else they see all of Data); for any other
// content the windows are ignored. A panic while scanning is the blob's Err.
func (c *ContentScanner) ScanBlob(b source.Blob) (out source.Outcome) {
	var s *blobScan
	defer func() {
		if r := recover(); r != nil {
			errs := []error{out.Err}
			if s != nil {
				out, errs = s.out, s.errs
			}
			out.Err = errors.Join(append(errs, fmt.Errorf("internal error while scanning (please report it): %v", r))...)
		}
	}()
	if (b.Data != nil || b.Open == nil) && c.archiveFormat(b.Data) == archive.None && text.Sniff(b.Data) == text.Plain {
		// Plain text held in memory, nearly every blob: no state to allocate.
		c.scan(&out, b.ID, "", b.Path, b.Data, b.Windows, b.WindowChecks)
		return out
	}
	s = &blobScan{c: c, b: b}
	s.run()
	s.out.Err = errors.Join(s.errs...)
	return s.out
}

// blobScan is the state of one ScanBlob.
type blobScan struct {
	c    *ContentScanner
	b    source.Blob
	out  source.Outcome
	errs []error
}

// skip names content not scanned: Skip.Path is the blob's path followed by the
// member chain.
func (s *blobScan) skip(chain, reason string) {
	s.out.Skipped = append(s.out.Skipped, source.Skip{Path: s.b.Path + chain, Reason: reason})
}

func (s *blobScan) run() {
	b := s.b
	if b.Data != nil || b.Open == nil {
		s.data(b.Data)
		return
	}
	rc, err := b.Open()
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("cannot open: %w", err))
		return
	}
	defer rc.Close()
	s.stream(rc)
}

// archiveFormat returns the archive format of content starting with head, or
// None when archives are off.
func (c *ContentScanner) archiveFormat(head []byte) archive.Format {
	if c.opts.MaxArchiveDepth <= 0 {
		return archive.None
	}
	return archive.Detect(head)
}

func (s *blobScan) walker() *archive.Walker {
	return &archive.Walker{Limits: s.c.limits, Entry: s.entry, Skip: func(p, reason string) {
		if p != "" {
			p = "!" + p
		}
		s.skip(p, reason)
	}}
}

// data scans a blob held in memory.
func (s *blobScan) data(d []byte) {
	if f := s.c.archiveFormat(d); f != archive.None {
		if !f.Supported() {
			s.skip("", f.String()+" archives are not supported")
			return
		}
		if err := s.walker().Walk(s.b.Path, d); err != nil {
			s.errs = append(s.errs, err)
		}
		return
	}
	s.content("", s.b.Path, d, s.b.Windows)
}

// stream scans a blob too large to hold.
func (s *blobScan) stream(rc io.ReadCloser) {
	head := make([]byte, archive.HeadSize)
	n, err := io.ReadFull(rc, head)
	head = head[:n]
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		s.errs = append(s.errs, fmt.Errorf("cannot read: %w", err))
		return
	}
	r := io.MultiReader(bytes.NewReader(head), rc)
	if f := s.c.archiveFormat(head); f != archive.None {
		if !f.Supported() {
			s.skip("", f.String()+" archives are not supported")
			return
		}
		w := s.walker()
		if f == archive.Zip {
			if ra, ok := rc.(interface {
				io.ReaderAt
				Stat() (fs.FileInfo, error)
			}); ok {
				if st, err := ra.Stat(); err == nil && st.Mode().IsRegular() {
					err = w.WalkReaderAt(s.b.Path, ra, st.Size())
					if err != nil {
						s.errs = append(s.errs, err)
					}
					return
				}
			}
		}
		if err := w.WalkReader(s.b.Path, r); err != nil {
			s.errs = append(s.errs, err)
		}
		return
	}
	n64, err := s.streamContent("", s.b.Path, head, r)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("read failed after %d bytes: %w", n64, err))
	}
}

// entry scans an archive member. Its read errors are the walker's to report.
func (s *blobScan) entry(e *archive.Entry) {
	chain := "!" + e.Path
	mp := strings.ReplaceAll(e.Path, "!", "/")
	if s.b.Path != "" {
		mp = s.b.Path + "/" + mp
	}
	maxSize := s.c.opts.MaxFileSize
	if maxSize > 0 && e.Size > maxSize {
		s.skip(chain, fmt.Sprintf("%d bytes, over --max-file-size", e.Size))
		return
	}
	size := memberMemory + 1
	if e.Size >= 0 && e.Size < memberMemory {
		size = int(e.Size) + 1 // +1: room to read EOF (or find the size was wrong)
	}
	buf, err := contentReadUpTo(e.R, make([]byte, 0, size), memberMemory+1)
	if err == nil && len(buf) > memberMemory { // too large to hold: stream it
		s.streamContent(chain, mp, e.Head, io.MultiReader(bytes.NewReader(buf), e.R))
		return
	}
	if maxSize > 0 && int64(len(buf)) > maxSize {
		s.skip(chain, fmt.Sprintf("%d bytes, over --max-file-size", len(buf)))
		return
	}
	s.content(chain, mp, buf, nil) // all of it, or what could be read before an error
}

// content scans content held in memory: chain locates it in the blob ("" for
// the blob itself) and mp is the path the engine and checks see.
func (s *blobScan) content(chain, mp string, d []byte, windows []source.Span) {
	switch k := text.Sniff(d); k {
	case text.Plain:
		s.scan(chain, mp, d, windows)
	case text.UTF16LE, text.UTF16BE:
		s.scan(chain, mp, text.DecodeUTF16(nil, d, k == text.UTF16BE), nil)
	default:
		if s.c.opts.SkipBinary {
			s.skip(chain, "binary")
			return
		}
		s.scan(chain, mp, text.Printable(nil, d), nil)
	}
}

func (s *blobScan) scan(chain, mp string, d []byte, windows []source.Span) {
	s.c.scan(&s.out, s.b.ID, chain, mp, d, windows, windows != nil && s.b.WindowChecks)
}

// scan runs the engine (on the windows, when given) and the checks on d (on the
// windows too when windowChecks is set: the source found them line-local for d),
// and adds the findings, located at chain, to out.
func (c *ContentScanner) scan(out *source.Outcome, id, chain, mp string, d []byte, windows []source.Span, windowChecks bool) {
	id += chain
	var fs []finding.Finding
	if windows == nil {
		fs, _ = c.eng.Scan(engine.Blob{ID: id, Path: mp, Data: d}) // no error without Open
		out.Bytes += int64(len(d))
	} else {
		for _, w := range windows {
			lo, hi := max(w.Start, 0), min(w.End, len(d))
			if lo >= hi {
				continue
			}
			wf, _ := c.eng.Scan(engine.Blob{ID: id, Path: mp, Data: d[lo:hi]})
			for i := range wf {
				wf[i].Line += w.Line - 1
				wf[i].EndLine += w.Line - 1
			}
			fs = append(fs, wf...)
			out.Bytes += int64(hi - lo)
		}
	}
	if windows != nil && windowChecks {
		for _, w := range windows {
			lo, hi := max(w.Start, 0), min(w.End, len(d))
			if lo >= hi || c.lines == nil {
				continue
			}
			wf := c.lines.CheckLines(mp, d[lo:hi])
			for i := range wf {
				wf[i].Line += w.Line - 1
				wf[i].EndLine += w.Line - 1
			}
			fs = append(fs, wf...)
		}
	} else {
		if c.lines != nil {
			fs = append(fs, c.lines.Check(mp, d)...)
		}
		for _, check := range c.checks {
			fs = append(fs, check(mp, d)...)
		}
	}
	addAt(out, chain, fs)
}

// LocalChecks reports whether every check's findings on d at path are those of
// checking its lines alone (see LineChecker): then a source may set
// source.Blob.WindowChecks with Windows of whole lines and take the findings of
// the other lines from a base whose content LocalChecks accepted too.
func (c *ContentScanner) LocalChecks(path string, d []byte) bool {
	return len(c.checks) == 0 && (c.lines == nil || c.lines.LineLocal(path, d))
}

func addAt(out *source.Outcome, chain string, fs []finding.Finding) {
	for i := range fs {
		fs[i].File = chain
	}
	out.Findings = append(out.Findings, fs...)
}

// streamContent scans content read from r (head is its start) through the
// engine's streaming path; the checks do not see it. It returns the bytes
// scanned and the read error.
func (s *blobScan) streamContent(chain, mp string, head []byte, r io.Reader) (int64, error) {
	switch k := text.Sniff(head); k {
	case text.UTF16LE, text.UTF16BE:
		r = text.NewUTF16Reader(r, k == text.UTF16BE)
	case text.Binary:
		if s.c.opts.SkipBinary {
			s.skip(chain, "binary")
			return 0, nil
		}
		r = text.NewPrintableReader(r)
	}
	cr := &contentCounter{r: r}
	fs, err := s.c.eng.Scan(engine.Blob{ID: s.b.ID + chain, Path: mp, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(cr), nil
	}})
	s.out.Bytes += cr.n
	addAt(&s.out, chain, fs)
	return cr.n, err
}

type contentCounter struct {
	r io.Reader
	n int64
}

func (c *contentCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// contentReadUpTo appends r's content to buf until EOF or limit bytes.
func contentReadUpTo(r io.Reader, buf []byte, limit int) ([]byte, error) {
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// ComposeBlob implements source.Composer: Compose over one blob's findings.
func (c *ContentScanner) ComposeBlob(fs []finding.Finding) []finding.Finding {
	if c.compose == nil || len(fs) == 0 {
		return fs
	}
	return c.compose(slices.Clone(fs))
}

// Composite implements source.Composer.
func (c *ContentScanner) Composite(ruleID string) bool { return c.inComposite[ruleID] }

// Reach and SpanningHits tell sources where the engine's findings factor, so that
// they may scan only the changed parts of a blob (git deltas: see source/git.Local).
// Findings of kind secret come from the windows; the checks' too with
// WindowChecks (see LocalChecks), else from the whole blob.
func (c *ContentScanner) Reach() int { return c.eng.Reach() }

// Windowable reports whether ScanBlob honours windows for content d (plain text,
// not an archive); other content is read whole (see source/git.Local).
func (c *ContentScanner) Windowable(d []byte) bool {
	return c.archiveFormat(d) == archive.None && text.Sniff(d) == text.Plain
}

// SpanningHits: see Reach.
func (c *ContentScanner) SpanningHits(dst [][2]int, data []byte, lo, hi int) [][2]int {
	return c.eng.SpanningHits(dst, data, lo, hi)
}

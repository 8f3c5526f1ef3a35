// Package archive opens archives and compressed files — zip (and jar, war, ear,
// apk), tar, gzip, bzip2, xz and zstd, recognised by their magic bytes whatever
// their name — and hands each member to a callback, opening archives nested in
// them down to a depth limit.
//
// A member is named by its chain below the walked blob: "dir/file" for a member of
// the blob, "dir/inner.tar!path" for a member of an archive inside it. A
// compressed stream holding a tar or zip is read as that archive (x.tar.gz's
// members are "dir/file"); one holding anything else is a member named after the
// stream (its gzip header name, or its own name without the extension:
// "notes.txt.gz" holds "notes.txt").
//
// Hostile archives cannot exhaust memory or time: the bytes decompressed in all,
// the members in all and each member's or stream's compression ratio are bounded
// (see Limits). Tar and compressed streams are read as streams; a zip, which needs
// random access, is read in place when the walked blob is in memory or a file,
// else held in memory up to Limits.MaxMemory and otherwise copied to a temporary
// file. A limit hit ends the walk; a corrupt member ends its archive when that is
// a stream, and only itself in a zip. Every such error names the member chain.
package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Format is an archive or compression format.
type Format uint8

// Formats Detect tells apart. SevenZip and Rar are recognised only to be named
// as not supported.
const (
	None Format = iota
	Zip
	Tar
	Gzip
	Bzip2
	Xz
	Zstd
	SevenZip
	Rar
)

func (f Format) String() string {
	return [...]string{"none", "zip", "tar", "gzip", "bzip2", "xz", "zstd", "7z", "rar"}[f]
}

// Supported reports whether Walk opens the format.
func (f Format) Supported() bool { return f >= Zip && f <= Zstd }

func (f Format) compressed() bool { return f >= Gzip && f <= Zstd }

// HeadSize is how many bytes of a member Detect and Entry.Head see.
const HeadSize = 8192

// Detect tells the format of content starting with head (give it at least 512
// bytes, or all of shorter content: tar's magic is at offset 257). Plain text
// costs a switch on its first byte and, when 263 bytes or more, one comparison.
func Detect(head []byte) Format {
	if len(head) >= 4 {
		switch head[0] {
		case 'P':
			if head[1] == 'K' && (head[2] == 3 && head[3] == 4 || head[2] == 5 && head[3] == 6 || head[2] == 7 && head[3] == 8) {
				return Zip
			}
		case 0x1F:
			if head[1] == 0x8B && head[2] == 8 {
				return Gzip
			}
		case 'B':
			// "BZh1".."BZh9", then the magic of a block or of the end of stream:
			// a text file may well start with "BZh9".
			if len(head) >= 10 && head[1] == 'Z' && head[2] == 'h' && head[3] >= '1' && head[3] <= '9' &&
				(string(head[4:10]) == "\x31\x41\x59\x26\x53\x59" || string(head[4:10]) == "\x17\x72\x45\x38\x50\x90") {
				return Bzip2
			}
		case 0xFD:
			if len(head) >= 6 && string(head[:6]) == "\xFD7zXZ\x00" {
				return Xz
			}
		case 0x28:
			if head[1] == 0xB5 && head[2] == 0x2F && head[3] == 0xFD {
				return Zstd
			}
		case '7':
			if len(head) >= 6 && string(head[:6]) == "7z\xBC\xAF\x27\x1C" {
				return SevenZip
			}
		case 'R':
			if len(head) >= 6 && string(head[:6]) == "Rar!\x1A\x07" {
				return Rar
			}
		}
	}
	if len(head) >= 263 && string(head[257:262]) == "ustar" && tarChecksumOK(head[:512:512]) {
		return Tar
	}
	return None
}

// tarChecksumOK checks a tar header block's checksum (the unsigned sum of its
// bytes, the checksum field counted as spaces), so that text holding "ustar" at
// offset 257 is not taken for a tar.
func tarChecksumOK(h []byte) bool {
	if len(h) < 512 {
		return false
	}
	field := strings.Trim(string(h[148:156]), " \x00")
	var want int64
	for _, c := range field {
		if c < '0' || c > '7' {
			return false
		}
		want = want*8 + int64(c-'0')
	}
	var sum int64
	for i, c := range h[:512] {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int64(c)
	}
	return field != "" && sum == want
}

// Limits bound a walk. Zero fields take the defaults.
type Limits struct {
	MaxDepth   int   // levels of archives opened: the walked blob is level 1 (default 4)
	MaxBytes   int64 // bytes read out of zip members and compressed streams in all, at every level (default 1 GiB)
	MaxEntries int   // members in all, at every level, directories included (default 100 000)
	MaxRatio   int   // bytes out per compressed byte, for each zip member and compressed stream (default 1000)
	RatioAfter int64 // MaxRatio holds once this many bytes came out of the member or stream (default 1 MiB)
	MaxMemory  int64 // a zip read from a stream is held in memory up to this size, else copied to a temporary file (default 16 MiB)
	TempDir    string
}

// Defaults of Limits.
const (
	DefaultMaxDepth   = 4
	DefaultMaxBytes   = 1 << 30
	DefaultMaxEntries = 100_000
	DefaultMaxRatio   = 1000
	DefaultRatioAfter = 1 << 20
	DefaultMaxMemory  = 16 << 20
	// MaxXZDict is the largest xz dictionary read (xz -9 uses 64 MiB): the
	// decoder allocates the dictionary each xz block header asks for, so every
	// header is checked before the decoder sees it.
	MaxXZDict = 64 << 20
)

func (l Limits) withDefaults() Limits {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	def(&l.MaxBytes, DefaultMaxBytes)
	def(&l.RatioAfter, DefaultRatioAfter)
	def(&l.MaxMemory, DefaultMaxMemory)
	return l
}

// ErrLimit is wrapped by the errors of limit hits.
var ErrLimit = errors.New("archive limit reached")

// Error is a walk's failure at one member.
type Error struct {
	Path string // the member chain; "" for the walked blob itself
	Err  error
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return "archive member " + e.Path + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Entry is a member that is content rather than an archive opened further.
type Entry struct {
	Path string // the member chain below the walked blob: "dir/inner.tar!path"
	Size int64  // uncompressed size as the archive gives it, -1 when unknown
	Head []byte // the first HeadSize bytes or fewer; valid during the call
	// R reads the whole content, Head included; valid during the call. Its read
	// errors are the walker's: Walk returns them, naming the member.
	R io.Reader
}

// Walker walks archives. A Walker is used by one goroutine at a time.
type Walker struct {
	Limits Limits
	Entry  func(e *Entry)            // each content member
	Skip   func(path, reason string) // each member not read, and why
}

// Walk walks the archive held in data; name is the blob's own name (its base
// names a compressed stream's member). It returns every error met, joined.
func (w *Walker) Walk(name string, data []byte) error {
	return w.walk(name, data, input{r: bytes.NewReader(data), ra: bytes.NewReader(data), size: int64(len(data))})
}

// WalkReader walks the archive r reads.
func (w *Walker) WalkReader(name string, r io.Reader) error {
	head, r, err := peek(r)
	if err != nil && !Detect(head).Supported() {
		return &Error{Err: err}
	}
	return w.walk(name, head, input{r: r, size: -1})
}

// WalkReaderAt walks the archive of the given size ra reads (a zip is read in
// place).
func (w *Walker) WalkReaderAt(name string, ra io.ReaderAt, size int64) error {
	r := io.NewSectionReader(ra, 0, size)
	head := make([]byte, min(size, HeadSize))
	if _, err := io.ReadFull(r, head); err != nil {
		return &Error{Err: err}
	}
	return w.walk(name, head, input{r: io.NewSectionReader(ra, 0, size), ra: ra, size: size})
}

func (w *Walker) walk(name string, head []byte, in input) error {
	s := &walk{w: w, lim: w.Limits.withDefaults()}
	f := Detect(head)
	if !f.Supported() {
		return &Error{Err: fmt.Errorf("not an archive this scanner opens (%s)", f)}
	}
	s.open("", path.Base(name), f, in, 1)
	return errors.Join(s.errs...)
}

// input is an archive's content: a stream, and when it allows random access the
// same content as a ReaderAt of the given size.
type input struct {
	r    io.Reader
	ra   io.ReaderAt
	size int64 // -1: unknown
}

// peek reads the head of r and returns it and a reader of the whole content. On
// a read error the reader gives the head and then the error again.
func peek(r io.Reader) ([]byte, io.Reader, error) { return peekN(r, HeadSize) }

// peekN is peek for content of at most n-1 bytes or with a head of n.
func peekN(r io.Reader, n int) ([]byte, io.Reader, error) {
	head := make([]byte, n)
	n, err := io.ReadFull(r, head)
	head = head[:n]
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	if err != nil {
		r = errReader{err}
	}
	return head, io.MultiReader(bytes.NewReader(head), r), err
}

// walk is the state of one Walk.
type walk struct {
	w       *Walker
	lim     Limits
	bytes   int64 // read out of zip members and compressed streams
	entries int
	stopped bool // a limit was hit: nothing more is read
	errs    []error
}

func (s *walk) skip(p, reason string) {
	if s.w.Skip != nil {
		s.w.Skip(p, reason)
	}
}

func (s *walk) fail(p string, err error) *Error {
	e := &Error{Path: p, Err: err}
	s.errs = append(s.errs, e)
	return e
}

// limit records a limit hit, which ends the walk.
func (s *walk) limit(p, what string) *Error {
	s.stopped = true
	s.skip(p, "archive limit: "+what)
	return s.fail(p, fmt.Errorf("%w: %s", ErrLimit, what))
}

// count counts a member of the archive at self.
func (s *walk) count(self string) bool {
	s.entries++
	if s.entries > s.lim.MaxEntries {
		s.limit(self, fmt.Sprintf("more than %d members in all; the members after them were not scanned", s.lim.MaxEntries))
		return false
	}
	return true
}

// open walks the archive of format f at prefix ("" for the walked blob, else
// "chain!"), whose own base name is name, at nesting level depth.
func (s *walk) open(prefix, name string, f Format, in input, depth int) {
	switch {
	case f == Zip:
		s.zip(prefix, in, depth)
	case f == Tar:
		s.tar(prefix, in.r, depth)
	case f.compressed():
		s.compressed(prefix, name, f, in.r, depth)
	}
}

func self(prefix string) string { return strings.TrimSuffix(prefix, "!") }

// member handles one member: an archive is opened one level down (or skipped
// beyond the depth limit), anything else goes to Walker.Entry. head, when not
// nil, is what was already read of r.
func (s *walk) member(prefix, name string, head []byte, r io.Reader, size int64, depth int) {
	p := prefix + name
	if head == nil {
		n := HeadSize
		if size >= 0 && size < HeadSize {
			n = int(size) + 1 // +1: a size that is wrong shows
		}
		head, r, _ = peekN(r, n) // a read error is recorded by the meter under r
	} else {
		r = io.MultiReader(bytes.NewReader(head), r)
	}
	if f := Detect(head); f != None {
		switch {
		case !f.Supported():
			s.skip(p, f.String()+" archives are not supported")
		case depth >= s.lim.MaxDepth:
			s.skip(p, fmt.Sprintf("%s archive nested more than %d levels deep (the archive depth limit)", f, s.lim.MaxDepth))
		default:
			s.open(p+"!", path.Base(name), f, input{r: r, size: size}, depth+1)
		}
		return
	}
	if s.w.Entry != nil {
		s.w.Entry(&Entry{Path: p, Size: size, Head: head, R: r})
	}
}

// meter reads a member or a stream, counting and bounding what comes out and
// recording its read errors once, named by path.
type meter struct {
	s      *walk
	path   string
	r      io.Reader
	counts bool         // counts towards Limits.MaxBytes and MaxRatio
	comp   func() int64 // compressed bytes consumed so far (nil: no ratio)
	out    int64
	err    error // recorded: returned by every later Read
}

func (s *walk) meter(p string, r io.Reader, counts bool, comp func() int64) *meter {
	return &meter{s: s, path: p, r: r, counts: counts, comp: comp}
}

func (m *meter) Read(b []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	if m.s.stopped {
		m.err = &Error{Path: m.path, Err: ErrLimit} // recorded where it was hit
		return 0, m.err
	}
	n, err := m.r.Read(b)
	m.out += int64(n)
	if m.counts {
		m.s.bytes += int64(n)
		if m.s.bytes > m.s.lim.MaxBytes {
			m.err = m.s.limit(m.path, fmt.Sprintf("more than %d bytes decompressed in all", m.s.lim.MaxBytes))
			return n, m.err
		}
		if m.comp != nil && m.out > m.s.lim.RatioAfter && m.out > int64(m.s.lim.MaxRatio)*max(m.comp(), 1) {
			m.s.skip(m.path, fmt.Sprintf("archive limit: compression ratio over %d:1 (a decompression bomb?)", m.s.lim.MaxRatio))
			m.err = m.s.fail(m.path, fmt.Errorf("%w: compression ratio over %d:1 after %d bytes (a decompression bomb?); the rest was not read", ErrLimit, m.s.lim.MaxRatio, m.out))
			return n, m.err
		}
	}
	if err != nil && err != io.EOF {
		var known *Error
		if errors.As(err, &known) {
			m.err = err
		} else {
			m.err = m.s.fail(m.path, err)
		}
		return n, m.err
	}
	return n, err
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// cleanName makes an archive's member name a relative slash path.
func cleanName(n string) string {
	n = strings.ReplaceAll(n, `\`, "/")
	for {
		switch {
		case strings.HasPrefix(n, "./"):
			n = n[2:]
		case strings.HasPrefix(n, "/"):
			n = n[1:]
		default:
			if n == "" {
				return "(unnamed)"
			}
			return n
		}
	}
}

func (s *walk) zip(prefix string, in input, depth int) {
	me := self(prefix)
	ra, size := in.ra, in.size
	if ra == nil {
		var cleanup func()
		var err error
		ra, size, cleanup, err = s.spool(me, in.r, in.size)
		if err != nil {
			return
		}
		defer cleanup()
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		s.fail(me, fmt.Errorf("reading zip: %w", err))
		return
	}
	zr.RegisterDecompressor(zip.Deflate, flate.NewReader) // faster than compress/flate, same format
	zr.RegisterDecompressor(12, func(r io.Reader) io.ReadCloser { return io.NopCloser(bzip2.NewReader(r)) })
	zr.RegisterDecompressor(93, func(r io.Reader) io.ReadCloser {
		d, err := newZstd(r)
		if err != nil {
			return io.NopCloser(errReader{err})
		}
		return d.IOReadCloser()
	})
	zr.RegisterDecompressor(95, func(r io.Reader) io.ReadCloser {
		d, err := newXZ(r)
		if err != nil {
			return io.NopCloser(errReader{err})
		}
		return io.NopCloser(d)
	})
	for _, f := range zr.File {
		if s.stopped || !s.count(me) {
			return
		}
		if strings.HasSuffix(f.Name, "/") || !f.Mode().IsRegular() {
			continue // directories, symlinks
		}
		name := cleanName(f.Name)
		p := prefix + name
		if f.Flags&1 != 0 {
			s.skip(p, "encrypted zip member")
			continue
		}
		rc, err := f.Open()
		if errors.Is(err, zip.ErrAlgorithm) {
			s.skip(p, fmt.Sprintf("zip compression method %d is not supported", f.Method))
			continue
		}
		if err != nil {
			s.fail(p, err)
			continue
		}
		comp := min(int64(min(f.CompressedSize64, math.MaxInt64)), size)
		usize := int64(-1)
		if f.UncompressedSize64 <= math.MaxInt64 {
			usize = int64(f.UncompressedSize64)
		}
		s.member(prefix, name, nil, s.meter(p, rc, true, func() int64 { return comp }), usize, depth)
		rc.Close()
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// spool makes a zip read from a stream randomly accessible: in memory up to
// Limits.MaxMemory, else in a temporary file.
func (s *walk) spool(me string, r io.Reader, size int64) (io.ReaderAt, int64, func(), error) {
	limit := s.lim.MaxMemory
	buf := make([]byte, 0, min(max(size, 0)+1, limit+1, 1<<20))
	buf, err := readUpTo(r, buf, limit+1)
	if err != nil {
		return nil, 0, nil, s.record(me, err)
	}
	if int64(len(buf)) <= limit {
		return bytes.NewReader(buf), int64(len(buf)), func() {}, nil
	}
	f, err := os.CreateTemp(s.lim.TempDir, "tokenward-zip-*")
	if err != nil {
		return nil, 0, nil, s.fail(me, fmt.Errorf("a zip over %d bytes is copied to a temporary file to be read: %w", limit, err))
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	n, err := io.Copy(f, io.MultiReader(bytes.NewReader(buf), r))
	if err != nil {
		cleanup()
		return nil, 0, nil, s.record(me, err)
	}
	return f, n, cleanup, nil
}

// record records err unless a meter has.
func (s *walk) record(p string, err error) error {
	var known *Error
	if errors.As(err, &known) {
		return err
	}
	return s.fail(p, err)
}

// readUpTo appends r's content to buf until EOF or limit bytes.
func readUpTo(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(int64(cap(buf)), limit)])
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

func (s *walk) tar(prefix string, r io.Reader, depth int) {
	me := self(prefix)
	tr := tar.NewReader(r)
	last := ""
	for !s.stopped {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			if last != "" {
				err = fmt.Errorf("tar, after member %s: %w", last, err)
			} else {
				err = fmt.Errorf("tar: %w", err)
			}
			s.record(me, err)
			return
		}
		if !s.count(me) {
			return
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeGNUSparse {
			continue // directories, links (their content is another member's), devices
		}
		name := cleanName(h.Name)
		last = name
		m := s.meter(prefix+name, tr, false, nil)
		s.member(prefix, name, nil, m, h.Size, depth)
		if m.err != nil {
			return // the stream is broken
		}
	}
}

// compressed reads a compressed stream: a tar or zip inside is walked at the same
// level, anything else is one member.
func (s *walk) compressed(prefix, name string, f Format, r io.Reader, depth int) {
	me := self(prefix)
	cr := &countReader{r: r}
	var dr io.Reader
	inner := ""
	switch f {
	case Gzip:
		z, err := gzip.NewReader(cr)
		if err != nil {
			s.record(me, fmt.Errorf("gzip: %w", err))
			return
		}
		if z.Name != "" {
			inner = path.Base(cleanName(z.Name))
		}
		dr = z
	case Bzip2:
		dr = bzip2.NewReader(cr)
	case Xz:
		x, err := newXZ(cr)
		if err != nil {
			s.record(me, err)
			return
		}
		dr = x
	case Zstd:
		z, err := newZstd(cr)
		if err != nil {
			s.record(me, err)
			return
		}
		defer z.Close()
		dr = z
	}
	if inner == "" {
		inner = strip(name, f)
	}
	m := s.meter(me, dr, true, func() int64 { return cr.n })
	head, rest, _ := peek(m) // a read error is recorded by the meter
	if g := Detect(head); g == Tar || g == Zip {
		s.open(prefix, inner, g, input{r: rest, size: -1}, depth)
		return
	}
	if !s.count(me) {
		return
	}
	s.member(prefix, inner, head, m, -1, depth)
}

// strip names a compressed stream's content after the stream's name.
func strip(name string, f Format) string {
	lower := strings.ToLower(name)
	exts := map[Format][]string{
		Gzip:  {".tgz:.tar", ".gz:", ".gzip:", ".z:"},
		Bzip2: {".tbz2:.tar", ".tbz:.tar", ".bz2:", ".bz:"},
		Xz:    {".txz:.tar", ".xz:"},
		Zstd:  {".tzst:.tar", ".zst:", ".zstd:"},
	}[f]
	for _, e := range exts {
		ext, repl, _ := strings.Cut(e, ":")
		if strings.HasSuffix(lower, ext) && len(name) > len(ext) {
			return name[:len(name)-len(ext)] + repl
		}
	}
	if name == "" || name == "." || name == "/" || name == "-" { // no name, or stdin
		return "(content)"
	}
	return name
}

func newZstd(r io.Reader) (*zstd.Decoder, error) {
	d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(64<<20), zstd.WithDecoderMaxMemory(64<<20))
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	return d, nil
}

// newXZ opens an xz stream whose block headers are checked by an xzGuard.
func newXZ(r io.Reader) (io.Reader, error) {
	x, err := xz.ReaderConfig{DictCap: 8 << 20}.NewReader(newXZGuard(r))
	if err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	return x, nil
}

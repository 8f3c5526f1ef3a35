// Package files is the file-system source: it walks directories and files (and
// stdin) and hands each regular file to the pipeline's scanner.
package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	ignore "github.com/sabhiram/go-gitignore"
	"github.com/sourcegraph/conc/panics"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// IgnoreFileName lists paths to skip, in gitignore syntax, at the root of a scanned
// directory. Lines of the form tw1:… (or legacy sha256:…) are finding fingerprints, applied by callers.
const IgnoreFileName = ".tokenwardignore"

// memLimit is the largest file read whole; larger files are streamed in chunks.
const memLimit = 4 << 20

// A worker reads files into one buffer, minBuf bytes at first and grown as
// needed; it keeps the buffer for the next file unless it grew over maxKeep.
const (
	minBuf  = 64 << 10
	maxKeep = 1 << 20
)

// Options control a file scan.
type Options struct {
	Workers        int
	FollowSymlinks bool
	MaxFileSize    int64     // skip larger files (0: no limit); they are named and counted, not scanned
	Stdin          io.Reader // read for the path "-"
	// IgnoreRoot, when set, is the directory whose .tokenwardignore applies to
	// every scanned directory under it, with patterns matched against paths
	// relative to it (the repository's top when a subdirectory is scanned; see
	// rules.ConfigRoot). Empty: each scanned directory's own file applies.
	IgnoreRoot string
}

type job struct {
	path string // reported path
	open string // path on disk
}

// Source is a set of paths to scan.
type Source struct {
	paths []string
	opts  Options
}

// New returns the source of the given paths ("-" is stdin).
func New(paths []string, opts Options) *Source { return &Source{paths: paths, opts: opts} }

var _ source.Source = (*Source)(nil)

// Scan walks the paths and hands every regular file to sc. The order of findings
// does not depend on the number of workers.
func (src *Source) Scan(ctx context.Context, sc source.Scanner) source.Result {
	return *scan(ctx, sc, src.paths, src.opts)
}

func scan(ctx context.Context, sc source.Scanner, paths []string, opts Options) *source.Result {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	s := &state{sc: sc, opts: opts, res: &source.Result{}, seenDirs: map[fileID]bool{}}
	jobs := make(chan job, 256)
	var workers sync.WaitGroup
	for range opts.Workers {
		workers.Go(func() {
			var buf []byte // reused for every file this worker reads
			for j := range jobs {
				// A panic while scanning one file (an engine bug on hostile input)
				// is that file's problem: the scan goes on and exits incomplete.
				if r := panics.Try(func() { buf = s.scanFile(j, buf) }); r != nil {
					s.problem(j.path, fmt.Errorf("internal error while scanning (please report it): %v", r.Value))
					buf = nil
				}
			}
		})
	}
	var walker sync.WaitGroup
	walker.Go(func() {
		defer close(jobs)
		for _, root := range paths {
			if ctx.Err() != nil {
				return
			}
			if root == "-" {
				jobs <- job{path: "-", open: "-"}
				continue
			}
			s.walkRoot(ctx, root, jobs)
		}
	})
	walker.Wait()
	workers.Wait()
	if ctx.Err() != nil {
		s.problem("scan", ctx.Err())
	}
	res := s.res
	res.Stats = s.stats.snapshot()
	finding.Sort(res.Findings)
	sort.Slice(res.Problems, func(i, j int) bool { return res.Problems[i].Path < res.Problems[j].Path })
	sort.Slice(res.Skipped, func(i, j int) bool { return res.Skipped[i].Path < res.Skipped[j].Path })
	sort.Strings(res.Warnings)
	return res
}

type counters struct {
	files, bytes, skipped, symlinks, ignored atomic.Int64
}

func (c *counters) snapshot() source.Stats {
	return source.Stats{Files: c.files.Load(), Bytes: c.bytes.Load(), Skipped: c.skipped.Load(),
		Symlinks: c.symlinks.Load(), Ignored: c.ignored.Load()}
}

type state struct {
	sc    source.Scanner
	opts  Options
	stats counters

	mu       sync.Mutex
	res      *source.Result
	seenDirs map[fileID]bool // directories entered through symlinks, for loop detection
}

func (s *state) problem(path string, err error) {
	s.mu.Lock()
	s.res.Problems = append(s.res.Problems, source.Problem{Path: path, Err: err})
	s.mu.Unlock()
}

func (s *state) warn(format string, args ...any) {
	s.mu.Lock()
	s.res.Warnings = append(s.res.Warnings, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

// special records a file that is not a regular file (a pipe, socket or device):
// it is never opened, since opening a pipe blocks until a writer comes and a
// device may never end. It is counted, listed in Skipped and named in a warning.
func (s *state) special(reported string, mode fs.FileMode) {
	kind := specialKind(mode)
	s.stats.skipped.Add(1)
	s.mu.Lock()
	s.res.Skipped = append(s.res.Skipped, source.Skip{Path: filepath.ToSlash(reported), Reason: kind})
	s.res.Warnings = append(s.res.Warnings, fmt.Sprintf("%s: %s, not scanned (only regular files are read; pipe content to `tokenward scan -`)", reported, kind))
	s.mu.Unlock()
}

func specialKind(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "named pipe"
	case mode&fs.ModeSocket != 0:
		return "socket"
	case mode&fs.ModeCharDevice != 0:
		return "character device"
	case mode&fs.ModeDevice != 0:
		return "block device"
	default:
		return "not a regular file"
	}
}

// add records what scanning the file at path gave: its findings located in the
// file (an archive member's chain follows the path) and what was skipped.
func (s *state) add(path string, o source.Outcome) {
	s.stats.skipped.Add(int64(len(o.Skipped)))
	if whole := len(o.Skipped) == 1 && o.Skipped[0].Path == path && o.Bytes == 0; !whole {
		s.stats.files.Add(1)
	}
	s.stats.bytes.Add(o.Bytes)
	for i := range o.Findings {
		o.Findings[i].File = path + o.Findings[i].File
	}
	s.mu.Lock()
	s.res.Findings = append(s.res.Findings, o.Findings...)
	s.res.Skipped = append(s.res.Skipped, o.Skipped...)
	s.mu.Unlock()
	if o.Err != nil {
		s.problem(path, o.Err)
	}
}

func (s *state) walkRoot(ctx context.Context, root string, jobs chan<- job) {
	st, err := os.Lstat(root)
	if err != nil {
		s.problem(root, fmt.Errorf("cannot scan: %w", unwrapPathError(err)))
		return
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		// A path named on the command line is followed: the user asked for it.
		if st, err = os.Stat(root); err != nil {
			s.problem(root, fmt.Errorf("broken symlink: %w", unwrapPathError(err)))
			return
		}
	}
	if !st.IsDir() {
		if !st.Mode().IsRegular() {
			s.special(root, st.Mode())
			return
		}
		s.enqueue(root, root, st.Size(), jobs)
		return
	}
	ignDir, rel := root, ""
	if s.opts.IgnoreRoot != "" {
		if r, ok := under(s.opts.IgnoreRoot, root); ok {
			ignDir, rel = s.opts.IgnoreRoot, r
		}
	}
	var ign *ignore.GitIgnore
	if data, err := os.ReadFile(filepath.Join(ignDir, IgnoreFileName)); err == nil {
		var patterns []string
		for _, line := range strings.Split(string(data), "\n") {
			if !finding.HasFingerprintPrefix(strings.TrimSpace(line)) { // fingerprints are for findings, not paths
				patterns = append(patterns, line)
			}
		}
		ign = ignore.CompileIgnoreLines(patterns...)
	}
	if id, ok := idOf(st); ok {
		s.seenDirs[id] = true
	}
	s.walkDir(ctx, root, root, rel, ign, jobs)
}

// under returns path relative to dir, slash-separated ("" for dir itself), when
// path is dir or inside it.
func under(dir, path string) (string, bool) {
	ad, err1 := filepath.Abs(dir)
	ap, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return "", false
	}
	rel, err := filepath.Rel(ad, ap)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	if rel == "." {
		return "", true
	}
	return filepath.ToSlash(rel), true
}

// walkDir walks the directory at disk path dir, reported as report, whose path
// relative to the root is rel.
func (s *state) walkDir(ctx context.Context, dir, report, rel string, ign *ignore.GitIgnore, jobs chan<- job) {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sub, _ := filepath.Rel(dir, p)
		relPath := filepath.ToSlash(filepath.Join(rel, sub))
		reported := filepath.Join(report, sub)
		if err != nil {
			s.problem(reported, fmt.Errorf("cannot read: %w", unwrapPathError(err)))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != dir {
				return fs.SkipDir
			}
			if ign != nil && p != dir && ign.MatchesPath(relPath+"/") {
				s.stats.ignored.Add(1)
				return fs.SkipDir
			}
			return nil
		}
		if ign != nil && (ign.MatchesPath(relPath) || d.Name() == IgnoreFileName) {
			s.stats.ignored.Add(1)
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			s.symlink(ctx, p, reported, relPath, ign, jobs)
			return nil
		}
		if !d.Type().IsRegular() {
			s.special(reported, d.Type())
			return nil
		}
		size := int64(-1) // unknown: only --max-file-size needs it before reading
		if s.opts.MaxFileSize > 0 {
			info, err := d.Info()
			if err != nil {
				s.problem(reported, fmt.Errorf("cannot stat: %w", unwrapPathError(err)))
				return nil
			}
			size = info.Size()
		}
		s.enqueue(reported, p, size, jobs)
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		s.problem(report, err)
	}
}

func (s *state) symlink(ctx context.Context, p, reported, rel string, ign *ignore.GitIgnore, jobs chan<- job) {
	if !s.opts.FollowSymlinks {
		s.stats.symlinks.Add(1)
		return
	}
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.warn("%s: dangling symlink skipped", reported)
			return
		}
		if isLoop(err) {
			s.warn("%s: symlink loop not followed", reported)
			return
		}
		s.problem(reported, fmt.Errorf("cannot follow symlink: %w", unwrapPathError(err)))
		return
	}
	if !st.IsDir() {
		if !st.Mode().IsRegular() { // a link to a pipe, socket or device
			s.special(reported, st.Mode())
			return
		}
		s.enqueue(reported, p, st.Size(), jobs)
		return
	}
	if ign != nil && ign.MatchesPath(rel+"/") {
		s.stats.ignored.Add(1)
		return
	}
	id, ok := idOf(st)
	s.mu.Lock()
	seen := ok && s.seenDirs[id]
	if ok {
		s.seenDirs[id] = true
	}
	s.mu.Unlock()
	if seen {
		s.warn("%s: symlink loop (directory already scanned) not followed", reported)
		return
	}
	// filepath.WalkDir does not follow a symlink even as its root: walk the
	// directory it resolves to, reported under the link's path.
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		s.problem(reported, fmt.Errorf("cannot follow symlink: %w", unwrapPathError(err)))
		return
	}
	s.walkDir(ctx, real, reported, rel, ign, jobs)
}

// enqueue queues a file of the given size (-1: unknown) for scanning.
func (s *state) enqueue(reported, open string, size int64, jobs chan<- job) {
	if s.opts.MaxFileSize > 0 && size > s.opts.MaxFileSize {
		s.stats.skipped.Add(1)
		s.mu.Lock()
		s.res.Skipped = append(s.res.Skipped, source.Skip{Path: filepath.ToSlash(reported), Reason: fmt.Sprintf("%d bytes, over --max-file-size", size)})
		s.mu.Unlock()
		return
	}
	jobs <- job{path: reported, open: open}
}

// scanFile scans one file, reading it into buf (grown as needed and returned for
// the next file). Files over memLimit are streamed.
func (s *state) scanFile(j job, buf []byte) []byte {
	if j.open == "-" {
		s.scanStream(j.path, io.NopCloser(s.opts.Stdin))
		return buf
	}
	f, err := openFile(j.open)
	if err != nil {
		s.problem(j.path, fmt.Errorf("cannot open: %w", unwrapPathError(err)))
		return buf
	}
	data, err := readUpTo(f, buf, memLimit+1)
	if buf = data[:0]; cap(buf) > maxKeep {
		buf = nil
	}
	if err != nil {
		f.Close()
		s.problem(j.path, fmt.Errorf("cannot read: %w", unwrapPathError(err)))
		return buf
	}
	if len(data) > memLimit { // too large to hold: stream it, starting with what was read
		s.scanStream(j.path, struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(data), f), f})
		return buf
	}
	f.Close()
	path := filepath.ToSlash(j.path)
	s.add(path, s.sc.ScanBlob(source.Blob{ID: j.path, Path: path, Data: data}))
	return buf
}

// readUpTo reads f until EOF or until limit bytes are read, into buf's storage.
// When buf fills, fstat tells how far to grow it (at least double, at most limit
// bytes), so that a large file costs one allocation and one copy.
func readUpTo(f rfile, buf []byte, limit int) ([]byte, error) {
	buf = buf[:0]
	sized := false
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= limit {
				return buf, nil
			}
			want := max(2*cap(buf), minBuf)
			if !sized && len(buf) > 0 {
				sized = true
				if size, ok := f.size(); ok && size >= int64(want) {
					want = int(min(size+1, int64(limit))) // +1: room to read EOF without growing again
				}
			}
			grown := make([]byte, len(buf), min(want, limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// scanStream hands content too large to hold to the scanner as a stream.
func (s *state) scanStream(path string, rc io.ReadCloser) {
	defer rc.Close()
	p := filepath.ToSlash(path)
	used := false
	o := s.sc.ScanBlob(source.Blob{ID: path, Path: p, Open: func() (io.ReadCloser, error) {
		if used {
			return nil, errors.New("the stream can be read only once")
		}
		used = true
		return io.NopCloser(rc), nil
	}})
	if o.Err != nil {
		o.Err = fmt.Errorf("read failed: %w", unwrapPathError(o.Err))
	}
	s.add(p, o)
}

// unwrapPathError drops the *PathError wrapper, whose path the caller already names.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Package git is the git source: it reads a repository's history, a commit range or
// the staged index (no git binary: packfiles are read directly, loose objects and
// refs through go-git), hands each unique blob to the engine once, and attributes
// findings to the commit that introduced them.
//
// History: every commit reachable from any ref (branches, tags, remote refs,
// detached worktree HEADs, the stash and its reflog) and, with IncludeUnreachable,
// dangling objects. Trees are walked once; each unique blob is scanned once (once
// per path class when results depend on the path). Provenance is resolved only for
// blobs that produced findings: a secret (fingerprint) is reported at a commit and
// path when that commit holds it there and no parent holds it at that path, nor at a
// path the commit changed to drop it (a move). So a secret introduced by a merge's
// conflict resolution is attributed to the merge, and one later renamed or deleted
// to the commit that added it.
//
// Range (BASE..HEAD): the commits reachable from HEAD and not from BASE; for each,
// the blobs that differ from every parent at their path. A secret counts when the
// commit introduced it (as above) and no base-side parent of the range holds it at
// that path, so re-touching or moving a base secret is not reported.
//
// Staged: index entries whose blob differs from HEAD's at the same path, minus
// secrets HEAD's version of the path (or a file the index deletes) already holds.
// History is not read.
//
// Speed: see delta.go (packed deltas are scanned around their changes).
package git

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// Options selects what to scan.
type Options struct {
	Repo               string // a work tree, a bare repository, a .git dir or a path inside a work tree
	Range              string // "BASE..HEAD": only what those commits add
	Staged             bool   // only the index against HEAD
	IncludeUnreachable bool   // also dangling commits, trees and blobs
	Workers            int    // engine workers; 0 means one per CPU
	MaxBlobSize        int64  // blobs larger than this are skipped (counted in Stats); 0 = no limit
	// PathClass, when set, maps a path to a key such that the engine's result for a
	// blob cannot differ between two paths with the same key (path rules and path
	// allow lists; see PathClassFor). A blob seen under several keys is scanned once
	// per key. Nil means results do not depend on the path.
	PathClass func(path string) string

	// FullBlobs scans every blob whole instead of only around what packed deltas
	// change. The findings are the same (see delta.go); only the cost differs.
	FullBlobs bool
	// DeltaContext is not used any more: how far around a change a delta is
	// scanned follows from the engine's rules (see Local). Kept for callers.
	DeltaContext int

	// Cache, when set, carries blob results across scans (incremental sweeps): a
	// blob whose result Cache holds is neither read nor scanned (its findings
	// still get provenance), and each blob result this scan completes is offered
	// to Cache.Put. Commit and tag messages are not cached.
	Cache ResultCache
}

// ResultCache holds the engine's complete findings for blobs, keyed by blob hash
// (hex) and path class (Options.PathClass's key, "" without one). Findings are
// positioned in the blob, without File or provenance. The caller keys the cache by
// everything else the results depend on (rules, engine options). Get and Put may
// be called from several goroutines.
type ResultCache interface {
	Get(blob, class string) (fs []finding.Finding, ok bool)
	Put(blob, class string, fs []finding.Finding)
}

// Stats counts the work done.
type Stats struct {
	Refs          int           `json:"refs"`
	Commits       int           `json:"commits"`
	Trees         int           `json:"trees"`
	Blobs         int           `json:"blobs"`          // unique blobs found
	BlobsScanned  int           `json:"blobs_scanned"`  // blob scans run (a blob under two path classes counts twice)
	Cached        int           `json:"blobs_cached"`   // blob results taken from Options.Cache
	Binary        int           `json:"binary_skipped"` // blobs (or archive members) the scanner did not read
	Skipped       []source.Skip `json:"-"`              // each of them, named by blob path
	TooLarge      int           `json:"too_large"`      // blobs skipped as larger than MaxBlobSize
	Streamed      int           `json:"streamed"`       // blobs streamed rather than held in memory
	DeltaScanned  int           `json:"delta_scanned"`  // blobs scanned only around what their delta changed
	Messages      int           `json:"messages"`       // commit and tag messages scanned
	Bytes         int64         `json:"bytes"`          // content bytes handed to the engine
	BlobsWithHits int           `json:"blobs_with_findings"`
	Findings      int           `json:"findings"`
	Elapsed       time.Duration `json:"elapsed_ns"`
	// Submodules are the paths of gitlinks met (submodule commits), sorted: their
	// content lives in another repository and is not scanned here.
	Submodules []string `json:"submodules,omitempty"`
}

// File names reported for findings that are not in a file.
const (
	CommitMessagePath = "commit-message"
	TagMessagePath    = "tag-message"
)

// Scan runs the scan that opts selects. Findings carry File, Commit, Author, Email
// and Date. problems lists everything that could not be read (by ref, object or
// file name); a non-empty problems means the scan is incomplete, though every
// finding that could be found is returned.
func Scan(ctx context.Context, sc source.Scanner, opts Options) (fs []finding.Finding, stats Stats, problems []error) {
	start := time.Now()
	defer func() { stats.Elapsed = time.Since(start); stats.Findings = len(fs) }()
	var sess *session
	defer func() { // after the pool has drained (deferred below)
		if s := sess; s != nil {
			for k, r := range s.pool.results {
				if !k.msg && len(r) > 0 {
					stats.BlobsWithHits++
				}
			}
			stats.Binary = len(s.pool.skipped) - stats.TooLarge
			stats.Skipped = s.pool.skipped
		}
	}()
	if opts.Repo == "" {
		opts.Repo = "."
	}
	if opts.Staged && opts.Range != "" {
		return nil, stats, []error{errors.New("--staged and --range cannot be combined")}
	}
	rp, err := openRepo(opts.Repo)
	if err != nil {
		return nil, stats, []error{err}
	}
	defer rp.store.close()
	s := newSession(ctx, rp, sc, opts, &stats)
	sess = s
	defer s.pool.close()
	switch {
	case opts.Staged:
		s.staged()
	case opts.Range != "":
		s.rangeScan()
	default:
		s.history()
	}
	if err := ctx.Err(); err != nil {
		s.problem(fmt.Errorf("scan interrupted: %w", err))
	}
	for p := range s.gitlinks {
		stats.Submodules = append(stats.Submodules, p)
	}
	sort.Strings(stats.Submodules)
	return s.out, stats, s.problems
}

// session is the state of one scan.
type session struct {
	ctx      context.Context
	rp       *repo
	opts     Options
	stats    *Stats
	pool     *pool
	mu       sync.Mutex
	problems []error
	out      []finding.Finding
	scanned  map[resultKey]bool // keys submitted to the engine (touched by the producer only)

	pendingBlobs []pending
	main         *producer            // reads blobs outside bulk scans
	deltas       []deltaRec           // window-scanned blobs, each family in pack order
	classes      map[string]pathClass // path -> PathClass(path)
	fps          map[resultKey]map[string]bool
	partial      map[resultKey]bool // changeScan keys: submitted (true) or to scan whole
	gitlinks     map[string]bool    // paths of submodule commits met (not scanned)
	local        Local              // the scanner, when its findings factor (nil: no windows)
	// composed: findings composed into composite credentials, by key (see
	// findingsAt).
	composedMu sync.Mutex
	composed   map[resultKey][]finding.Finding
	pf         *prefetch // reads trees ahead of the history walk, while it runs
}

func newSession(ctx context.Context, rp *repo, sc source.Scanner, opts Options, stats *Stats) *session {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	s := &session{ctx: ctx, rp: rp, opts: opts, stats: stats, scanned: map[resultKey]bool{}, classes: map[string]pathClass{}, fps: map[resultKey]map[string]bool{}, partial: map[resultKey]bool{}}
	s.local, _ = sc.(Local)
	s.main = s.newProducer(rp.store, stats)
	s.pool = newPool(sc, workers, s.problem)
	return s
}

// gitlink records a submodule at path: not scanned, listed in Stats.Submodules.
func (s *session) gitlink(path string) {
	s.mu.Lock()
	if s.gitlinks == nil {
		s.gitlinks = map[string]bool{}
	}
	s.gitlinks[path] = true
	s.mu.Unlock()
}

func (s *session) problem(err error) {
	s.mu.Lock()
	s.problems = append(s.problems, err)
	s.mu.Unlock()
}

func (s *session) class(path string) string {
	_, c := s.interned(path)
	return c
}

// pathClass is a path's class, with the path's one copy that the session keeps.
type pathClass struct{ path, class string }

// interned returns path's kept copy (queued blobs share it rather than hold one
// each) and its class.
func (s *session) interned(path string) (string, string) {
	if s.opts.PathClass == nil {
		return path, ""
	}
	c, ok := s.classes[path]
	if !ok {
		c = pathClass{path, s.opts.PathClass(path)}
		s.classes[path] = c
	}
	return c.path, c.class
}

// resultKey names one engine result: a blob under a path class, or a message.
type resultKey struct {
	hash  plumbing.Hash
	class string
	msg   bool // a commit or tag message, hash being the commit or tag
	// base, when set, marks a partial result: hash scanned only around what changed
	// from blob base (range and staged scans; see changeScan). Never cached.
	base plumbing.Hash
}

type job struct {
	key     resultKey
	name    string // for error messages
	blob    source.Blob
	windows []span   // when set, only these parts of blob.Data are scanned
	held    *heldBuf // blob.Data's pooled buffer: released once the job ran (or nil)
}

// pool runs the engine on blobs in parallel and keeps the results that have findings.
type pool struct {
	sc      source.Scanner
	jobs    chan job
	wg      sync.WaitGroup
	mu      sync.Mutex
	results map[resultKey][]finding.Finding
	skipped []source.Skip // content the scanner did not read, by blob path
	// done: blob keys whose result is complete, scanned without error (offered to
	// Options.Cache). A window-scanned blob is done only once propagate has added
	// its base's findings.
	done map[resultKey]bool
	// whole: blob keys the scanner read whole (nothing skipped, no error), so
	// usable as delta bases; window-scanned ones once propagate completed them.
	whole map[resultKey]bool
	// windows: window-scanned blob keys whose windows scanned without error.
	windows map[resultKey]bool
	report  func(error)
	closed  bool
}

func newPool(sc source.Scanner, workers int, report func(error)) *pool {
	p := &pool{sc: sc, jobs: make(chan job, workers*2), results: map[resultKey][]finding.Finding{}, done: map[resultKey]bool{}, whole: map[resultKey]bool{}, windows: map[resultKey]bool{}, report: report}
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for j := range p.jobs {
				p.run(j)
			}
		}()
	}
	return p
}

func (p *pool) run(j job) {
	defer j.held.release() // nothing keeps blob.Data past the scan: findings copy what they quote
	defer func() {
		if r := recover(); r != nil {
			p.report(fmt.Errorf("%s: engine failed: %v", j.name, r))
		}
	}()
	b := j.blob
	for _, w := range j.windows {
		b.Windows = append(b.Windows, source.Span{Start: w.start, End: w.end, Line: w.line})
	}
	out := p.sc.ScanBlob(b)
	fs, err := out.Findings, out.Err
	if len(out.Skipped) > 0 {
		p.mu.Lock()
		p.skipped = append(p.skipped, out.Skipped...)
		p.mu.Unlock()
	}
	if err != nil {
		p.report(fmt.Errorf("%s: %w", j.name, err))
	}
	if len(fs) > 0 || (err == nil && !j.key.msg) {
		p.mu.Lock()
		if len(fs) > 0 {
			p.results[j.key] = fs
		}
		if err == nil && !j.key.msg && j.key.base.IsZero() {
			if j.windows == nil {
				p.done[j.key] = true
				if len(out.Skipped) == 0 {
					p.whole[j.key] = true
				}
			} else if len(out.Skipped) == 0 {
				p.windows[j.key] = true
			}
		}
		p.mu.Unlock()
	}
}

func (p *pool) submit(j job) { p.jobs <- j }

// isWhole reports whether key's result is a complete scan of all its content.
func (p *pool) isWhole(k resultKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.whole[k]
}

// completed records that window-scanned key's result is now complete.
func (p *pool) completed(k resultKey) {
	p.mu.Lock()
	p.done[k], p.whole[k] = true, true
	p.mu.Unlock()
}

// windowed reports whether window-scanned key's windows scanned without error.
func (p *pool) windowed(k resultKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.windows[k]
}

// clear forgets key's result (before it is scanned again).
func (p *pool) clear(k resultKey) {
	p.mu.Lock()
	delete(p.results, k)
	delete(p.done, k)
	delete(p.whole, k)
	p.mu.Unlock()
}

// fromCache takes key's result from Options.Cache, if it holds one.
func (s *session) fromCache(k resultKey) bool {
	if s.opts.Cache == nil || k.msg {
		return false
	}
	fs, ok := s.opts.Cache.Get(k.hash.String(), k.class)
	if !ok {
		return false
	}
	if len(fs) > 0 {
		s.pool.set(k, fs)
	}
	s.mu.Lock()
	s.stats.Cached++
	s.mu.Unlock()
	return true
}

// offerResults gives Options.Cache every blob result completed since the last call.
func (s *session) offerResults() {
	if s.opts.Cache == nil {
		return
	}
	p := s.pool
	p.mu.Lock()
	type res struct {
		k  resultKey
		fs []finding.Finding
	}
	var rs []res
	for k := range p.done {
		rs = append(rs, res{k, p.results[k]})
	}
	clear(p.done)
	p.mu.Unlock()
	for _, r := range rs {
		s.opts.Cache.Put(r.k.hash.String(), r.k.class, r.fs)
	}
}

// wait waits for all submitted work; the pool cannot be used afterwards except
// through scanNow.
func (p *pool) close() {
	if !p.closed {
		p.closed = true
		close(p.jobs)
		p.wg.Wait()
	}
}

// scanNow scans synchronously (used after the pool is closed, for the few blobs
// that provenance needs under another path class).
func (p *pool) scanNow(j job) []finding.Finding {
	p.run(j)
	p.mu.Lock()
	defer p.mu.Unlock()
	fs, ok := p.results[j.key]
	if !ok {
		p.results[j.key] = nil
	}
	return fs
}

func (p *pool) set(k resultKey, fs []finding.Finding) {
	p.mu.Lock()
	p.results[k] = fs
	p.mu.Unlock()
}

func (p *pool) get(k resultKey) ([]finding.Finding, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fs, ok := p.results[k]
	return fs, ok
}

// Source is a git repository's history, a commit range or the staged index, as
// Options selects.
type Source struct {
	opts Options
	// Stats are the last Scan's counts (for --stats).
	Stats Stats
}

// New returns the git source opts selects.
func New(opts Options) *Source { return &Source{opts: opts} }

var _ source.Source = (*Source)(nil)

// Scan implements source.Source.
func (g *Source) Scan(ctx context.Context, sc source.Scanner) source.Result {
	fs, st, problems := Scan(ctx, sc, g.opts)
	g.Stats = st
	res := source.Result{Findings: fs, Skipped: st.Skipped, Stats: source.Stats{
		Blobs: int64(st.BlobsScanned), Bytes: st.Bytes, Skipped: int64(len(st.Skipped)),
		Refs: st.Refs, Commits: st.Commits, Messages: st.Messages, Cached: st.Cached,
	}}
	for _, p := range problems {
		res.Problems = append(res.Problems, source.Problem{Err: p})
	}
	for _, p := range st.Submodules {
		res.Skipped = append(res.Skipped, source.Skip{Path: p, Reason: "submodule (its content is another repository: scan its checkout)"})
	}
	res.Stats.Skipped = int64(len(res.Skipped))
	return res
}

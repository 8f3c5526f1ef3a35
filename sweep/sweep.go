package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/rules"
	gitsrc "github.com/tokenward/tokenward/source/git"
	"github.com/tokenward/tokenward/sweep/store"
)

// ScanOptions are the settings that change what a scan finds; with the rule set
// and the engine version they make the scan key under which blob results are
// stored and reused.
type ScanOptions struct {
	GitleaksAllow bool
	MaxBlobSize   int64
	FullBlobs     bool
	DeltaContext  int
	// How content is read (archives, binaries): blob results depend on it.
	MaxArchiveDepth int
	SkipBinary      bool
}

// ScanKey identifies the results of scanning with set, opts and engine version
// (tokenward's version): a blob scanned under the same key is not scanned again.
// FullBlobs and DeltaContext are not part of it: a blob's result is the same
// either way.
func ScanKey(set *rules.Set, opts ScanOptions, version string) string {
	h := sha256.New()
	// Version 2: blob results hold the hygiene checks' findings and archive
	// members too, so results stored by version 1 are not reused. Version 3:
	// results of earlier versions could miss findings of blobs stored as packed
	// deltas (issue 14). The fingerprint key is part of the key: cached findings
	// carry fingerprints.
	fmt.Fprintf(h, "tokenward-sweep-3\x00%s\x00%s\x00%v\x00%d\x00%d\x00%v\x00%s", version, set.Hash, opts.GitleaksAllow,
		opts.MaxBlobSize, opts.MaxArchiveDepth, opts.SkipBinary, finding.KeyID())
	// The [hygiene] table changes what the checks find.
	keys := make([]string, 0, len(set.Hygiene))
	for k := range set.Hygiene {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s=%v", k, set.Hygiene[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Config is a sweep's setup.
type Config struct {
	Store *store.Store
	// Pipeline scans each repository (content, review, verification...); one
	// pipeline, and so one verifier, serves the whole sweep.
	Pipeline *pipeline.Pipeline
	ScanKey  string
	Options  ScanOptions
	CacheDir string // mirrors
	AllRefs  bool   // mirror every ref, not only branches and tags
	Workers  int    // engine workers per repository (0: one per CPU)
	Parallel int    // repositories scanned at once (default 2)
	// FetchParallel is how many mirrors are fetched at once, ahead of the
	// scans (default 8).
	FetchParallel int
	// Rescan scans repositories whose refs did not change too (blobs already
	// scanned under the scan key are still skipped).
	Rescan bool
	// RefetchAfter bounds how long a repository whose listing stamp did not
	// change goes without its mirror being checked against the remote
	// (default 24h; negative: always check).
	RefetchAfter time.Duration
	Progress     Progress
	Now          func() time.Time
}

// Repository outcomes.
const (
	StateScanned    = "scanned"
	StateUnchanged  = "unchanged"
	StateIncomplete = "incomplete"
	StateFailed     = "failed"
	StateAbsent     = "absent" // an optional repository (a wiki) that does not exist
)

// RepoReport is what happened to one repository.
type RepoReport struct {
	Target   Target
	State    string
	Detail   string // why it failed or is incomplete
	Stats    gitsrc.Stats
	Findings int
	Fetched  bool
	Elapsed  time.Duration
}

// Summary totals a sweep.
type Summary struct {
	Repos, Scanned, Unchanged, Incomplete, Failed int
	Absent                                        int // optional repositories (wikis) that do not exist
	Blobs, BlobsScanned, BlobsCached              int
	Bytes                                         int64
	Findings                                      int // locations found in the repositories scanned
	Problems                                      []RepoReport
	Elapsed                                       time.Duration
	Interrupted                                   bool
}

func (s *Summary) add(r RepoReport) {
	s.Repos++
	switch r.State {
	case StateScanned:
		s.Scanned++
	case StateUnchanged:
		s.Unchanged++
	case StateIncomplete:
		s.Incomplete++
	case StateFailed:
		s.Failed++
	case StateAbsent:
		s.Absent++
	}
	if r.State == StateIncomplete || r.State == StateFailed {
		s.Problems = append(s.Problems, r)
	}
	s.Blobs += r.Stats.Blobs
	s.BlobsScanned += r.Stats.BlobsScanned
	s.BlobsCached += r.Stats.Cached
	s.Bytes += r.Stats.Bytes
	s.Findings += r.Findings
}

// Run sweeps targets, committing each repository to the store as it completes.
// Two stages overlap: fetching (mirrors brought up to date, unchanged
// repositories settled) with FetchParallel workers, and scanning with Parallel
// workers. Cancelling ctx stops it between (and inside) repositories; what was
// committed stays, and a rerun resumes with the rest.
func Run(ctx context.Context, cfg Config, targets []Target) (Summary, error) {
	if cfg.Store == nil || cfg.Pipeline == nil {
		return Summary{}, errors.New("sweep: a store and a pipeline are required")
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 2
	}
	if cfg.FetchParallel <= 0 {
		cfg.FetchParallel = 8
	}
	if cfg.RefetchAfter == 0 {
		cfg.RefetchAfter = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Progress == nil {
		cfg.Progress = nopProgress{}
	}
	start := time.Now()
	sw := &sweeper{cfg: cfg}
	cfg.Progress.Start(len(targets))

	work := make(chan Target)
	fetched := make(chan *pendingScan)
	var fetchers, scanners sync.WaitGroup
	for range min(cfg.FetchParallel, max(len(targets), 1)) {
		fetchers.Add(1)
		go func() {
			defer fetchers.Done()
			for t := range work {
				p := sw.prepare(ctx, t)
				if p.done {
					sw.report(ctx, p.rep)
					continue
				}
				select {
				case fetched <- p:
				case <-ctx.Done():
				}
			}
		}()
	}
	for range min(cfg.Parallel, max(len(targets), 1)) {
		scanners.Add(1)
		go func() {
			defer scanners.Done()
			for p := range fetched {
				sw.report(ctx, sw.scan(ctx, p))
			}
		}()
	}
feed:
	for _, t := range targets {
		select {
		case work <- t:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	fetchers.Wait()
	close(fetched)
	scanners.Wait()
	if err := sw.flushTouches(); err != nil {
		sw.sum.Problems = append(sw.sum.Problems, RepoReport{State: StateFailed, Detail: "recording unchanged repositories: " + err.Error()})
	}
	sw.sum.Elapsed = time.Since(start)
	sw.sum.Interrupted = ctx.Err() != nil
	cfg.Progress.Finish(sw.sum)
	return sw.sum, nil
}

// sweeper is the state of one Run.
type sweeper struct {
	cfg     Config
	mu      sync.Mutex
	sum     Summary
	touches []store.Touch // unchanged repositories, recorded together at the end
}

// pendingScan is a repository whose mirror is up to date, to scan.
type pendingScan struct {
	rep    RepoReport
	done   bool // rep is final (unchanged or failed)
	dir    string
	digest string
	start  time.Time
}

func (sw *sweeper) report(ctx context.Context, r RepoReport) {
	if ctx.Err() != nil && r.State != StateUnchanged && r.State != StateScanned {
		return // interrupted: not recorded, swept again next time
	}
	sw.mu.Lock()
	sw.sum.add(r)
	sw.mu.Unlock()
	sw.cfg.Progress.Done(r)
}

func (sw *sweeper) flushTouches() error {
	sw.mu.Lock()
	ts := sw.touches
	sw.touches = nil
	sw.mu.Unlock()
	return sw.cfg.Store.TouchAll(context.Background(), ts)
}

func (sw *sweeper) fail(ctx context.Context, p *pendingScan, err error) *pendingScan {
	t := p.rep.Target
	p.done = true
	p.rep.State, p.rep.Detail = StateFailed, err.Error()
	p.rep.Elapsed = time.Since(p.start)
	if ctx.Err() == nil {
		if serr := sw.cfg.Store.RecordError(context.Background(), store.Repo{URL: t.URL, Name: t.Name, Source: t.Source, Detail: p.rep.Detail, CheckedAt: store.Now(sw.cfg.Now())}); serr != nil {
			p.rep.Detail += "; and recording the failure: " + serr.Error()
		}
	}
	return p
}

// prepare brings t's mirror up to date and settles it when its refs did not
// move since a complete scan under the same scan key.
func (sw *sweeper) prepare(ctx context.Context, t Target) *pendingScan {
	cfg := sw.cfg
	p := &pendingScan{rep: RepoReport{Target: t}, start: time.Now(), dir: t.URL}
	prev, known, err := cfg.Store.Repo(t.URL)
	if err != nil {
		return sw.fail(ctx, p, fmt.Errorf("reading the store: %w", err))
	}
	settled := known && !cfg.Rescan && prev.Status == store.StatusOK && prev.ScanKey == cfg.ScanKey
	// The listing says nothing was pushed since the mirror was last checked.
	if settled && !t.Local && !cfg.AllRefs && t.Stamp != "" && t.Stamp == prev.RemoteStamp && cfg.RefetchAfter > 0 {
		if at, err := time.Parse(time.RFC3339Nano, prev.FetchedAt); err == nil && cfg.Now().Sub(at) < cfg.RefetchAfter {
			if _, err := os.Stat(MirrorPath(cfg.CacheDir, t.URL)); err == nil {
				return sw.unchanged(p, prev.Refs, false)
			}
		}
	}
	if !t.Local {
		if cfg.CacheDir == "" {
			return sw.fail(ctx, p, errors.New("no --cache directory for mirrors"))
		}
		var err error
		if p.dir, p.rep.Fetched, err = Mirror(ctx, cfg.CacheDir, t, cfg.AllRefs); err != nil {
			if t.Optional && errors.Is(err, transport.ErrRepositoryNotFound) {
				p.done = true
				p.rep.State, p.rep.Detail = StateAbsent, "the remote has no such repository"
				p.rep.Elapsed = time.Since(p.start)
				return p
			}
			return sw.fail(ctx, p, err)
		}
	}
	digest, nrefs, err := refsDigest(p.dir)
	if err != nil {
		return sw.fail(ctx, p, err)
	}
	p.digest = digest
	if settled && prev.RefsDigest == digest {
		return sw.unchanged(p, nrefs, !t.Local)
	}
	return p
}

// unchanged settles p as unchanged; fetched says the mirror was checked
// against the remote just now.
func (sw *sweeper) unchanged(p *pendingScan, nrefs int, fetched bool) *pendingScan {
	t := p.rep.Target
	p.done = true
	p.rep.State = StateUnchanged
	p.rep.Stats.Refs = nrefs
	p.rep.Elapsed = time.Since(p.start)
	sw.mu.Lock()
	sw.touches = append(sw.touches, store.Touch{URL: t.URL, Name: t.Name, Source: t.Source, At: store.Now(sw.cfg.Now()), Fetched: fetched, Stamp: t.Stamp})
	sw.mu.Unlock()
	return p
}

// scan scans a prepared repository's history, skipping blobs already in the
// store, and commits the result in one transaction.
func (sw *sweeper) scan(ctx context.Context, p *pendingScan) RepoReport {
	cfg := sw.cfg
	t := p.rep.Target
	rep := p.rep
	defer func() { rep.Elapsed = time.Since(p.start) }()
	now := store.Now(cfg.Now())
	cache := cfg.Store.NewBlobCache(cfg.ScanKey)
	src := gitsrc.New(gitsrc.Options{
		Repo:         p.dir,
		Workers:      cfg.Workers,
		MaxBlobSize:  cfg.Options.MaxBlobSize,
		PathClass:    cfg.Pipeline.PathClass(),
		FullBlobs:    cfg.Options.FullBlobs,
		DeltaContext: cfg.Options.DeltaContext,
		Cache:        cache,
	})
	res := cfg.Pipeline.Run(ctx, src, pipeline.RunOptions{Memo: cfg.Store})
	st := src.Stats
	rep.Stats = st
	if ctx.Err() != nil {
		rep.State, rep.Detail = StateFailed, "interrupted"
		return rep
	}
	problems := res.Problems
	if err := cache.Err(); err != nil {
		problems = append(problems, fmt.Sprintf("reading scanned blobs from the store: %v", err))
	}
	fs := res.Findings
	row := store.Repo{
		URL: t.URL, Name: t.Name, Source: t.Source, ScanKey: cfg.ScanKey, Status: store.StatusOK,
		Refs: st.Refs, Commits: st.Commits, Blobs: st.Blobs, BlobsScanned: st.BlobsScanned, BlobsCached: st.Cached,
		BytesScanned: st.Bytes, Findings: len(fs), ScannedAt: now, CheckedAt: now, RefsDigest: p.digest,
	}
	if !t.Local {
		row.RemoteStamp, row.FetchedAt = t.Stamp, now
	}
	if len(problems) > 0 {
		var msgs []string
		for i, pr := range problems {
			if i == 5 {
				msgs = append(msgs, fmt.Sprintf("and %d more", len(problems)-5))
				break
			}
			msgs = append(msgs, pr)
		}
		row.Status, row.Detail, row.RefsDigest, row.RemoteStamp = store.StatusIncomplete, strings.Join(msgs, "; "), "", ""
		rep.State, rep.Detail = StateIncomplete, row.Detail
	} else {
		rep.State = StateScanned
	}
	if err := cfg.Store.Commit(context.Background(), store.Result{Repo: row, Findings: fs, Blobs: cache, Now: now}); err != nil {
		rep.State, rep.Detail = StateFailed, "writing the store: "+err.Error()
		return rep
	}
	rep.Findings = len(fs)
	return rep
}

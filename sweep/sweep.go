package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
	gitsrc "github.com/tokenward/tokenward/scanner/git"
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
}

// ScanKey identifies the results of scanning with set, opts and engine version
// (tokenward's version): a blob scanned under the same key is not scanned again.
func ScanKey(set *rules.Set, opts ScanOptions, version string) string {
	h := sha256.New()
	fmt.Fprintf(h, "tokenward-sweep-1\x00%s\x00%s\x00%v\x00%d\x00%v\x00%d", version, set.Hash, opts.GitleaksAllow, opts.MaxBlobSize, opts.FullBlobs, opts.DeltaContext)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Config is a sweep's setup.
type Config struct {
	Store     *store.Store
	Engine    gitsrc.BlobScanner
	PathClass func(string) string // gitsrc.PathClassFor(set)
	ScanKey   string
	Options   ScanOptions
	CacheDir  string // mirrors
	AllRefs   bool   // mirror every ref, not only branches and tags
	Workers   int    // engine workers per repository (0: one per CPU)
	Parallel  int    // repositories swept at once (default 2)
	// Rescan scans repositories whose refs did not change too (blobs already
	// scanned under the scan key are still skipped).
	Rescan bool
	// Verify, when set, checks findings whose fingerprint has no stored
	// verification (or an unknown one) and returns them with Verification set.
	Verify   func(ctx context.Context, fs []finding.Finding) ([]finding.Finding, error)
	Progress Progress
	Now      func() time.Time
}

// Repository outcomes.
const (
	StateScanned    = "scanned"
	StateUnchanged  = "unchanged"
	StateIncomplete = "incomplete"
	StateFailed     = "failed"
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
// Cancelling ctx stops it between (and inside) repositories; what was committed
// stays, and a rerun resumes with the rest.
func Run(ctx context.Context, cfg Config, targets []Target) (Summary, error) {
	if cfg.Store == nil || cfg.Engine == nil {
		return Summary{}, errors.New("sweep: a store and an engine are required")
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 2
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Progress == nil {
		cfg.Progress = nopProgress{}
	}
	start := time.Now()
	var sum Summary
	var mu sync.Mutex
	cfg.Progress.Start(len(targets))
	work := make(chan Target)
	var wg sync.WaitGroup
	for range min(cfg.Parallel, max(len(targets), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				r := sweepOne(ctx, cfg, t)
				if ctx.Err() != nil && r.State != StateUnchanged && r.State != StateScanned {
					continue // interrupted: not recorded, swept again next time
				}
				mu.Lock()
				sum.add(r)
				mu.Unlock()
				cfg.Progress.Done(r)
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
	wg.Wait()
	sum.Elapsed = time.Since(start)
	sum.Interrupted = ctx.Err() != nil
	cfg.Progress.Finish(sum)
	return sum, nil
}

func sweepOne(ctx context.Context, cfg Config, t Target) (rep RepoReport) {
	start := time.Now()
	rep.Target = t
	defer func() { rep.Elapsed = time.Since(start) }()
	now := store.Now(cfg.Now())
	fail := func(err error) RepoReport {
		rep.State, rep.Detail = StateFailed, err.Error()
		if ctx.Err() == nil {
			if serr := cfg.Store.RecordError(context.Background(), store.Repo{URL: t.URL, Name: t.Name, Source: t.Source, Detail: rep.Detail, CheckedAt: now}); serr != nil {
				rep.Detail += "; and recording the failure: " + serr.Error()
			}
		}
		return rep
	}
	dir := t.URL
	if !t.Local {
		if cfg.CacheDir == "" {
			return fail(errors.New("no --cache directory for mirrors"))
		}
		var err error
		if dir, rep.Fetched, err = Mirror(ctx, cfg.CacheDir, t, cfg.AllRefs); err != nil {
			return fail(err)
		}
	}
	digest, nrefs, err := refsDigest(dir)
	if err != nil {
		return fail(err)
	}
	prev, ok, err := cfg.Store.Repo(t.URL)
	if err != nil {
		return fail(fmt.Errorf("reading the store: %w", err))
	}
	if ok && !cfg.Rescan && prev.Status == store.StatusOK && prev.RefsDigest == digest && prev.ScanKey == cfg.ScanKey {
		rep.State = StateUnchanged
		rep.Stats.Refs = nrefs
		if err := cfg.Store.Touch(ctx, t.URL, t.Name, t.Source, now); err != nil && ctx.Err() == nil {
			return fail(fmt.Errorf("writing the store: %w", err))
		}
		return rep
	}
	cache := cfg.Store.NewBlobCache(cfg.ScanKey)
	fs, st, problems := gitsrc.Scan(ctx, cfg.Engine, gitsrc.Options{
		Repo:         dir,
		Workers:      cfg.Workers,
		MaxBlobSize:  cfg.Options.MaxBlobSize,
		PathClass:    cfg.PathClass,
		FullBlobs:    cfg.Options.FullBlobs,
		DeltaContext: cfg.Options.DeltaContext,
		Cache:        cache,
	})
	rep.Stats = st
	if ctx.Err() != nil {
		rep.State, rep.Detail = StateFailed, "interrupted"
		return rep
	}
	if err := cache.Err(); err != nil {
		problems = append(problems, fmt.Errorf("reading scanned blobs from the store: %w", err))
	}
	if cfg.Verify != nil && len(fs) > 0 {
		if fs, err = verifyNew(ctx, cfg, fs); err != nil {
			problems = append(problems, err)
		}
	}
	row := store.Repo{
		URL: t.URL, Name: t.Name, Source: t.Source, ScanKey: cfg.ScanKey, Status: store.StatusOK,
		Refs: st.Refs, Commits: st.Commits, Blobs: st.Blobs, BlobsScanned: st.BlobsScanned, BlobsCached: st.Cached,
		BytesScanned: st.Bytes, Findings: len(fs), ScannedAt: now, CheckedAt: now, RefsDigest: digest,
	}
	if len(problems) > 0 {
		var msgs []string
		for i, p := range problems {
			if i == 5 {
				msgs = append(msgs, fmt.Sprintf("and %d more", len(problems)-5))
				break
			}
			msgs = append(msgs, p.Error())
		}
		row.Status, row.Detail, row.RefsDigest = store.StatusIncomplete, strings.Join(msgs, "; "), ""
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

// verifyNew verifies the findings whose fingerprints have no stored result (or
// an unknown one), one request per fingerprint, and returns fs with every
// finding's Verification set from the new or stored result.
func verifyNew(ctx context.Context, cfg Config, fs []finding.Finding) ([]finding.Finding, error) {
	var fps []string
	seen := map[string]bool{}
	for _, f := range fs {
		if !seen[f.Fingerprint] {
			seen[f.Fingerprint] = true
			fps = append(fps, f.Fingerprint)
		}
	}
	stored, err := cfg.Store.Verification(fps)
	if err != nil {
		return fs, fmt.Errorf("reading verifications: %w", err)
	}
	var todo []finding.Finding
	picked := map[string]bool{}
	for _, f := range fs {
		v, ok := stored[f.Fingerprint]
		if (ok && v.Status != finding.StatusUnknown) || picked[f.Fingerprint] {
			continue
		}
		picked[f.Fingerprint] = true
		todo = append(todo, f)
	}
	results := map[string]finding.Verification{}
	for fp, v := range stored {
		results[fp] = v
	}
	var verr error
	if len(todo) > 0 {
		done, err := cfg.Verify(ctx, todo)
		if err != nil {
			verr = fmt.Errorf("verification: %w", err)
		}
		for _, f := range done {
			if f.Verification != nil {
				results[f.Fingerprint] = *f.Verification
			}
		}
	}
	out := make([]finding.Finding, len(fs))
	for i, f := range fs {
		if v, ok := results[f.Fingerprint]; ok {
			v := v
			f.Verification = &v
		}
		out[i] = f
	}
	return out, verr
}

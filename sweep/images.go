package sweep

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tokenward/tokenward/pipeline"
	gitsrc "github.com/tokenward/tokenward/source/git"
	"github.com/tokenward/tokenward/source/image"
	"github.com/tokenward/tokenward/sweep/store"
)

// ImageURLPrefix marks an image's row in the store's repositories table: its
// URL is "image:" and the reference (or path) as given, its name the reference.
const ImageURLPrefix = "image:"

// Image sweeps one container image into the store: its layers are read only
// when the store holds no result for their diff ID under the scan key (a base
// layer shared by a hundred images is scanned once), and the image's findings
// are committed in one transaction. Images are always resolved again (a tag
// may move); what costs is the layers, and those are cached. Stats: Blobs are
// layers, BlobsScanned those read, Cached those from the store.
func Image(ctx context.Context, cfg Config, opts image.Options) (rep RepoReport) {
	start := time.Now()
	t := Target{URL: ImageURLPrefix + opts.Input, Name: opts.Input, Source: "image"}
	rep.Target = t
	defer func() { rep.Elapsed = time.Since(start) }()
	cache := cfg.Store.NewLayerCache(cfg.ScanKey)
	opts.Cache = cache
	src := image.New(opts)
	res := cfg.Pipeline.Run(ctx, src, pipeline.RunOptions{Memo: cfg.Store})
	st := src.Stats
	rep.Stats = gitsrc.Stats{Blobs: st.Layers, BlobsScanned: st.LayersScanned, Cached: st.LayersCached, Bytes: st.Bytes}
	if ctx.Err() != nil {
		rep.State, rep.Detail = StateFailed, "interrupted"
		return rep
	}
	now := store.Now(cfgNow(cfg))
	problems := res.Problems
	if err := cache.Err(); err != nil {
		problems = append(problems, fmt.Sprintf("the store's layer results: %v", err))
	}
	row := store.Repo{URL: t.URL, Name: t.Name, Source: t.Source, ScanKey: cfg.ScanKey, Status: store.StatusOK,
		Refs: st.Images, Blobs: st.Layers, BlobsScanned: st.LayersScanned, BlobsCached: st.LayersCached,
		BytesScanned: st.Bytes, Findings: len(res.Findings), ScannedAt: now, CheckedAt: now}
	rep.State = StateScanned
	if len(problems) > 0 {
		if len(problems) > 5 {
			problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
		}
		row.Status, row.Detail = store.StatusIncomplete, strings.Join(problems, "; ")
		rep.State, rep.Detail = StateIncomplete, row.Detail
	}
	if err := cfg.Store.Commit(context.Background(), store.Result{Repo: row, Findings: res.Findings, Now: now}); err != nil {
		rep.State, rep.Detail = StateFailed, "writing the store: "+err.Error()
		return rep
	}
	rep.Findings = len(res.Findings)
	return rep
}

func cfgNow(cfg Config) time.Time {
	if cfg.Now != nil {
		return cfg.Now()
	}
	return time.Now()
}

// Add counts one repository's or image's outcome into the summary.
func (s *Summary) Add(r RepoReport) { s.add(r) }

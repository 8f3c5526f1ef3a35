// Package forge is the source of what GitHub and GitLab hold outside
// repositories: issue and merge-request bodies, comments, release notes, CI job
// logs. Each item is one blob, located by its web URL: a finding's File is the
// item's URL (followed by the archive member chain for a zip of logs) and its
// Line the line within the item's text.
package forge

import (
	"context"
	"io"
	"sync"

	"github.com/sourcegraph/conc/panics"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// Item is one piece of content.
type Item struct {
	// URL is where the item is seen on the web (an issue comment's html_url, a
	// workflow run's page): findings are located by it.
	URL string
	// ID identifies the item to the caller (for incremental sweeps); "" is URL.
	ID string
	// Data is the content, or nil when Open is set (a log archive on disk).
	Data []byte
	Open func() (io.ReadCloser, error)
	// Author and Date (RFC 3339) are copied to the item's findings.
	Author, Date string
}

func (it Item) id() string {
	if it.ID != "" {
		return it.ID
	}
	return it.URL
}

// Source scans items.
type Source struct {
	Items   []Item
	Workers int // items scanned at once (default 4)

	mu     sync.Mutex
	failed map[string]bool
}

// New returns a source of items.
func New(items []Item, workers int) *Source { return &Source{Items: items, Workers: workers} }

// Failed reports whether the item with id could not be scanned completely
// (after Scan).
func (s *Source) Failed(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed[id]
}

// Scan implements source.Source.
func (s *Source) Scan(ctx context.Context, sc source.Scanner) source.Result {
	var res source.Result
	var mu sync.Mutex
	s.failed = map[string]bool{}
	work := make(chan Item)
	var wg sync.WaitGroup
	n := s.Workers
	if n <= 0 {
		n = 4
	}
	for range min(n, max(len(s.Items), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				var out source.Outcome
				if r := panics.Try(func() {
					out = sc.ScanBlob(source.Blob{ID: it.id(), Path: it.URL, Data: it.Data, Open: it.Open})
				}); r != nil {
					out.Err = r.AsError()
				}
				for i := range out.Findings {
					f := &out.Findings[i]
					f.File = it.URL + f.File
					if f.Author == "" {
						f.Author = it.Author
					}
					if f.Date == "" {
						f.Date = it.Date
					}
				}
				mu.Lock()
				res.Findings = append(res.Findings, out.Findings...)
				res.Skipped = append(res.Skipped, out.Skipped...)
				res.Stats.Blobs++
				res.Stats.Bytes += out.Bytes
				res.Stats.Skipped += int64(len(out.Skipped))
				if out.Err != nil {
					res.Problems = append(res.Problems, source.Problem{Path: it.URL, Err: out.Err})
					s.mu.Lock()
					s.failed[it.id()] = true
					s.mu.Unlock()
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, it := range s.Items {
		select {
		case work <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		res.Problems = append(res.Problems, source.Problem{Err: err})
	}
	finding.Sort(res.Findings)
	return res
}

package sweep

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/source"
	"github.com/tokenward/tokenward/source/forge"
	"github.com/tokenward/tokenward/sweep/store"
)

// Include is what a sweep reads of a GitHub or GitLab repository: its code,
// and what the forge holds beside it.
type Include struct {
	Code          bool // the repository's history (mirrored)
	Wiki          bool // the wiki repository, NAME.wiki.git (mirrored)
	Issues        bool // issue bodies (GitLab: and their notes)
	Pulls         bool // GitHub pull request bodies
	Comments      bool // GitHub issue and pull request comments, review comments
	MergeRequests bool // GitLab merge request descriptions and notes
	Gists         bool // GitHub gists of the user, or of the organisation's members (mirrored: every revision)
	Snippets      bool // GitLab project snippets (mirrored: every revision)
	Releases      bool // GitHub release names, notes and asset names
	ActionsLogs   bool // GitHub Actions logs of completed workflow runs
	CILogs        bool // GitLab CI job logs (traces) of finished jobs
}

// IncludeNames lists what --include accepts for a forge ("github", "gitlab").
func IncludeNames(forgeName string) []string {
	if forgeName == "gitlab" {
		return []string{"code", "issues", "merge-requests", "snippets", "wiki", "ci-logs"}
	}
	return []string{"code", "issues", "pulls", "comments", "gists", "wiki", "releases", "actions-logs"}
}

// ParseInclude reads a comma-separated --include list for a forge; "" is code.
func ParseInclude(forgeName, list string) (Include, error) {
	var in Include
	if strings.TrimSpace(list) == "" {
		list = "code"
	}
	valid := map[string]bool{}
	for _, n := range IncludeNames(forgeName) {
		valid[n] = true
	}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(strings.ToLower(n))
		if n == "" {
			continue
		}
		if !valid[n] {
			return in, fmt.Errorf("--include %q: %s does not have %q (want %s)", list, forgeName, n, strings.Join(IncludeNames(forgeName), ","))
		}
		switch n {
		case "code":
			in.Code = true
		case "wiki":
			in.Wiki = true
		case "issues":
			in.Issues = true
		case "pulls":
			in.Pulls = true
		case "comments":
			in.Comments = true
		case "merge-requests":
			in.MergeRequests = true
		case "gists":
			in.Gists = true
		case "snippets":
			in.Snippets = true
		case "releases":
			in.Releases = true
		case "actions-logs":
			in.ActionsLogs = true
		case "ci-logs":
			in.CILogs = true
		}
	}
	return in, nil
}

// Listing is what a forge listing gives: git repositories to mirror (code,
// wikis, gists, snippets) and collections of items read through the API.
type Listing struct {
	Targets     []Target
	Collections []Collection
	Skipped     []Skip
}

// Collection is a set of forge items of one repository and kind (its issues,
// its comments, its workflow runs' logs), read incrementally: its store row
// (repositories, url = Key) keeps the watermarks of the listings that filter
// by update time, and forge_items the stamp of every item scanned.
type Collection struct {
	Key    string // store key: the web URL of the list, e.g. https://github.com/acme/api/issues
	Name   string // the repository, e.g. acme/api
	Kind   string // issues, pulls, comments, releases, actions-logs, merge-requests, ci-logs
	Source string // github:ORG, gitlab:GROUP, ...
	fetch  func(ctx context.Context, fe *fetchEnv) error
}

// fetchEnv is one fetch of a collection: what the store knows (watermarks,
// stamps of scanned items) and what the fetch found.
type fetchEnv struct {
	since   url.Values        // watermarks by listing ("" when full)
	seen    map[string]string // item URL -> stamp when last scanned
	tempDir string            // for downloaded logs
	maxSize int64             // largest download kept (0: no limit)

	items   []forge.Item
	stamps  map[string]string // item URL -> stamp of what was fetched
	next    url.Values        // new watermarks
	skipped []source.Skip
}

// changed reports whether an item with this stamp must be scanned.
func (fe *fetchEnv) changed(id, stamp string) bool {
	old, ok := fe.seen[id]
	return !ok || old != stamp
}

// add queues an item to scan with its stamp. An item whose URL is not a web
// URL (a hostile or broken response) is named as not scanned instead: its
// URL would be every finding's location.
func (fe *fetchEnv) add(it forge.Item, stamp string) {
	if !isWebURL(it.URL) {
		fe.skipped = append(fe.skipped, source.Skip{Path: fmt.Sprintf("%q", it.URL), Reason: "the API gave no web URL for it"})
		return
	}
	fe.items = append(fe.items, it)
	fe.stamps[it.URL] = stamp
}

// isWebURL accepts an absolute http(s) URL with a host and no control
// characters (which could rewrite a terminal report).
func isWebURL(s string) bool {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// sinceTime is the watermark of a listing (zero when there is none).
func (fe *fetchEnv) sinceTime(listing string) time.Time {
	t, _ := time.Parse(time.RFC3339, fe.since.Get(listing))
	return t
}

// advance raises a listing's new watermark to t.
func (fe *fetchEnv) advance(listing string, t time.Time) {
	if t.IsZero() {
		return
	}
	cur, _ := time.Parse(time.RFC3339, fe.next.Get(listing))
	if t.After(cur) {
		fe.next.Set(listing, t.UTC().Format(time.RFC3339))
	}
}

// Collection outcomes (see also the repository states).
const (
	StateItemsScanned = "scanned"
	StateItemsFailed  = "failed"
)

// ItemsReport is what happened to one collection.
type ItemsReport struct {
	Collection Collection
	State      string
	Detail     string
	Changed    int // items new or changed since the last sweep, scanned
	Findings   int
	Skipped    []source.Skip // items or members not scanned, and why
}

// ItemsSummary totals the collections of a sweep.
type ItemsSummary struct {
	Collections, Failed int
	Items               int // items scanned
	Findings            int
	Problems            []ItemsReport
	Elapsed             time.Duration
}

// Line is a one-line account of the summary.
func (s ItemsSummary) Line() string {
	line := fmt.Sprintf("%s of forge items, %d new or changed %s scanned, %s", plural(s.Collections, "collection", "collections"),
		s.Items, map[bool]string{true: "item", false: "items"}[s.Items == 1], plural(s.Findings, "finding", "findings"))
	if s.Failed > 0 {
		line += fmt.Sprintf(", %d failed", s.Failed)
	}
	return line + " in " + s.Elapsed.Round(time.Millisecond).String()
}

// RunItems sweeps collections one after another (their requests share one
// rate limit): each is fetched from its watermarks, its new and changed items
// scanned by the pipeline, and committed to the store with their stamps in one
// transaction. Findings of items that did not change stay in the store and are
// reported with the collection. A collection that cannot be listed is recorded
// as failed; its next sweep starts from the same watermarks.
func RunItems(ctx context.Context, cfg Config, cols []Collection, log func(string)) ItemsSummary {
	start := time.Now()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = func(string) {}
	}
	var sum ItemsSummary
	for _, c := range cols {
		if ctx.Err() != nil {
			break
		}
		r := runCollection(ctx, cfg, c)
		sum.Collections++
		sum.Items += r.Changed
		sum.Findings += r.Findings
		if r.State != StateItemsScanned {
			sum.Failed++
			sum.Problems = append(sum.Problems, r)
		}
		msg := fmt.Sprintf("%s %s: %s, %s", c.Name, c.Kind, plural(r.Changed, "item", "items")+" new or changed", plural(r.Findings, "finding", "findings"))
		if len(r.Skipped) > 0 {
			var what []string
			for _, sk := range r.Skipped[:min(len(r.Skipped), 3)] {
				what = append(what, sk.Path+" ("+sk.Reason+")")
			}
			msg += fmt.Sprintf(", %d not scanned: %s", len(r.Skipped), strings.Join(what, ", "))
		}
		if r.Detail != "" {
			msg += ": " + r.Detail
		}
		log(msg)
	}
	sum.Elapsed = time.Since(start)
	return sum
}

func runCollection(ctx context.Context, cfg Config, c Collection) ItemsReport {
	rep := ItemsReport{Collection: c}
	fail := func(err error) ItemsReport {
		rep.State, rep.Detail = StateItemsFailed, err.Error()
		if ctx.Err() == nil {
			if serr := cfg.Store.RecordError(context.Background(), store.Repo{URL: c.Key, Name: c.Name, Source: c.Source, Detail: rep.Detail, CheckedAt: store.Now(cfg.Now())}); serr != nil {
				rep.Detail += "; and recording the failure: " + serr.Error()
			}
		}
		return rep
	}
	prev, known, err := cfg.Store.Repo(c.Key)
	if err != nil {
		return fail(fmt.Errorf("reading the store: %w", err))
	}
	fe := &fetchEnv{since: url.Values{}, seen: map[string]string{}, stamps: map[string]string{}, next: url.Values{}, maxSize: cfg.Options.MaxBlobSize}
	// Incremental only from a sweep under the same rules. The watermarks
	// (RemoteStamp) do not advance past an incomplete sweep and are cleared by a
	// failed one; stamps are kept only for items scanned completely.
	if known && !cfg.Rescan && prev.ScanKey == cfg.ScanKey {
		if v, err := url.ParseQuery(prev.RemoteStamp); err == nil {
			fe.since = v
		}
		if fe.seen, err = cfg.Store.ItemStamps(c.Key); err != nil {
			return fail(fmt.Errorf("reading the store: %w", err))
		}
	}
	for k, v := range fe.since {
		fe.next[k] = v
	}
	dir, err := os.MkdirTemp(cfg.CacheDir, "forge-items-")
	if err != nil {
		dir, err = os.MkdirTemp("", "tokenward-forge-")
		if err != nil {
			return fail(err)
		}
	}
	defer os.RemoveAll(dir)
	fe.tempDir = dir
	var partial error
	if err := c.fetch(ctx, fe); err != nil {
		if !errors.Is(err, errTooManyPages) || ctx.Err() != nil {
			return fail(err)
		}
		partial = err // what was listed is scanned; the collection is incomplete
	}
	src := forge.New(fe.items, cfg.Workers)
	res := cfg.Pipeline.Run(ctx, src, pipeline.RunOptions{Memo: cfg.Store})
	if ctx.Err() != nil {
		rep.State, rep.Detail = StateItemsFailed, "interrupted"
		return rep
	}
	if partial != nil {
		res.Problems = append([]string{partial.Error()}, res.Problems...)
	}
	now := store.Now(cfg.Now())
	var stamps []store.ItemStamp
	for id, st := range fe.stamps {
		if !src.Failed(id) {
			stamps = append(stamps, store.ItemStamp{Item: id, Stamp: st})
		}
	}
	sort.Slice(stamps, func(i, j int) bool { return stamps[i].Item < stamps[j].Item })
	problems := res.Problems
	rep.Skipped = append(fe.skipped, res.Skipped...)
	row := store.Repo{URL: c.Key, Name: c.Name, Source: c.Source, ScanKey: cfg.ScanKey, Status: store.StatusOK,
		Blobs: len(fe.items), BlobsScanned: int(res.Stats.Blobs), BytesScanned: res.Stats.Bytes, Findings: len(res.Findings),
		ScannedAt: now, CheckedAt: now, RemoteStamp: fe.next.Encode(), FetchedAt: now}
	if len(problems) > 0 {
		// The watermarks do not advance: the next sweep lists from the same
		// point, and items scanned completely are not scanned again.
		row.Status, row.Detail, row.RemoteStamp = store.StatusIncomplete, strings.Join(problems[:min(len(problems), 5)], "; "), prev.RemoteStamp
		rep.Detail = row.Detail
	}
	if err := cfg.Store.Commit(context.Background(), store.Result{Repo: row, Findings: res.Findings, Now: now, Items: stamps}); err != nil {
		return fail(fmt.Errorf("writing the store: %w", err))
	}
	rep.State, rep.Changed, rep.Findings = StateItemsScanned, len(fe.items), len(res.Findings)
	if len(problems) > 0 {
		rep.State = StateIncomplete
	}
	return rep
}

// errTooManyPages stops a listing that goes on longer than MaxPages.
var errTooManyPages = errors.New("more pages than --max-pages allows")

package sweep

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/sweep/store"
	"github.com/tokenward/tokenward/sweep/sweeptest"
)

// orgRepos creates n bare repositories r0..r(n-1) under root, each with two
// commits and a secret; the last one shares r0's secret file (a copy, as forks
// and vendored code have).
func orgRepos(t *testing.T, root string, n int) []string {
	t.Helper()
	var bares []string
	for i := range n {
		name := fmt.Sprintf("r%d", i)
		secretFile := secretLine(name)
		if i == n-1 {
			secretFile = secretLine("r0")
		}
		bares = append(bares, makeRepo(t, root, name,
			map[string]string{"README.md": "# " + name + "\n", "config/app.sh": secretFile, "docs/notes.txt": sweeptest.Noise(name, 400)},
			map[string]string{"main.go": "package main\n\n// " + name + "\nfunc main() {}\n"},
		))
	}
	return bares
}

func repoFindings(t *testing.T, st *store.Store) map[string][]string {
	t.Helper()
	ls, err := st.Findings(store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, l := range ls {
		out[l.RepoName] = append(out[l.RepoName], l.File+":"+fmt.Sprint(l.Line)+":"+l.Fingerprint[7:15])
	}
	return out
}

func TestSweepOverSmartHTTP(t *testing.T) {
	gitAvailable(t)
	root := t.TempDir()
	bares := orgRepos(t, root, 6)
	srv := newGitServer(t, root)
	var ts []Target
	for i := range bares {
		ts = append(ts, Target{URL: fmt.Sprintf("%s/r%d.git", srv.URL, i), Name: fmt.Sprintf("acme/r%d", i), Source: "test"})
	}
	ts = append(ts, Target{URL: srv.URL + "/missing.git", Name: "acme/missing", Source: "test"})
	cfg := testConfig(t, filepath.Join(t.TempDir(), "sweep.db"), t.TempDir())
	cfg.Parallel, cfg.FetchParallel = 1, 1 // r0 is stored before r5, which shares its secret

	// First sweep: everything is cloned and scanned; the missing repository
	// fails without stopping the others.
	sum := run(t, cfg, ts)
	if sum.Scanned != 6 || sum.Failed != 1 || len(sum.Problems) != 1 || sum.Problems[0].Target.Name != "acme/missing" {
		t.Fatalf("first sweep: %+v", sum)
	}
	if row, ok, _ := cfg.Store.Repo(srv.URL + "/missing.git"); !ok || row.Status != store.StatusError || row.Detail == "" {
		t.Errorf("the failed repository's row: %+v", row)
	}
	first := repoFindings(t, cfg.Store)
	if len(first) != 6 {
		t.Fatalf("findings in %d repositories, want 6: %v", len(first), first)
	}
	for name, fs := range first {
		if len(fs) != 1 || !strings.HasPrefix(fs[0], "config/app.sh:1:") {
			t.Errorf("%s: %v, want the secret in config/app.sh", name, fs)
		}
	}
	if first["acme/r0"][0] != first["acme/r5"][0] {
		t.Errorf("r5 holds r0's secret: %v vs %v", first["acme/r0"], first["acme/r5"])
	}
	c, _ := cfg.Store.Counts()
	if c.Fingerprints != 5 || c.Locations != 6 {
		t.Errorf("%d fingerprints at %d locations, want 5 at 6 (deduplicated across repositories)", c.Fingerprints, c.Locations)
	}
	r5, _, _ := cfg.Store.Repo(ts[5].URL)
	if r5.BlobsCached == 0 || r5.BlobsScanned != r5.Blobs-r5.BlobsCached {
		t.Errorf("r5 shares blobs with r0 but scanned %d and took %d of %d from the store", r5.BlobsScanned, r5.BlobsCached, r5.Blobs)
	}
	initialPack := srv.PackBytes("/r2.git")
	before := canonical(t, cfg.Store)

	// An unchanged re-sweep scans no blob and fetches no pack.
	packs := srv.PackRequests.Load()
	sum = run(t, cfg, ts[:6])
	if sum.Unchanged != 6 || sum.BlobsScanned != 0 || sum.Bytes != 0 {
		t.Errorf("unchanged re-sweep: %+v", sum)
	}
	if n := srv.PackRequests.Load() - packs; n != 0 {
		t.Errorf("unchanged re-sweep fetched %d packs", n)
	}
	if after := canonical(t, cfg.Store); after != before {
		t.Errorf("an unchanged re-sweep changed the store:\n%s\nwas\n%s", after, before)
	}

	// A new commit in r2: only its new blob is scanned, only new objects are
	// fetched, and the old findings stay.
	addCommit(t, bares[2], map[string]string{"deploy/token.txt": secretLine("new-in-r2")})
	srv.ResetPackBytes("/r2.git")
	sum = run(t, cfg, ts[:6])
	if sum.Scanned != 1 || sum.Unchanged != 5 || sum.BlobsScanned != 1 {
		t.Errorf("after one new commit: %+v, want 1 repository and 1 blob scanned", sum)
	}
	if inc := srv.PackBytes("/r2.git"); inc == 0 || inc*4 >= initialPack {
		t.Errorf("incremental fetch sent %d bytes, the first clone %d: want only the new objects", inc, initialPack)
	}
	got := repoFindings(t, cfg.Store)
	if len(got["acme/r2"]) != 2 || got["acme/r2"][0] != first["acme/r2"][0] {
		t.Errorf("r2 findings after the new commit: %v", got["acme/r2"])
	}
	ls, _ := cfg.Store.Findings(store.Query{Repos: []string{"acme/r2"}})
	for _, l := range ls {
		if l.File == "deploy/token.txt" && (l.Commit == "" || l.Author != "Dev" || l.Date == "") {
			t.Errorf("new finding without provenance: %+v", l.Finding)
		}
	}

	// --rescan: every repository is scanned again, every blob from the store.
	before = canonical(t, cfg.Store)
	cfg.Rescan = true
	sum = run(t, cfg, ts[:6])
	if sum.Scanned != 6 || sum.BlobsScanned != 0 || sum.BlobsCached == 0 {
		t.Errorf("rescan: %+v, want 6 scanned from the store alone", sum)
	}
	if after := canonical(t, cfg.Store); after != before {
		t.Errorf("a rescan from the store changed it:\n%s\nwas\n%s", after, before)
	}
}

func TestShardsMergedEqualUnsharded(t *testing.T) {
	gitAvailable(t)
	root := t.TempDir()
	bares := orgRepos(t, root, 9)
	var ts []Target
	for i, b := range bares {
		ts = append(ts, Target{URL: "file://" + b, Name: fmt.Sprintf("acme/r%d", i), Source: "test"})
	}
	dir := t.TempDir()
	all := testConfig(t, filepath.Join(dir, "all.db"), filepath.Join(dir, "cache-all"))
	if sum := run(t, all, ts); sum.Scanned != 9 {
		t.Fatalf("unsharded: %+v", sum)
	}
	want := canonical(t, all.Store)

	merged, err := store.Open(filepath.Join(dir, "merged.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer merged.Close()
	total := 0
	for i := range 3 {
		db := filepath.Join(dir, fmt.Sprintf("shard-%d.db", i))
		cfg := testConfig(t, db, filepath.Join(dir, fmt.Sprintf("cache-%d", i)))
		part := Shard(ts, i, 3)
		total += len(part)
		if sum := run(t, cfg, part); sum.Scanned != len(part) {
			t.Fatalf("shard %d: %+v", i, sum)
		}
		cfg.Store.Close()
		if err := merged.Merge(context.Background(), db); err != nil {
			t.Fatal(err)
		}
	}
	if total != 9 {
		t.Fatalf("shards hold %d of 9 repositories", total)
	}
	if got := canonical(t, merged); got != want {
		t.Errorf("merged shards differ from the unsharded sweep:\n%s\nwant\n%s", got, want)
	}
}

func TestSweepVerifiesEachFingerprintOnce(t *testing.T) {
	gitAvailable(t)
	root := t.TempDir()
	bares := orgRepos(t, root, 3) // r2 shares r0's secret
	var ts []Target
	for i, b := range bares {
		ts = append(ts, Target{URL: b, Name: fmt.Sprintf("r%d", i), Local: true})
	}
	cfg := testConfig(t, filepath.Join(t.TempDir(), "v.db"), "")
	cfg.Parallel, cfg.FetchParallel = 1, 1
	fv := &fakeVerifier{}
	set, eng := testEngine(t)
	cfg.Pipeline = testPipeline(t, set, eng, fv)
	calls := &fv.calls
	run(t, cfg, ts)
	if n := calls.Load(); n != 2 {
		t.Errorf("verified %d times, want 2 (two distinct secrets)", n)
	}
	ls, err := cfg.Store.Findings(store.Query{OnlyLive: true})
	if err != nil || len(ls) != 3 {
		t.Fatalf("live findings: %d (%v), want 3 locations", len(ls), err)
	}
	cfg.Rescan = true
	run(t, cfg, ts)
	if n := calls.Load(); n != 2 {
		t.Errorf("a rescan verified again: %d calls", n)
	}
}

func TestKilledMirrorCloneIsRedone(t *testing.T) {
	gitAvailable(t)
	root := t.TempDir()
	bares := orgRepos(t, root, 1)
	cache := t.TempDir()
	tg := Target{URL: "file://" + bares[0], Name: "r0"}
	// What an interrupted clone leaves: a temporary directory; and a mirror
	// directory that is not a repository.
	dir := MirrorPath(cache, tg.URL)
	os.MkdirAll(dir+".tmp-123", 0o755)
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "junk"), []byte("x"), 0o644)
	got, fetched, err := Mirror(context.Background(), cache, tg, false)
	if err != nil || got != dir || !fetched {
		t.Fatalf("Mirror: %s, %v, %v", got, fetched, err)
	}
	if _, err := os.Stat(dir + ".tmp-123"); err == nil {
		t.Error("stale temporary clone left behind")
	}
	if _, n, err := refsDigest(dir); err != nil || n != 1 {
		t.Errorf("mirror refs: %d, %v", n, err)
	}
	// Up to date: nothing fetched.
	if _, fetched, err := Mirror(context.Background(), cache, tg, false); err != nil || fetched {
		t.Errorf("second Mirror: fetched %v, %v", fetched, err)
	}
	// Another URL mapping to the same directory is refused.
	other := Target{URL: "file://" + bares[0] + "/", Name: "x"}
	if MirrorPath(cache, other.URL) == dir {
		if _, _, err := Mirror(context.Background(), cache, other, false); err == nil {
			t.Error("a mirror of another URL was reused")
		}
	}
}

// Listing stamps (GitHub pushed_at): while a repository's stamp is the one stored
// when its mirror was last fetched, and that fetch is recent, it is unchanged
// without any git request; a new stamp, or an old fetch, makes it fetched.
func TestSweepTrustsListingStamps(t *testing.T) {
	gitAvailable(t)
	root := t.TempDir()
	bares := orgRepos(t, root, 3)
	srv := newGitServer(t, root)
	targets := func(stamp string) []Target {
		var ts []Target
		for i := range bares {
			ts = append(ts, Target{URL: fmt.Sprintf("%s/r%d.git", srv.URL, i), Name: fmt.Sprintf("acme/r%d", i), Stamp: stamp})
		}
		return ts
	}
	cfg := testConfig(t, filepath.Join(t.TempDir(), "s.db"), t.TempDir())
	now := time.Now()
	cfg.Now = func() time.Time { return now }
	if sum := run(t, cfg, targets("pushed_at=1")); sum.Scanned != 3 {
		t.Fatalf("first sweep: %+v", sum)
	}
	addCommit(t, bares[1], map[string]string{"new.txt": secretLine("stamp-test")})
	tests := []struct {
		name          string
		stamp         string
		later         time.Duration
		wantRequests  bool
		wantScanned   int
		wantUnchanged int
	}{
		{"same stamp: no git request", "pushed_at=1", time.Hour, false, 0, 3},
		{"same stamp, last fetch too old: fetched", "pushed_at=1", 25 * time.Hour, true, 1, 2},
		{"same stamp again, fetched just now", "pushed_at=1", 25 * time.Hour, false, 0, 3},
		{"new stamp: fetched", "pushed_at=2", 26 * time.Hour, true, 0, 3},
	}
	for _, tt := range tests {
		before := srv.Requests.Load()
		now = now.Add(tt.later)
		sum := run(t, cfg, targets(tt.stamp))
		if got := srv.Requests.Load() > before; got != tt.wantRequests {
			t.Errorf("%s: git requests made: %v", tt.name, got)
		}
		if sum.Scanned != tt.wantScanned || sum.Unchanged != tt.wantUnchanged {
			t.Errorf("%s: %+v", tt.name, sum)
		}
		now = now.Add(-tt.later + time.Minute)
	}
}

// fakeVerifier finds every secret live and counts the checks.
type fakeVerifier struct{ calls atomic.Int64 }

func (v *fakeVerifier) Verify(ctx context.Context, fs []finding.Finding) []finding.Finding {
	out := make([]finding.Finding, len(fs))
	for i, f := range fs {
		v.calls.Add(1)
		f.Verification = &finding.Verification{Status: finding.StatusLive, HTTPStatus: 200, CheckedAt: "2026-01-01T00:00:00Z"}
		out[i] = f
	}
	return out
}

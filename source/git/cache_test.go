package git

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// mapCache is an in-memory ResultCache.
type mapCache struct {
	mu   sync.Mutex
	m    map[string][]finding.Finding
	puts int
}

func (c *mapCache) Get(blob, class string) ([]finding.Finding, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fs, ok := c.m[blob+"/"+class]
	return fs, ok
}

func (c *mapCache) Put(blob, class string, fs []finding.Finding) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]finding.Finding{}
	}
	c.m[blob+"/"+class] = fs
	c.puts++
}

// failingEngine fails on blobs whose content contains FAIL.
type failingEngine struct{ fakeEngine }

func (e *failingEngine) Scan(b engine.Blob) ([]finding.Finding, error) {
	fs, err := e.fakeEngine.Scan(b)
	if strings.Contains(string(b.Data), "FAIL") {
		return fs, errors.New("engine failure")
	}
	return fs, err
}

func TestResultCache(t *testing.T) {
	r := newRepo(t)
	big := strings.Repeat("filler line for a delta base that is long enough\n", 200)
	r.write("a.txt", "key = "+tok("a")+"\n")
	r.write("big.txt", big+"x = "+tok("big")+"\n")
	r.write("bin.dat", "\x00\x01binary "+tok("bin"))
	r.commit("one")
	r.write("big.txt", big+"changed\nx = "+tok("big")+"\n")
	r.write("b.txt", "nothing here\n")
	r.commit("two")
	r.git("gc", "-q") // packed, with deltas
	full := func(cache ResultCache) ([]finding.Finding, Stats, *fakeEngine) {
		t.Helper()
		eng := &fakeEngine{}
		fs, st, probs := Scan(context.Background(), eng, Options{Repo: r.dir, Workers: 2, Cache: cache})
		if len(probs) > 0 {
			t.Fatalf("problems: %v", probs)
		}
		return fs, st, eng
	}
	ref, refSt, _ := full(nil)
	if len(ref) != 2 {
		t.Fatalf("reference scan: %d findings, want 2: %v", len(ref), reduce(ref))
	}

	c := &mapCache{}
	first, st1, _ := full(c)
	if !reflect.DeepEqual(reduce(first), reduce(ref)) || st1.Cached != 0 {
		t.Fatalf("first cached scan: %v (cached %d), want %v", reduce(first), st1.Cached, reduce(ref))
	}
	if c.puts != refSt.Blobs { // every blob, the binary one included
		t.Errorf("cache got %d results, want %d (one per blob)", c.puts, refSt.Blobs)
	}

	again, st2, eng := full(c)
	if st2.BlobsScanned != 0 || st2.Binary != 0 || st2.Cached != refSt.Blobs {
		t.Errorf("re-scan: %d blobs scanned, %d binary, %d cached; want 0, 0, %d", st2.BlobsScanned, st2.Binary, st2.Cached, refSt.Blobs)
	}
	if n := eng.scans.Load(); n != int64(st2.Messages) {
		t.Errorf("re-scan ran the engine %d times, want %d (the commit messages only)", n, st2.Messages)
	}
	if !reflect.DeepEqual(again, first) {
		t.Errorf("re-scan findings differ:\n got  %v\n want %v", reduce(again), reduce(first))
	}

	// A new commit copying a secret to a new path and adding one: only new blobs
	// are scanned, and cached findings get provenance at their new location.
	r.write("copy/a.txt", "key = "+tok("a")+"\n")
	r.write("c.txt", "c = "+tok("c")+"\n")
	r.commit("three")
	ref3, _, _ := full(nil)
	got3, st3, _ := full(c)
	if st3.BlobsScanned != 1 {
		t.Errorf("after one new blob: %d blobs scanned, want 1", st3.BlobsScanned)
	}
	if !reflect.DeepEqual(reduce(got3), reduce(ref3)) || len(ref3) != 4 {
		t.Errorf("incremental findings:\n got  %v\n want %v (4)", reduce(got3), reduce(ref3))
	}
}

func TestResultCacheSkipsFailedBlobs(t *testing.T) {
	r := newRepo(t)
	r.write("ok.txt", "k = "+tok("ok")+"\n")
	r.write("bad.txt", "FAIL "+tok("bad")+"\n")
	r.commit("one")
	c := &mapCache{}
	_, _, probs := Scan(context.Background(), &failingEngine{}, Options{Repo: r.dir, Workers: 1, Cache: c})
	if len(probs) != 1 {
		t.Fatalf("problems: %v, want one engine failure", probs)
	}
	var keys []string
	for k := range c.m {
		keys = append(keys, k)
	}
	if len(keys) != 1 {
		t.Fatalf("cached %v, want only ok.txt's blob", keys)
	}
	okBlob := runGit(t, r.dir, 0, "rev-parse", "HEAD:ok.txt")
	if !strings.HasPrefix(keys[0], okBlob+"/") {
		t.Errorf("cached %s, want ok.txt's blob %s", keys[0], okBlob)
	}
}

func (e *failingEngine) ScanBlob(b source.Blob) source.Outcome { return scanVia(e.Scan, b) }

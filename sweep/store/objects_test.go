package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

func TestObjectCache(t *testing.T) {
	s := open(t, "o.db")
	ctx := context.Background()
	repo := Repo{URL: "s3://b", Name: "s3://b", Source: "s3", Status: StatusOK}
	a := fnd("r1", "secretvalue0123456789", "", 2, "")
	cache := func(scanKey, origin string) *ObjectCache {
		return s.NewObjectCache(ObjectCacheOptions{ScanKey: scanKey, Origin: origin, Bucket: "b", Repo: "s3://b"})
	}
	c := cache("k1", "")
	if _, ok := c.Get("b", "a.txt", `"e1"`); ok {
		t.Fatal("hit in an empty store")
	}
	c.Put("b", "a.txt", `"e1"`, 10, nil)
	c.Put("b", "x/s.env", `"e2"`, 20, []finding.Finding{a})
	loc := a
	loc.File = "x/s.env"
	if err := s.CommitObjects(ctx, ObjectsResult{Repo: repo, Cache: c, Findings: []finding.Finding{loc}, Now: "t1"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, origin, scanKey, key, etag string
		hit                              bool
		n                                int
	}{
		{"clean object", "", "k1", "a.txt", `"e1"`, true, 0},
		{"object with a finding", "", "k1", "x/s.env", `"e2"`, true, 1},
		{"new etag", "", "k1", "x/s.env", `"e3"`, false, 0},
		{"other rules", "", "k2", "x/s.env", `"e2"`, false, 0},
		{"other endpoint", "http://127.0.0.1:9000", "k1", "x/s.env", `"e2"`, false, 0},
	}
	for _, tt := range tests {
		fs, ok := cache(tt.scanKey, tt.origin).Get("b", tt.key, tt.etag)
		if ok != tt.hit || len(fs) != tt.n {
			t.Errorf("%s: hit %v with %d findings, want %v with %d", tt.name, ok, len(fs), tt.hit, tt.n)
		}
		if tt.n > 0 && (fs[0].Fingerprint != a.Fingerprint || fs[0].Line != 2 || fs[0].Groups["id"] != "x") {
			t.Errorf("%s: stored finding %+v", tt.name, fs[0])
		}
	}
	got, err := s.Findings(Query{Repos: []string{"s3://b"}})
	if err != nil || len(got) != 1 || got[0].File != "x/s.env" || got[0].RepoName != "s3://b" {
		t.Fatalf("findings %+v, %v", got, err)
	}

	// The object changes and its secret is gone: its location goes with it.
	c = cache("k1", "")
	c.Put("b", "x/s.env", `"e3"`, 5, nil)
	other := fnd("r1", "othersecret0123456789", "x/s.env.bak!inner", 1, "")
	if err := s.CommitObjects(ctx, ObjectsResult{Repo: repo, Cache: c, Findings: []finding.Finding{other}, Now: "t2"}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Findings(Query{Repos: []string{"s3://b"}})
	if len(got) != 1 || got[0].File != "x/s.env.bak!inner" {
		t.Errorf("after the change: %+v, want only the other object's finding", got)
	}
	if fs, ok := cache("k1", "").Get("b", "x/s.env", `"e3"`); !ok || len(fs) != 0 {
		t.Errorf("new etag: %v, %v", fs, ok)
	}

	// Triage states.
	if err := s.Triage(ctx, TriageEntry{Fingerprint: other.Fingerprint, At: "t3", Status: TriageFalsePositive}); err != nil {
		t.Fatal(err)
	}
	states, err := s.TriageStates([]string{other.Fingerprint, a.Fingerprint})
	if err != nil || len(states) != 1 || states[other.Fingerprint] != TriageFalsePositive {
		t.Errorf("triage states %v, %v", states, err)
	}
}

// A version 6 store gains the objects table and keeps its rows.
func TestMigrateFromVersion6(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v6.db")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	commitRepo(t, s, "https://h/o/a", "t1", "k", nil, fnd("r1", "secretvalue0123456789", "x.txt", 1, "c1"))
	for _, q := range []string{`DROP TABLE scanned_objects`, `PRAGMA user_version = 6`} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(p); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := s.NewObjectCache(ObjectCacheOptions{ScanKey: "k", Bucket: "b", Repo: "s3://b"})
	c.Put("b", "k", `"e"`, 1, nil)
	if err := s.CommitObjects(context.Background(), ObjectsResult{Repo: Repo{URL: "s3://b", Name: "s3://b", Status: StatusOK}, Cache: c, Now: "t2"}); err != nil {
		t.Fatalf("objects after migration: %v", err)
	}
	if cnt, _ := s.Counts(); cnt.Locations != 1 || cnt.Repos != 2 {
		t.Errorf("counts after migration: %+v", cnt)
	}
}

// Merging keeps the latest scan of each object, in any order.
func TestMergeObjects(t *testing.T) {
	dir := t.TempDir()
	mk := func(name, etag, now string) string {
		p := filepath.Join(dir, name)
		s, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		c := s.NewObjectCache(ObjectCacheOptions{ScanKey: "k", Bucket: "b", Repo: "s3://b"})
		c.Put("b", "obj", etag, 1, nil)
		if err := s.CommitObjects(context.Background(), ObjectsResult{Repo: Repo{URL: "s3://b", Name: "s3://b", Status: StatusOK, ScannedAt: now}, Cache: c, Now: now}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		return p
	}
	old, young := mk("old.db", `"e1"`, "2026-01-01"), mk("young.db", `"e2"`, "2026-02-01")
	var canon []string
	for _, order := range [][]string{{old, young}, {young, old}} {
		s := open(t, "m"+filepath.Base(order[0]))
		for _, p := range order {
			if err := s.Merge(context.Background(), p); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok := s.NewObjectCache(ObjectCacheOptions{ScanKey: "k", Bucket: "b"}).Get("b", "obj", `"e2"`); !ok {
			t.Errorf("merge %v: the latest scan is not kept", order)
		}
		c, err := s.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		canon = append(canon, c)
	}
	if canon[0] != canon[1] {
		t.Errorf("merge depends on order:\n%s\n---\n%s", canon[0], canon[1])
	}
}

// Results are written in batches as they come: a run killed before its commit
// keeps the objects it read, and their earlier locations are dropped with them.
func TestObjectCacheBatches(t *testing.T) {
	s := open(t, "batch.db")
	ctx := context.Background()
	repo := Repo{URL: "s3://b", Name: "s3://b", Status: StatusOK}
	old := fnd("r1", "secretvalue0123456789", "k1!m", 1, "")
	c := s.NewObjectCache(ObjectCacheOptions{ScanKey: "k", Bucket: "b", Repo: "s3://b", FlushEvery: 2})
	if err := s.CommitObjects(ctx, ObjectsResult{Repo: repo, Cache: c, Findings: []finding.Finding{old}, Now: "t1"}); err != nil {
		t.Fatal(err)
	}
	c = s.NewObjectCache(ObjectCacheOptions{ScanKey: "k", Bucket: "b", Repo: "s3://b", FlushEvery: 2})
	c.Put("b", "k1", `"e1"`, 1, nil)
	if _, ok := s.NewObjectCache(ObjectCacheOptions{ScanKey: "k", Bucket: "b"}).Get("b", "k1", `"e1"`); ok {
		t.Error("written before the batch is full")
	}
	c.Put("b", "k2", `"e2"`, 1, nil) // the batch is full: written, no commit
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"k1", "k2"} {
		if _, ok := s.NewObjectCache(ObjectCacheOptions{ScanKey: "k", Bucket: "b"}).Get("b", k, `"e`+k[1:]+`"`); !ok {
			t.Errorf("%s not written with its batch", k)
		}
	}
	if got, _ := s.Findings(Query{}); len(got) != 0 {
		t.Errorf("the earlier location of k1 is kept: %+v", got)
	}
	c.Put("b", "other", `"e"`, 1, nil)
	c.Put("x", "k", `"e"`, 1, nil)
	if c.Err() == nil {
		t.Error("a result of another bucket is accepted")
	}
}

// Prune drops the objects under the prefix that the run did not list, with
// their locations; objects listed (read, cached or failed) and objects outside
// the prefix stay.
func TestObjectCachePrune(t *testing.T) {
	s := open(t, "prune.db")
	ctx := context.Background()
	repo := Repo{URL: "s3://b", Name: "s3://b", Status: StatusOK}
	opts := ObjectCacheOptions{ScanKey: "k", Bucket: "b", Repo: "s3://b", FlushEvery: 2}
	c := s.NewObjectCache(opts)
	var fs []finding.Finding
	for i, k := range []string{"logs/a", "logs/b", "logs/c", "other/d"} {
		c.Listed("b", k)
		c.Put("b", k, `"e"`, 1, nil)
		fs = append(fs, fnd("r1", "secretvalue012345678"+string(rune('0'+i)), k, 1, ""))
	}
	if err := s.CommitObjects(ctx, ObjectsResult{Repo: repo, Cache: c, Findings: fs, Now: "t1"}); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Prune(ctx, ""); err != nil || n != 0 {
		t.Fatalf("prune after a full run: %d, %v", n, err)
	}
	// Next run of logs/: a is unchanged, b failed (listed, no result), c is gone.
	c = s.NewObjectCache(opts)
	c.Listed("b", "logs/a")
	c.Listed("b", "logs/b")
	if err := s.CommitObjects(ctx, ObjectsResult{Repo: repo, Cache: c, Now: "t2"}); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Prune(ctx, "logs/"); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v; want 1 (logs/c)", n, err)
	}
	got, _ := s.Findings(Query{})
	var paths []string
	for _, l := range got {
		paths = append(paths, l.File)
	}
	if strings.Join(paths, " ") != "logs/a logs/b other/d" {
		t.Errorf("locations after the prune: %v", paths)
	}
	look := s.NewObjectCache(opts)
	for k, want := range map[string]bool{"logs/a": true, "logs/b": true, "logs/c": false, "other/d": true} {
		if _, ok := look.Get("b", k, `"e"`); ok != want {
			t.Errorf("%s stored: %v, want %v", k, ok, want)
		}
	}
}

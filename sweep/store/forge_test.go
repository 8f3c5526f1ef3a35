package store

import (
	"context"
	"path/filepath"
	"testing"
)

// Forge item stamps are committed with their collection, replaced on a later
// commit, and merged keeping the latest stamp of each item.
func TestItemStamps(t *testing.T) {
	ctx := context.Background()
	commit := func(s *Store, now string, items ...ItemStamp) {
		t.Helper()
		err := s.Commit(ctx, Result{Repo: Repo{URL: "https://h/o/a/issues", Name: "o/a", Status: StatusOK, ScannedAt: now, CheckedAt: now},
			Items: items, Now: now})
		if err != nil {
			t.Fatal(err)
		}
	}
	a, b := open(t, "a.db"), open(t, "b.db")
	commit(a, "t1", ItemStamp{"https://h/o/a/issues/1", "2026-01-01T00:00:00Z"}, ItemStamp{"https://h/o/a/issues/2", "2026-01-02T00:00:00Z"})
	commit(a, "t2", ItemStamp{"https://h/o/a/issues/2", "2026-01-03T00:00:00Z"})
	got, err := a.ItemStamps("https://h/o/a/issues")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["https://h/o/a/issues/1"] != "2026-01-01T00:00:00Z" || got["https://h/o/a/issues/2"] != "2026-01-03T00:00:00Z" {
		t.Errorf("stamps %v", got)
	}
	if other, _ := a.ItemStamps("https://h/o/b/issues"); len(other) != 0 {
		t.Errorf("another collection's stamps: %v", other)
	}
	commit(b, "t3", ItemStamp{"https://h/o/a/issues/1", "2026-01-05T00:00:00Z"}, ItemStamp{"https://h/o/a/issues/2", "2026-01-02T00:00:00Z"})
	if err := a.Merge(ctx, b.Path()); err != nil {
		t.Fatal(err)
	}
	got, _ = a.ItemStamps("https://h/o/a/issues")
	if got["https://h/o/a/issues/1"] != "2026-01-05T00:00:00Z" || got["https://h/o/a/issues/2"] != "2026-01-03T00:00:00Z" {
		t.Errorf("merged stamps %v, want the latest of each", got)
	}
}

// A version 4 store gains the forge_items table and keeps its rows.
func TestMigrateFromVersion4AddsForgeItems(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v4.db")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	commitRepo(t, s, "https://h/o/a", "t1", "k", nil, fnd("r1", "secretvalue0123456789", "x.txt", 1, "c1"))
	for _, q := range []string{imageLayersDowngrade[0], imageLayersDowngrade[1], `DROP TABLE forge_items`, `PRAGMA user_version = 4`} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(p); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ItemStamps("x"); err != nil {
		t.Errorf("forge_items after migration: %v", err)
	}
	if c, _ := s.Counts(); c.Locations != 1 {
		t.Errorf("findings after migration: %+v, want them kept", c)
	}
}

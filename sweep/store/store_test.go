package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

func open(t *testing.T, name string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func fnd(rule, secret, file string, line int, commit string) finding.Finding {
	return finding.Finding{
		RuleID: rule, Description: rule + " token", Severity: "high", Kind: finding.KindSecret,
		File: file, Line: line, Column: 5, EndLine: line, EndColumn: 5 + len(secret),
		Secret: secret, Redacted: finding.Redact(secret), Context: "k = " + finding.Redact(secret),
		Fingerprint: finding.Fingerprint(rule, secret), Commit: commit, Author: "A", Email: "a@example.com",
		Date: "2026-01-02T03:04:05Z", Tags: []string{"t"}, Groups: map[string]string{"id": "x"},
	}
}

const blobA = "1111111111111111111111111111111111111111"
const blobB = "2222222222222222222222222222222222222222"

func commitRepo(t *testing.T, s *Store, url, now string, key string, blobs map[string][]finding.Finding, fs ...finding.Finding) {
	t.Helper()
	c := s.NewBlobCache(key)
	for b, bf := range blobs {
		c.Put(b, "", bf)
	}
	err := s.Commit(context.Background(), Result{
		Repo:     Repo{URL: url, Name: strings.TrimPrefix(url, "https://h/"), Source: "test", RefsDigest: "d-" + url, ScanKey: key, Status: StatusOK, ScannedAt: now, CheckedAt: now},
		Findings: fs, Blobs: c, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBlobCacheRoundTrip(t *testing.T) {
	s := open(t, "a.db")
	f := fnd("r1", "secretvalue0123456789", "", 3, "")
	f.File, f.Commit, f.Author, f.Email, f.Date = "", "", "", "", ""
	commitRepo(t, s, "https://h/o/a", "t1", "k1", map[string][]finding.Finding{blobA: {f}, blobB: nil})
	c := s.NewBlobCache("k1")
	tests := []struct {
		blob, class string
		ok          bool
		n           int
	}{
		{blobA, "", true, 1},
		{blobB, "", true, 0},
		{blobA, "\x01", false, 0},
		{"3333333333333333333333333333333333333333", "", false, 0},
	}
	for _, tt := range tests {
		fs, ok := c.Get(tt.blob, tt.class)
		if ok != tt.ok || len(fs) != tt.n {
			t.Errorf("Get(%s, %q) = %d findings, %v; want %d, %v", tt.blob[:4], tt.class, len(fs), ok, tt.n, tt.ok)
		}
	}
	if fs, _ := c.Get(blobA, ""); len(fs) == 1 && !reflect.DeepEqual(fs[0], f) {
		t.Errorf("round trip:\n got  %+v\n want %+v", fs[0], f)
	}
	if _, ok := s.NewBlobCache("k2").Get(blobA, ""); ok {
		t.Error("a blob scanned under k1 is a hit under k2")
	}
	if err := c.Err(); err != nil {
		t.Error(err)
	}
}

func TestFindingsDeduplicatedWithEveryLocation(t *testing.T) {
	s := open(t, "a.db")
	a := fnd("r1", "secretvalue0123456789", "x.txt", 1, "c1")
	b := fnd("r1", "secretvalue0123456789", "y.txt", 7, "c2")
	other := fnd("r2", "othersecret0123456789", "x.txt", 2, "c1")
	commitRepo(t, s, "https://h/o/a", "t1", "k", nil, a, other)
	commitRepo(t, s, "https://h/o/b", "t2", "k", nil, b)
	commitRepo(t, s, "https://h/o/b", "t3", "k", nil, b) // again: nothing duplicated
	c, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if c.Fingerprints != 2 || c.Locations != 3 || c.Repos != 2 || c.Open != 2 {
		t.Errorf("counts %+v, want 2 fingerprints, 3 locations, 2 repos, 2 open", c)
	}
	ls, err := s.Findings(Query{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range ls {
		got = append(got, l.RepoName+":"+l.File+":"+l.RuleID+":"+l.Triage)
	}
	want := []string{"o/a:x.txt:r1:open", "o/a:x.txt:r2:open", "o/b:y.txt:r1:open"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	if ls[0].Secret != a.Secret || ls[0].Author != "A" || ls[0].Commit != "c1" || !reflect.DeepEqual(ls[0].Tags, []string{"t"}) {
		t.Errorf("stored finding lost fields: %+v", ls[0].Finding)
	}
}

func TestTriage(t *testing.T) {
	s := open(t, "a.db")
	a := fnd("r1", "secretvalue0123456789", "x.txt", 1, "c1")
	commitRepo(t, s, "https://h/o/a", "t1", "k", nil, a)
	fp, err := s.ResolveFingerprint(strings.TrimPrefix(a.Fingerprint, "sha256:")[:12])
	if err != nil || fp != a.Fingerprint {
		t.Fatalf("resolve: %q, %v", fp, err)
	}
	if _, err := s.ResolveFingerprint("sha256:00000000ffff"); err == nil {
		t.Error("an unknown fingerprint resolved")
	}
	ctx := context.Background()
	if err := s.Triage(ctx, TriageEntry{Fingerprint: fp, At: "t2", Status: "bogus"}); err == nil {
		t.Error("a bogus status was accepted")
	}
	steps := []struct {
		at, status string
		shown      []string // triage filter -> visible
	}{
		{"t2", TriageFalsePositive, nil},
		{"t3", TriageOpen, []string{TriageOpen}},
		{"t4", TriageAcceptedRisk, nil},
	}
	for _, st := range steps {
		if err := s.Triage(ctx, TriageEntry{Fingerprint: fp, At: st.at, Status: st.status, Note: "n " + st.at, Actor: "me"}); err != nil {
			t.Fatal(err)
		}
		ls, err := s.Findings(Query{Triage: []string{TriageOpen}})
		if err != nil {
			t.Fatal(err)
		}
		if (len(ls) == 1) != (st.shown != nil) {
			t.Errorf("after %s: %d open findings", st.status, len(ls))
		}
		all, _ := s.Findings(Query{})
		if len(all) != 1 || all[0].Triage != st.status || all[0].Note != "n "+st.at {
			t.Errorf("after %s: state %+v", st.status, all)
		}
	}
	h, err := s.TriageHistory(fp)
	if err != nil || len(h) != 3 {
		t.Errorf("history %v, %v", h, err)
	}
}

func TestMergeIsOrderFreeAndIdempotent(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, fill func(s *Store)) string {
		p := filepath.Join(dir, name)
		s, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		fill(s)
		s.Close()
		return p
	}
	shared := fnd("r1", "secretvalue0123456789", "x.txt", 1, "c1")
	a := mk("a.db", func(s *Store) {
		commitRepo(t, s, "https://h/o/a", "2026-01-01", "k", map[string][]finding.Finding{blobA: {shared}}, shared)
		s.Triage(context.Background(), TriageEntry{Fingerprint: shared.Fingerprint, At: "2026-01-05", Status: TriageAcceptedRisk})
	})
	b := mk("b.db", func(s *Store) {
		sh := shared
		sh.File = "moved.txt"
		v := sh
		v.Verification = &finding.Verification{Status: finding.StatusLive, HTTPStatus: 200, CheckedAt: "2026-01-03"}
		commitRepo(t, s, "https://h/o/b", "2026-01-02", "k", map[string][]finding.Finding{blobA: {shared}, blobB: nil}, v)
		s.Triage(context.Background(), TriageEntry{Fingerprint: shared.Fingerprint, At: "2026-01-04", Status: TriageFalsePositive})
	})
	c := mk("c.db", func(s *Store) {
		commitRepo(t, s, "https://h/o/c", "2026-01-03", "k", nil, fnd("r2", "othersecret0123456789", "z", 4, "c9"))
		// The same repository as in a, scanned later: c's row wins.
		commitRepo(t, s, "https://h/o/a", "2026-01-09", "k", nil)
	})
	merged := func(name string, srcs ...string) (string, []Located) {
		s := open(t, name)
		for _, src := range srcs {
			if err := s.Merge(context.Background(), src); err != nil {
				t.Fatal(err)
			}
		}
		can, err := s.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		ls, err := s.Findings(Query{})
		if err != nil {
			t.Fatal(err)
		}
		r, _, _ := s.Repo("https://h/o/a")
		if r.ScannedAt != "2026-01-09" {
			t.Errorf("%s: o/a scanned_at %q, want the latest", name, r.ScannedAt)
		}
		return can, ls
	}
	ref, refLs := merged("abc.db", a, b, c)
	for _, order := range [][]string{{c, b, a}, {b, a, c, a, b}, {a, a, b, c, c}} {
		got, ls := merged("x.db", order...)
		if got != ref {
			t.Errorf("merge order %v differs:\n%s\nwant\n%s", order, got, ref)
		}
		if !reflect.DeepEqual(ls, refLs) {
			t.Errorf("merge order %v: findings differ", order)
		}
	}
	if len(refLs) != 3 {
		t.Fatalf("merged findings: %d, want 3", len(refLs))
	}
	for _, l := range refLs {
		if l.Fingerprint == shared.Fingerprint && (l.Triage != TriageAcceptedRisk || l.Verification == nil || l.Verification.Status != finding.StatusLive) {
			t.Errorf("merged state of the shared finding: triage %s, verification %+v", l.Triage, l.Verification)
		}
	}
	// Merging into a store that already holds everything changes nothing.
	s, err := Open(filepath.Join(dir, "abc-again.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, src := range []string{a, b, c} {
		s.Merge(context.Background(), src)
	}
	before, _ := s.Canonical()
	s.Merge(context.Background(), a)
	after, _ := s.Canonical()
	if before != after || before != ref {
		t.Error("merge is not idempotent")
	}
	if err := s.Merge(context.Background(), filepath.Join(dir, "missing.db")); err == nil {
		t.Error("merging a missing file succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("merging a missing file created it")
	}
}

func TestOpenRejectsNonStore(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.db")
	os.WriteFile(p, []byte("this is not a database, just text that is long enough to be a header......"), 0o600)
	if s, err := Open(p); err == nil {
		s.Close()
		t.Fatal("opened a text file as a store")
	}
	q := filepath.Join(t.TempDir(), "new.db")
	s, err := Open(q)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	st, err := os.Stat(q)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("new store mode %v (%v), want 0600: it holds secrets", st.Mode().Perm(), err)
	}
}

// A version 1 store (before listing stamps) is migrated in place and keeps its rows.
func TestMigrateFromVersion1(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v1.db")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	commitRepo(t, s, "https://h/o/a", "t1", "k", nil, fnd("r1", "secretvalue0123456789", "x.txt", 1, "c1"))
	// Turn it into what version 1 wrote.
	for _, q := range []string{
		imageLayersDowngrade[0], imageLayersDowngrade[1],
		`ALTER TABLE repositories DROP COLUMN remote_stamp`,
		`ALTER TABLE repositories DROP COLUMN fetched_at`,
		`ALTER TABLE verifications DROP COLUMN access`,
		`PRAGMA user_version = 1`,
	} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, ok, err := s.Repo("https://h/o/a")
	if err != nil || !ok || r.RefsDigest != "d-https://h/o/a" || r.RemoteStamp != "" {
		t.Fatalf("after migration: %+v, %v, %v", r, ok, err)
	}
	var v int
	s.db.QueryRow("PRAGMA user_version").Scan(&v)
	if v != SchemaVersion {
		t.Errorf("user_version %d, want %d", v, SchemaVersion)
	}
	if c, _ := s.Counts(); c.Locations != 1 {
		t.Errorf("counts after migration: %+v", c)
	}
}

// A version 2 store's cached blob results are dropped (they may be incomplete:
// issue 14), and its repositories are no longer settled under their scan key.
func TestMigrateFromVersion2DropsBlobResults(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v2.db")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	commitRepo(t, s, "https://h/o/a", "t1", "k", nil, fnd("r1", "secretvalue0123456789", "x.txt", 1, "c1"))
	for _, q := range []string{
		imageLayersDowngrade[0], imageLayersDowngrade[1],
		`INSERT INTO scanned_blobs (scan_key, blob, class, findings) VALUES ('k', x'0102', x'', NULL)`,
		`ALTER TABLE verifications DROP COLUMN access`,
		`PRAGMA user_version = 2`,
	} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM scanned_blobs").Scan(&n); err != nil || n != 0 {
		t.Errorf("cached blob results after migration: %d (%v), want 0", n, err)
	}
	r, ok, err := s.Repo("https://h/o/a")
	if err != nil || !ok || r.ScanKey != "" {
		t.Errorf("repository after migration: %+v, %v, %v; want its scan key cleared", r, ok, err)
	}
	if c, _ := s.Counts(); c.Locations != 1 {
		t.Errorf("findings after migration: %+v, want them kept", c)
	}
}

// A version 3 store keeps its verifications and gains access maps; access
// maps round-trip through the store.
func TestMigrateFromVersion3AddsAccess(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v3.db")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		imageLayersDowngrade[0], imageLayersDowngrade[1],
		`ALTER TABLE verifications DROP COLUMN access`,
		`INSERT INTO verifications (fingerprint, status, http_status, checked_at, detail) VALUES ('tw1:aa', 'live', 200, '2026-01-01T00:00:00Z', 'user x')`,
		`PRAGMA user_version = 3`,
	} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(p); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Verification([]string{"tw1:aa"})
	if err != nil || got["tw1:aa"].Status != finding.StatusLive || got["tw1:aa"].Access != nil {
		t.Fatalf("after migration: %+v %v", got, err)
	}
	n := 7
	f := finding.Finding{Fingerprint: "tw1:bb", Verification: &finding.Verification{Status: finding.StatusLive, CheckedAt: "2026-01-02T00:00:00Z",
		Access: &finding.Access{Identity: "arn:aws:iam::1:user/x", Account: "1", Scopes: []string{"a", "b"}, Resources: &n}}}
	if err := s.SetVerification(context.Background(), []finding.Finding{f}); err != nil {
		t.Fatal(err)
	}
	got, err = s.Verification([]string{"tw1:bb"})
	a := got["tw1:bb"].Access
	if err != nil || a == nil || a.Identity != "arn:aws:iam::1:user/x" || a.Account != "1" || len(a.Scopes) != 2 || a.Resources == nil || *a.Resources != 7 {
		t.Fatalf("access round trip: %+v %v", a, err)
	}
}

// imageLayersVersion is the schema version imageLayersMigration brings a store
// to (later steps, such as scanned_objects, only add tables of their own).
const imageLayersVersion = 6

// imageLayersDowngrade undoes imageLayersMigration, to make a store of the
// version before it.
var imageLayersDowngrade = []string{`DROP TABLE scanned_layers`, `ALTER TABLE locations DROP COLUMN deleted`}

// A store of the version before image layers gains the layer table and the
// locations' deleted column, and keeps its rows.
func TestMigrateAddsImageLayers(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v4.db")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	commitRepo(t, s, "https://h/o/a", "t1", "k", nil, fnd("r1", "secretvalue0123456789", "x.txt", 1, "c1"))
	for _, q := range append(imageLayersDowngrade, fmt.Sprintf("PRAGMA user_version = %d", imageLayersVersion-1)) {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(p); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := s.NewLayerCache("k")
	c.Put("sha256:01", []byte(`{"files":1}`))
	if d, ok := c.Get("sha256:01"); !ok || string(d) != `{"files":1}` || c.Err() != nil {
		t.Errorf("layer cache after migration: %q %v %v", d, ok, c.Err())
	}
	if _, ok := s.NewLayerCache("other").Get("sha256:01"); ok {
		t.Error("a layer result is found under another scan key")
	}
	if c, _ := s.Counts(); c.Locations != 1 {
		t.Errorf("findings after migration: %+v, want them kept", c)
	}
}

package store

import (
	"context"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

// TestMigrateFingerprints: a store written with sha256: fingerprints keeps its
// triage decisions, verification results and locations under tw1:; a legacy
// row whose secret does not prove its fingerprint is left alone.
func TestMigrateFingerprints(t *testing.T) {
	s := open(t, "old.db")
	ctx := context.Background()
	a := fnd("r1", "secretvalue0123456789", "x.txt", 1, "c1")
	a.Fingerprint = finding.LegacyFingerprint("r1", a.Secret)
	a.Verification = &finding.Verification{Status: finding.StatusInvalid, CheckedAt: "t1"}
	h := fnd("url-hygiene", "pw-value-0123", "y.txt", 2, "c1")
	h.Fingerprint = finding.LegacyFingerprint("url-hygiene", "y.txt\x00pw-value-0123")
	commitRepo(t, s, "https://h/o/a", "t1", "k", nil, a, h)
	if err := s.Triage(ctx, TriageEntry{Fingerprint: a.Fingerprint, At: "t2", Status: TriageFalsePositive, Note: "fixture"}); err != nil {
		t.Fatal(err)
	}
	n, err := s.MigrateFingerprints(ctx)
	if err != nil || n != 1 {
		t.Fatalf("migrated %d, %v; want 1", n, err)
	}
	ls, err := s.Findings(Query{})
	if err != nil {
		t.Fatal(err)
	}
	want := finding.Fingerprint("r1", a.Secret)
	var found bool
	for _, l := range ls {
		switch l.RuleID {
		case "r1":
			found = true
			if l.Fingerprint != want || l.Triage != TriageFalsePositive || l.Verification == nil || l.Verification.Status != finding.StatusInvalid || l.File != "x.txt" {
				t.Errorf("migrated finding %+v (triage %q)", l.Finding, l.Triage)
			}
		case "url-hygiene":
			if l.Fingerprint != h.Fingerprint {
				t.Errorf("an unprovable legacy row was renamed to %s", l.Fingerprint)
			}
		}
	}
	if !found {
		t.Fatalf("the migrated finding is gone (query shows triaged rows? %d rows)", len(ls))
	}
	if n, err := s.MigrateFingerprints(ctx); err != nil || n != 0 {
		t.Errorf("second migration renamed %d, %v", n, err)
	}
}

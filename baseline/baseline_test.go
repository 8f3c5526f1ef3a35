package baseline

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenward/tokenward/engine/enginetest"
	"github.com/tokenward/tokenward/finding"
)

const (
	tokA = "4339639a695572816c9ba1a1bd39abfbe316f484"
	tokB = "58e8f220d45a26d74b3f73c22069cf0d9b8801d9"
	tokC = "7eb9521cf0f83cba1f09dec5a0bc8207d308dbb5"
)

// scan runs the real engine with the built-in rules over files (path -> content).
func scan(t *testing.T, files map[string]string) []finding.Finding {
	t.Helper()
	eng := enginetest.Builtin(t)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var out []finding.Finding
	for _, p := range paths {
		out = append(out, eng.ScanBytes(p, []byte(files[p]))...)
	}
	return out
}

func header(tok string) string {
	return "curl -H 'Authorization: Token " + tok + "' https://api.example.com/v1/items\n"
}

func bytesOf(t *testing.T, b *Baseline) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := b.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var day = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func TestCreateIsStable(t *testing.T) {
	fs := scan(t, map[string]string{
		"a/deploy.sh": header(tokA) + header(tokB),
		"b/other.sh":  "echo\n" + header(tokA),
	})
	if len(fs) < 3 {
		t.Fatalf("engine found %d findings, want at least 3", len(fs))
	}
	first := bytesOf(t, Create(fs, Entry{}))
	rng := rand.New(rand.NewPCG(7, 7))
	for range 10 {
		shuffled := slices.Clone(fs)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := bytesOf(t, Create(shuffled, Entry{})); !bytes.Equal(got, first) {
			t.Fatalf("create is not byte-identical:\n%s\n---\n%s", first, got)
		}
	}
	// Round trip: load and write again gives the same bytes; update with the
	// same findings is a no-op.
	b, err := Parse(first)
	if err != nil {
		t.Fatal(err)
	}
	if got := bytesOf(t, b); !bytes.Equal(got, first) {
		t.Fatalf("parse+write changed the file:\n%s\n---\n%s", first, got)
	}
	if got := bytesOf(t, Update(b, fs, Entry{Reason: "ignored for existing"})); !bytes.Equal(got, first) {
		t.Fatalf("update with no new findings changed the file:\n%s\n---\n%s", first, got)
	}
	// Two distinct secrets -> two entries; tokA seen in two files keeps the first path.
	if b.Len() != 2 {
		t.Fatalf("%d entries, want 2:\n%s", b.Len(), first)
	}
	e := b.Entries[finding.Fingerprint("authorization-token-header", tokA)]
	if e.File != "a/deploy.sh" || e.RuleID != "authorization-token-header" {
		t.Errorf("entry for tokA = %+v", e)
	}
	for _, s := range []string{tokA, tokB, `"line"`, `"column"`} {
		if strings.Contains(string(first), s) {
			t.Errorf("baseline contains %q:\n%s", s, first)
		}
	}
	if !strings.HasPrefix(string(first), "{\n  \"version\": 1,\n  \"findings\": {\n    \"tw1:") || !strings.HasSuffix(string(first), "}\n") {
		t.Errorf("unexpected layout:\n%s", first)
	}
}

func TestFilter(t *testing.T) {
	orig := scan(t, map[string]string{"config/deploy.sh": header(tokA) + header(tokB)})
	b := Create(orig, Entry{Reason: "accepted"})
	expiring := Update(nil, scan(t, map[string]string{"x.sh": header(tokB)}), Entry{Expires: "2026-03-10"})
	for fp, e := range expiring.Entries {
		b.Entries[fp] = e // tokB's entry now expires at the end of 2026-03-10
	}

	tests := []struct {
		name           string
		files          map[string]string
		now            time.Time
		wantKept       []string // secrets (by redacted form) still reported
		wantSuppressed int
	}{
		{"unchanged", map[string]string{"config/deploy.sh": header(tokA) + header(tokB)}, day, nil, 2},
		{"moved to another line and file renamed",
			map[string]string{"scripts/run.sh": "#!/bin/sh\nset -e\n\n    " + header(tokB) + "echo\n" + header(tokA)}, day, nil, 2},
		{"new secret is kept", map[string]string{"config/deploy.sh": header(tokA) + header(tokC)}, day,
			[]string{finding.Redact(tokC)}, 1},
		{"expired entry fails again",
			map[string]string{"config/deploy.sh": header(tokA) + header(tokB)}, day.AddDate(0, 0, 1),
			[]string{finding.Redact(tokB)}, 1},
		{"valid through its last day", map[string]string{"config/deploy.sh": header(tokB)},
			time.Date(2026, 3, 10, 23, 59, 59, 0, time.UTC), nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := scan(t, tt.files)
			kept, n := b.Filter(fs, tt.now)
			var got []string
			for _, f := range kept {
				got = append(got, f.Redacted)
			}
			if !slices.Equal(got, tt.wantKept) || n != tt.wantSuppressed {
				t.Errorf("kept %v, suppressed %d; want kept %v, suppressed %d", got, n, tt.wantKept, tt.wantSuppressed)
			}
			if len(kept)+n != len(fs) {
				t.Errorf("kept %d + suppressed %d != %d findings", len(kept), n, len(fs))
			}
		})
	}

	var nilB *Baseline
	if kept, n := nilB.Filter(orig, day); len(kept) != len(orig) || n != 0 {
		t.Errorf("nil baseline filtered: kept %d suppressed %d", len(kept), n)
	}
	if got := b.Expired(day.AddDate(0, 0, 1)); len(got) != 1 || got[0] != finding.Fingerprint("authorization-token-header", tokB) {
		t.Errorf("Expired = %v", got)
	}
}

func TestUpdateAndPrune(t *testing.T) {
	old := Create(scan(t, map[string]string{"a.sh": header(tokA) + header(tokB)}), Entry{})
	fpA := finding.Fingerprint("authorization-token-header", tokA)
	fpB := finding.Fingerprint("authorization-token-header", tokB)
	fpC := finding.Fingerprint("authorization-token-header", tokC)
	old.Entries[fpA] = Entry{RuleID: "authorization-token-header", File: "a.sh", Reason: "fixture", AddedBy: "alice", Expires: "2027-01-01"}

	now := scan(t, map[string]string{"moved/a.sh": header(tokA) + header(tokC)})
	up := Update(old, now, Entry{Reason: "new today", AddedBy: "bob"})
	want := map[string]Entry{
		fpA: {RuleID: "authorization-token-header", File: "moved/a.sh", Reason: "fixture", AddedBy: "alice", Expires: "2027-01-01"},
		fpB: {RuleID: "authorization-token-header", File: "a.sh"},
		fpC: {RuleID: "authorization-token-header", File: "moved/a.sh", Reason: "new today", AddedBy: "bob"},
	}
	if !equalEntries(up.Entries, want) {
		t.Errorf("update = %+v\nwant %+v", up.Entries, want)
	}

	pr := Prune(old, now)
	wantPrune := map[string]Entry{fpA: old.Entries[fpA]}
	if !equalEntries(pr.Entries, wantPrune) {
		t.Errorf("prune = %+v\nwant %+v", pr.Entries, wantPrune)
	}
	if old.Len() != 2 {
		t.Errorf("update/prune modified old: %d entries", old.Len())
	}
}

func equalEntries(a, b map[string]Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestLoadErrors(t *testing.T) {
	fp := finding.Fingerprint("r", "s")
	tests := []struct {
		name, content string
		want          []string
	}{
		{"empty", "", []string{"empty baseline file", "tokenward baseline create"}},
		{"syntax", "{\n  \"version\": 1,\n  \"findings\": {\n    \"" + fp + "\": {,}\n  }\n}\n",
			[]string{"syntax.json:4:79: not a valid baseline", "tokenward baseline create"}},
		{"truncated", "{\n  \"version\": 1,\n  \"findings\": {\n", []string{"truncated.json:4:1: ", "ends early"}},
		{"unknown field", `{"version":1,"findings":{"` + fp + `":{"reson":"typo"}}}`, []string{`unknown_field.json:1:`, `unknown field "reson"`}},
		{"wrong type", `{"version":1,"findings":{"` + fp + `":{"reason":3}}}`, []string{"findings.reason", "number"}},
		{"bad key", `{"version":1,"findings":{"github-pat:12":{}}}`, []string{`entry "github-pat:12"`, "tw1:<64 hex digits>"}},
		{"bad date", `{"version":1,"findings":{"` + fp + `":{"expires":"31/12/2026"}}}`, []string{"YYYY-MM-DD", fp}},
		{"version", `{"version":2,"findings":{}}`, []string{"version 2 is not supported"}},
		{"missing version", `{"findings":{}}`, []string{`"version": 1 is missing`}},
		{"trailing data", `{"version":1,"findings":{}} {}`, []string{"unexpected data"}},
		{"array", `[]`, []string{"must not be a JSON array"}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil {
				t.Fatalf("Load accepted %q", tt.content)
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.HasPrefix(msg, path+":") {
				t.Errorf("error does not start with the file name: %s", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
	_, err := Load(filepath.Join(dir, "missing.json"))
	if err == nil || !strings.Contains(err.Error(), "missing.json") || !strings.Contains(err.Error(), "baseline create") {
		t.Errorf("missing file: %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, DefaultFile)
	b := Create(scan(t, map[string]string{"a.sh": header(tokA)}), Entry{Reason: "r"})
	if err := b.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !equalEntries(got.Entries, b.Entries) {
		t.Errorf("round trip: %+v != %+v", got.Entries, b.Entries)
	}
	st1, _ := os.Stat(path)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(path, past, past)
	if err := got.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(path)
	if st2.ModTime().After(past.Add(time.Minute)) {
		t.Errorf("rewriting an unchanged baseline touched the file")
	}
	if st1.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v", st1.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := b.WriteFile(filepath.Join(dir, "no", "such", "dir", "b.json")); err == nil || !strings.Contains(err.Error(), "b.json") {
		t.Errorf("write into a missing directory: %v", err)
	}
}

// TestLegacyBaselineMigration: a baseline and an ignore file written before
// fingerprints were keyed (sha256: keys) still suppress their findings, and
// update and prune rewrite the entries they match to the tw1: form.
func TestLegacyBaselineMigration(t *testing.T) {
	fs := scan(t, map[string]string{"deploy.sh": header(tokA) + header(tokB)})
	if len(fs) != 2 {
		t.Fatalf("engine found %d findings, want 2", len(fs))
	}
	const rule = "authorization-token-header"
	oldA, oldC := finding.LegacyFingerprint(rule, tokA), finding.LegacyFingerprint(rule, tokC)
	data := `{"version":1,"findings":{"` + oldA + `":{"reason":"fixture","expires":"2099-01-01"},"` + oldC + `":{"reason":"gone"}}}`
	old, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if old.Legacy() != 2 {
		t.Errorf("Legacy() = %d, want 2", old.Legacy())
	}
	kept, n := old.Filter(fs, day)
	if n != 1 || len(kept) != 1 || kept[0].Secret != tokB {
		t.Fatalf("legacy baseline suppressed %d, kept %v; want tokA suppressed", n, kept)
	}
	up := Update(old, fs, Entry{Reason: "new"})
	newA, newB := finding.Fingerprint(rule, tokA), finding.Fingerprint(rule, tokB)
	if e, ok := up.Entries[newA]; !ok || e.Reason != "fixture" || e.Expires != "2099-01-01" {
		t.Errorf("update did not migrate tokA's entry to %s with its reason: %+v", newA, up.Entries)
	}
	if _, ok := up.Entries[oldA]; ok {
		t.Errorf("update kept the legacy key %s", oldA)
	}
	if _, ok := up.Entries[oldC]; !ok {
		t.Errorf("update dropped the unmatched legacy entry %s (only prune drops)", oldC)
	}
	if e := up.Entries[newB]; e.Reason != "new" {
		t.Errorf("new entry %+v", e)
	}
	pr := Prune(old, fs)
	if len(pr.Entries) != 1 || pr.Entries[newA].Reason != "fixture" {
		t.Errorf("prune = %+v, want only tokA under %s", pr.Entries, newA)
	}

	ign, err := ParseIgnoreList(strings.NewReader(oldA+"\n"), "ignore")
	if err != nil {
		t.Fatal(err)
	}
	if kept, n := ign.Filter(fs); n != 1 || kept[0].Secret != tokB {
		t.Errorf("legacy ignore entry suppressed %d", n)
	}
}

// TestBaselineRecordsKey: a baseline names the fingerprint key it was made
// under, so a run under another key can say why nothing matches.
func TestBaselineRecordsKey(t *testing.T) {
	fs := scan(t, map[string]string{"deploy.sh": header(tokA)})
	b := Create(fs, Entry{})
	if b.KeyID != finding.KeyID() || b.KeyMismatch() {
		t.Fatalf("KeyID %q, process key %q", b.KeyID, finding.KeyID())
	}
	back, err := Parse(bytesOf(t, b))
	if err != nil || back.KeyID != b.KeyID {
		t.Fatalf("round trip: %v, key id %q", err, back.KeyID)
	}
	back.KeyID = "0123456789ab"
	if !back.KeyMismatch() {
		t.Error("another key id is not reported")
	}
	legacy := &Baseline{Entries: map[string]Entry{finding.LegacyFingerprint("r", tokA): {}}, KeyID: "0123456789ab"}
	if legacy.KeyMismatch() {
		t.Error("a baseline of legacy entries only matches whatever the key: no mismatch")
	}
}

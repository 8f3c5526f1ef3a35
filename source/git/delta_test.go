package git

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/source"
)

// bigFile is a source file of n numbered lines.
func bigFile(n int, edits map[int]string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if e, ok := edits[i]; ok {
			b.WriteString(e)
		} else {
			fmt.Fprintf(&b, "\tvalue%04d := compute(%d) // some ordinary code on line %d\n", i, i*7, i)
		}
	}
	return b.String()
}

// TestDeltaScanMatchesFullScan checks that scanning packed deltas only around their
// changes finds exactly what scanning every blob whole finds, with the same
// provenance, and that it actually scanned fewer bytes.
func TestDeltaScanMatchesFullScan(t *testing.T) {
	r := newRepo(t)
	const n = 3000
	edits := map[int]string{}
	// Successive versions: tokens planted, moved, kept across versions and removed;
	// a token kept for many versions lives in copied data of later deltas.
	steps := []func(){
		func() { edits[100] = "\tkey := \"" + tok("keep") + "\"\n" },
		func() { edits[2000] = "\t// touched\n" },
		func() { edits[1500] = "\tother := \"" + tok("short") + "\"\n" },
		func() { delete(edits, 1500) },
		func() { edits[2999] = "\tlast := \"" + tok("tail") + "\" // near the end\n" },
		func() { edits[101] = "\t// a line right after the kept token\n" },
		func() { edits[99] = "\t// and one right before it: " + tok("adjacent") + "\n" },
		func() { delete(edits, 99); edits[10] = "\t// early edit\n" },
		func() { delete(edits, 100) },
	}
	for i, step := range steps {
		step()
		r.write("big.go", bigFile(n, edits))
		r.write("small.txt", fmt.Sprintf("version %d\n", i))
		r.commit(fmt.Sprintf("v%d", i))
	}
	r.git("gc", "-q", "--aggressive")

	full, stFull, p1 := scanT(t, Options{Repo: r.dir, FullBlobs: true})
	fast, stFast, p2 := scanT(t, Options{Repo: r.dir})
	if len(p1)+len(p2) > 0 {
		t.Fatal(p1, p2)
	}
	if len(full) != 4 {
		t.Errorf("full scan found %v, want the 4 planted tokens once each", reduce(full))
	}
	if !sameList(reduce(full), reduce(fast)) {
		t.Errorf("delta scan differs:\n full  %v\n delta %v", reduce(full), reduce(fast))
	}
	if stFast.DeltaScanned == 0 || stFast.Bytes*3 > stFull.Bytes {
		t.Errorf("delta scan did not save work: %d delta-scanned, %d bytes vs %d", stFast.DeltaScanned, stFast.Bytes, stFull.Bytes)
	}
}

func TestParseDelta(t *testing.T) {
	base := []byte("0123456789")
	// target: copy base[2:6], insert "xy", copy base[0:2]
	delta := []byte{10, 8, 0x80 | 0x01 | 0x10, 2, 4, 2, 'x', 'y', 0x80 | 0x10, 2}
	n, ops, err := parseDelta(delta, len(base))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(applyDelta(base, n, ops)); got != "2345xy01" {
		t.Fatalf("applied %q", got)
	}
	for _, bad := range [][]byte{
		{9, 8},                            // wrong base size
		{10, 8, 0x80 | 0x01 | 0x10, 9, 4}, // copy past the base
		{10, 8, 5, 'a'},                   // truncated insert
		{10, 8, 0},                        // reserved opcode
		{10, 9, 0x80 | 0x10, 8},           // target size mismatch
	} {
		if _, _, err := parseDelta(bad, len(base)); err == nil {
			t.Errorf("delta % x: no error", bad)
		}
	}
}

// TestChangeScan: range and staged scans of a large file look only around what
// changed, and still tell new secrets from re-touched ones (for which the parent's
// version is scanned, since the secret occurs in it).
func TestChangeScan(t *testing.T) {
	const n = 3000
	base := map[int]string{100: "\tkey := \"" + tok("old") + "\"\n"}
	far := map[int]string{100: base[100], 2000: "\tnewKey := \"" + tok("new") + "\"\n"}
	near := map[int]string{100: "\tkey := \"" + tok("old") + "\" // re-touched\n", 150: far[2000]}
	blobSize := int64(len(bigFile(n, base)))
	for _, tc := range []struct {
		name     string
		edits    map[int]string
		line     int   // of the new secret
		maxBytes int64 // what the scan may hand the engine
	}{
		{"new secret far from the old one", far, 2000, 8 << 10},
		{"old secret re-touched, new one nearby", near, 150, blobSize + 8<<10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			r.write("big.go", bigFile(n, base))
			r.commit("base")
			r.git("checkout", "-q", "-b", "pr")
			r.write("big.go", bigFile(n, tc.edits))
			r.git("add", "big.go")
			fs, st, problems := scanT(t, Options{Repo: r.dir, Staged: true})
			if len(problems) > 0 {
				t.Fatal(problems)
			}
			checkFindings(t, fs, want(got{tok("new"), "big.go", "", tc.line, 13}))
			if st.DeltaScanned != 1 || st.Bytes > tc.maxBytes {
				t.Errorf("staged: %d bytes scanned (%d blobs around changes), want at most %d", st.Bytes, st.DeltaScanned, tc.maxBytes)
			}
			c := r.commit("pr")
			for _, full := range []bool{false, true} {
				fs, st, problems := scanT(t, Options{Repo: r.dir, Range: "main..pr", FullBlobs: full})
				if len(problems) > 0 {
					t.Fatal(problems)
				}
				checkFindings(t, fs, want(got{tok("new"), "big.go", c, tc.line, 13}))
				if !full && (st.DeltaScanned != 1 || st.Bytes > tc.maxBytes) {
					t.Errorf("range: %d bytes scanned (%d blobs around changes), want at most %d", st.Bytes, st.DeltaScanned, tc.maxBytes)
				}
			}
		})
	}
}

// unwindowed is a scanner that reads every blob whole (as the pipeline's does for
// UTF-16 text, binary data and archives): no delta is scanned around its changes.
type unwindowed struct{ *fakeEngine }

func (unwindowed) Windowable([]byte) bool { return false }

func TestDeltaScanOnlyWindowable(t *testing.T) {
	r := newRepo(t)
	edits := map[int]string{}
	for i := range 5 {
		edits[100*i+50] = "\tkey := \"" + tok(fmt.Sprint("w", i)) + "\"\n"
		r.write("big.go", bigFile(3000, edits))
		r.commit(fmt.Sprint("v", i))
	}
	r.git("gc", "-q")
	for _, tc := range []struct {
		name string
		sc   source.Scanner
		want bool // some blob scanned around its changes
	}{{"windowable", &fakeEngine{}, true}, {"not windowable", unwindowed{&fakeEngine{}}, false}} {
		fs, st, probs := Scan(context.Background(), tc.sc, Options{Repo: r.dir, Workers: 2})
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		if (st.DeltaScanned > 0) != tc.want || len(fs) != 5 {
			t.Errorf("%s: %d blobs scanned around changes, %d findings; want some: %v, 5 findings", tc.name, st.DeltaScanned, len(fs), tc.want)
		}
	}
}

package git

import (
	"fmt"
	"testing"
)

// TestPrefetchFallback: wherever the tree prefetcher stops agreeing with the
// walk (the walk then reads trees itself and walks the commits the prefetcher
// had taken), the history scan finds the same, with the same counts.
func TestPrefetchFallback(t *testing.T) {
	r := newRepo(t)
	for i := range 6 {
		r.write(fmt.Sprintf("d%d/sub/a.txt", i%3), fmt.Sprintf("v%d\nk=%s\n", i, tok(fmt.Sprint("p", i))))
		r.write("top.txt", fmt.Sprintf("top %d\n", i))
		r.commit(fmt.Sprint("c", i))
		if i == 2 {
			r.git("checkout", "-q", "-b", "side")
		}
	}
	r.git("checkout", "-q", "main")
	r.write("d1/sub/b.txt", "k="+tok("main")+"\n")
	r.commit("on main")
	wantFs, wantSt, problems := scanT(t, Options{Repo: r.dir})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	w := reduce(wantFs)
	if len(w) < 7 {
		t.Fatalf("only %d findings: %q", len(w), w)
	}
	defer func() { prefetchDiverge = 0 }()
	for n := 1; n <= wantSt.Trees+1; n++ {
		prefetchDiverge = n
		fs, st, problems := scanT(t, Options{Repo: r.dir})
		if len(problems) > 0 {
			t.Fatalf("diverging at tree %d: %v", n, problems)
		}
		if g := reduce(fs); !sameList(g, w) {
			t.Errorf("diverging at tree %d:\n got  %q\n want %q", n, g, w)
		}
		if st.Commits != wantSt.Commits || st.Trees != wantSt.Trees || st.Blobs != wantSt.Blobs {
			t.Errorf("diverging at tree %d: %d commits, %d trees, %d blobs; want %d, %d, %d", n, st.Commits, st.Trees, st.Blobs, wantSt.Commits, wantSt.Trees, wantSt.Blobs)
		}
	}
}

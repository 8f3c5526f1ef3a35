package git

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

func TestHistory(t *testing.T) {
	cases := []struct {
		name  string
		opts  Options
		build func(r *testRepo) []got
	}{
		{"added then removed", Options{}, func(r *testRepo) []got {
			r.write("a.txt", "x\ny = "+tok("a")+"\n")
			c1 := r.commit("add")
			r.write("a.txt", "x\n")
			r.commit("remove")
			return []got{{tok("a"), "a.txt", c1, 2, 5}}
		}},
		{"re-touched line keeps first commit", Options{}, func(r *testRepo) []got {
			r.write("a.txt", "k="+tok("a")+"\n")
			c1 := r.commit("add")
			r.write("a.txt", "top\nk="+tok("a")+" # note\n")
			r.commit("retouch")
			return []got{{tok("a"), "a.txt", c1, 1, 3}}
		}},
		{"renamed file", Options{}, func(r *testRepo) []got {
			r.write("dir/a.txt", "k="+tok("a")+"\n")
			c1 := r.commit("add")
			r.git("mv", "dir", "moved")
			r.commit("rename")
			r.write("moved/a.txt", "k=gone\n")
			r.commit("clean")
			return []got{{tok("a"), "dir/a.txt", c1, 1, 3}}
		}},
		{"copied to a second path is reported there too", Options{}, func(r *testRepo) []got {
			r.write("a.txt", "k="+tok("a")+"\n")
			c1 := r.commit("add")
			r.write("b.txt", "k="+tok("a")+"\n")
			c2 := r.commit("copy")
			return []got{{tok("a"), "a.txt", c1, 1, 3}, {tok("a"), "b.txt", c2, 1, 3}}
		}},
		{"deleted file", Options{}, func(r *testRepo) []got {
			r.write("old/secret.env", "\n\nKEY="+tok("d")+"\n")
			c1 := r.commit("add")
			r.git("rm", "-q", "-r", "old")
			r.commit("delete")
			return []got{{tok("d"), "old/secret.env", c1, 3, 5}}
		}},
		{"merge conflict resolution", Options{}, func(r *testRepo) []got {
			r.write("conf.txt", "value=1\n")
			r.commit("base")
			r.git("checkout", "-q", "-b", "feature")
			r.write("conf.txt", "value=2\n")
			r.commit("feature")
			r.git("checkout", "-q", "main")
			r.write("conf.txt", "value=3\n")
			r.commit("main")
			r.n++
			mergeConflict(r, []string{"merge", "-q", "--no-edit", "feature"})
			r.write("conf.txt", "value="+tok("m")+"\n")
			r.git("add", "conf.txt")
			r.git("commit", "-q", "--no-edit")
			m := r.git("rev-parse", "HEAD")
			return []got{{tok("m"), "conf.txt", m, 1, 7}}
		}},
		{"unmerged branch", Options{}, func(r *testRepo) []got {
			r.write("a.txt", "clean\n")
			r.commit("base")
			r.git("checkout", "-q", "-b", "wip")
			r.write("wip.txt", tok("w")+"\n")
			c := r.commit("wip")
			r.git("checkout", "-q", "main")
			return []got{{tok("w"), "wip.txt", c, 1, 1}}
		}},
		{"annotated tag to an otherwise unreachable commit", Options{}, func(r *testRepo) []got {
			r.write("a.txt", "clean\n")
			r.commit("base")
			r.git("checkout", "-q", "--detach")
			r.write("rel.txt", "k: "+tok("t")+"\n")
			c := r.commit("release")
			r.git("tag", "-a", "-m", "release", "v1")
			r.git("checkout", "-q", "main")
			return []got{{tok("t"), "rel.txt", c, 1, 4}}
		}},
		{"tag to a blob and tag message", Options{}, func(r *testRepo) []got {
			r.write("a.txt", "clean\n")
			c := r.commit("base")
			blob := strings.TrimSpace(r.git("hash-object", "-w", writeTemp(r, tok("b")+"\n")))
			r.git("tag", "keyblob", blob)
			r.git("tag", "-a", "-m", "note "+tok("n"), "v2", c)
			return []got{{tok("b"), "refs/tags/keyblob", "", 1, 1}, {tok("n"), "tag-message", c, 1, 6}}
		}},
		{"remote-tracking ref only", Options{}, func(r *testRepo) []got {
			r.write("a.txt", "clean\n")
			r.commit("base")
			r.git("checkout", "-q", "-b", "gone")
			r.write("r.txt", tok("r")+"\n")
			c := r.commit("pushed elsewhere")
			r.git("update-ref", "refs/remotes/origin/gone", c)
			r.git("checkout", "-q", "main")
			r.git("branch", "-q", "-D", "gone")
			return []got{{tok("r"), "r.txt", c, 1, 1}}
		}},
		{"detached HEAD of a linked worktree", Options{}, func(r *testRepo) []got {
			r.write("a.txt", "clean\n")
			r.commit("base")
			wt := filepath.Join(r.t.TempDir(), "wt")
			r.git("worktree", "add", "-q", "--detach", wt)
			os.WriteFile(filepath.Join(wt, "w.txt"), []byte(tok("wt")+"\n"), 0o644)
			runGit(r.t, wt, r.n, "add", "w.txt")
			runGit(r.t, wt, r.n, "commit", "-q", "-m", "in the worktree")
			c := runGit(r.t, wt, r.n, "rev-parse", "HEAD")
			return []got{{tok("wt"), "w.txt", c, 1, 1}}
		}},
		{"commit message", Options{}, func(r *testRepo) []got {
			r.write("a.txt", "clean\n")
			c := r.commit("oops\n\npassword " + tok("c"))
			return []got{{tok("c"), "commit-message", c, 3, 10}}
		}},
		{"stash and its reflog", Options{}, func(r *testRepo) []got {
			r.write("a.txt", "clean\n")
			r.commit("base")
			r.write("a.txt", "clean\n"+tok("s1")+"\n")
			r.n++
			r.git("stash", "-q")
			r.write("a.txt", "clean\n"+tok("s2")+"\n")
			r.n++
			r.git("stash", "-q")
			s1 := r.git("rev-parse", "stash@{1}")
			s0 := r.git("rev-parse", "stash@{0}")
			// The stash commit's second parent is the index commit; a.txt was not
			// staged, so the work-tree commit (the stash itself) introduces it.
			return []got{{tok("s1"), "a.txt", s1, 2, 1}, {tok("s2"), "a.txt", s0, 2, 1}}
		}},
		{"unreachable objects only when asked", Options{IncludeUnreachable: true}, func(r *testRepo) []got {
			r.write("a.txt", "clean\n")
			r.commit("base")
			r.write("a.txt", tok("u")+"\n")
			c := r.commit("dangling soon")
			r.git("reset", "-q", "--hard", "HEAD~1")
			r.git("reflog", "expire", "--expire=now", "--all")
			blob := strings.TrimSpace(r.git("hash-object", "-w", writeTemp(r, "x="+tok("l")+"\n")))
			return []got{{tok("u"), "a.txt", c, 1, 1}, {tok("l"), "blob:" + blob, "", 1, 3}}
		}},
		{"unreachable objects in a pack", Options{IncludeUnreachable: true}, func(r *testRepo) []got {
			r.write("a.txt", "clean\n")
			r.commit("base")
			r.write("a.txt", tok("u")+"\n")
			c := r.commit("dangling soon")
			r.git("reset", "-q", "--hard", "HEAD~1")
			r.git("reflog", "expire", "--expire=now", "--all")
			r.git("repack", "-q", "-a", "-d", "--keep-unreachable")
			return []got{{tok("u"), "a.txt", c, 1, 1}}
		}},
		{"same secret independently on two branches", Options{}, func(r *testRepo) []got {
			r.write("a.txt", "clean\n")
			r.commit("base")
			r.git("checkout", "-q", "-b", "b1")
			r.write("k.txt", tok("x")+"\n")
			c1 := r.commit("b1")
			r.git("checkout", "-q", "main")
			r.write("k.txt", "head\n"+tok("x")+"\n")
			c2 := r.commit("main")
			return []got{{tok("x"), "k.txt", c1, 1, 1}, {tok("x"), "k.txt", c2, 2, 1}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			w := tc.build(r)
			opts := tc.opts
			opts.Repo = r.dir
			fs, _, problems := scanT(t, opts)
			if len(problems) > 0 {
				t.Fatalf("problems: %v", problems)
			}
			checkFindings(t, fs, want(w...))
			for _, f := range fs {
				if f.Commit != "" && (f.Author != "Ann Author" || f.Email != "ann@example.com" || !strings.HasPrefix(f.Date, "2024-01-01T")) {
					t.Errorf("provenance not filled: %+v", f)
				}
			}
		})
	}
}

func TestUnreachableNotScannedByDefault(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "clean\n")
	r.commit("base")
	r.write("a.txt", tok("u")+"\n")
	r.commit("dangling soon")
	r.git("reset", "-q", "--hard", "HEAD~1")
	r.git("reflog", "expire", "--expire=now", "--all")
	fs, _, problems := scanT(t, Options{Repo: r.dir})
	if len(problems) > 0 || len(fs) != 0 {
		t.Fatalf("got %v %v, want nothing", reduce(fs), problems)
	}
}

func TestEachBlobScannedOnce(t *testing.T) {
	r := newRepo(t)
	for i := range 6 {
		r.write("same.txt", "constant "+tok("k")+"\n")
		r.write("changing.txt", strings.Repeat("line\n", i+1))
		r.write("copy/same.txt", "constant "+tok("k")+"\n")
		r.commit("c")
	}
	eng := &fakeEngine{}
	fs, st, problems := Scan(t.Context(), eng, Options{Repo: r.dir, Workers: 2})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	// blobs: same.txt content (shared with copy/same.txt) + 6 versions of changing.txt;
	// messages: 6 (all "c").
	if st.Blobs != 7 || st.BlobsScanned != 7 || st.Commits != 6 || st.Messages != 6 || st.BlobsWithHits != 1 {
		t.Errorf("stats = %+v", st)
	}
	if got := eng.scans.Load(); got != 7+6 {
		t.Errorf("engine ran %d times, want 13", got)
	}
	if len(fs) != 2 { // same.txt and copy/same.txt, both in the first commit
		t.Errorf("findings %v", reduce(fs))
	}
}

func TestBinaryAndLargeSkipped(t *testing.T) {
	r := newRepo(t)
	r.write("bin.dat", "\x00\x01"+tok("b")+"\n")
	r.write("big.txt", strings.Repeat("a", 5000)+tok("g")+"\n")
	r.write("ok.txt", tok("o")+"\n")
	c := r.commit("c")
	fs, st, problems := scanT(t, Options{Repo: r.dir, MaxBlobSize: 4096})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	checkFindings(t, fs, want(got{tok("o"), "ok.txt", c, 1, 1}))
	if st.Binary != 1 || st.TooLarge != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func writeTemp(r *testRepo, content string) string {
	r.t.Helper()
	f := filepath.Join(r.t.TempDir(), "content")
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
	return f
}

// mergeConflict runs a merge expected to stop on a conflict.
func mergeConflict(r *testRepo, args []string) {
	r.t.Helper()
	cmd := execGit(r.dir, r.n, args...)
	if err := cmd.Run(); err == nil {
		r.t.Fatal("merge did not conflict")
	}
}

// pathAllowEngine is fakeEngine with a path allow list: nothing under allowed/.
type pathAllowEngine struct{ fakeEngine }

func (e *pathAllowEngine) Scan(b engine.Blob) ([]finding.Finding, error) {
	if strings.HasPrefix(b.Path, "allowed/") {
		return nil, nil
	}
	return e.fakeEngine.Scan(b)
}

func TestPathDependentResults(t *testing.T) {
	r := newRepo(t)
	content := "k=" + tok("p") + "\n"
	r.write("allowed/x.txt", content) // walked first: the blob is first seen here
	r.write("src/x.txt", content)
	c := r.commit("same blob at an allowed and a normal path")
	class := func(p string) string {
		if strings.HasPrefix(p, "allowed/") {
			return "allowed"
		}
		return ""
	}
	fs, _, problems := Scan(t.Context(), &pathAllowEngine{}, Options{Repo: r.dir, PathClass: class})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	checkFindings(t, fs, want(got{tok("p"), "src/x.txt", c, 1, 3}))
}

func (e *pathAllowEngine) ScanBlob(b source.Blob) source.Outcome { return scanVia(e.Scan, b) }

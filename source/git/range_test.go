package git

import (
	"strings"
	"testing"
)

func TestRange(t *testing.T) {
	cases := []struct {
		name  string
		build func(r *testRepo) (rng string, w []got)
	}{
		{"only what the range adds; re-touched base secret not reported", func(r *testRepo) (string, []got) {
			r.write("a.txt", "k="+tok("base")+"\n")
			r.commit("base")
			r.git("checkout", "-q", "-b", "pr")
			r.write("a.txt", "k="+tok("base")+" # touched\n")
			r.write("b.txt", "\nnew="+tok("new")+"\n")
			c := r.commit("pr")
			return "main..pr", []got{{tok("new"), "b.txt", c, 2, 5}}
		}},
		{"removed then re-added inside the range", func(r *testRepo) (string, []got) {
			r.write("a.txt", "k="+tok("base")+"\n")
			r.commit("base")
			r.git("checkout", "-q", "-b", "pr")
			r.write("a.txt", "k=\n")
			r.commit("rm")
			r.write("a.txt", "k="+tok("base")+"\n")
			r.commit("readd")
			return "main..pr", nil
		}},
		{"renamed in the range", func(r *testRepo) (string, []got) {
			r.write("a.txt", "k="+tok("base")+"\n")
			r.commit("base")
			r.git("checkout", "-q", "-b", "pr")
			r.git("mv", "a.txt", "c.txt")
			r.commit("mv")
			return "main..pr", nil
		}},
		{"added and removed inside the range is still reported", func(r *testRepo) (string, []got) {
			r.write("a.txt", "clean\n")
			r.commit("base")
			r.git("checkout", "-q", "-b", "pr")
			r.write("a.txt", "clean\n"+tok("oops")+"\n")
			c := r.commit("oops")
			r.write("a.txt", "clean\n")
			r.commit("fix")
			return "main..pr", []got{{tok("oops"), "a.txt", c, 2, 1}}
		}},
		{"merge resolution inside the range; base advanced (three dots)", func(r *testRepo) (string, []got) {
			r.write("conf.txt", "v=1\n")
			r.commit("base")
			r.git("checkout", "-q", "-b", "pr")
			r.write("conf.txt", "v=2\n")
			r.commit("pr change")
			r.git("checkout", "-q", "main")
			r.write("conf.txt", "v=3\n")
			r.write("main.txt", tok("mainonly")+"\n")
			r.commit("main change")
			r.git("checkout", "-q", "pr")
			r.n++
			mergeConflict(r, []string{"merge", "-q", "--no-edit", "main"})
			r.write("conf.txt", "v="+tok("res")+"\n")
			r.git("add", "conf.txt")
			r.git("commit", "-q", "--no-edit")
			m := r.git("rev-parse", "HEAD")
			// main..pr would include main's own commits via the merge? No: they are
			// reachable from main, so only the PR's commits and the merge count.
			return "main...pr", []got{{tok("res"), "conf.txt", m, 1, 3}}
		}},
		{"secret in a range commit message", func(r *testRepo) (string, []got) {
			r.write("a.txt", "clean\n")
			r.commit("base")
			r.git("checkout", "-q", "-b", "pr")
			r.write("a.txt", "clean2\n")
			c := r.commit("fix " + tok("msg"))
			return "main..pr", []got{{tok("msg"), "commit-message", c, 1, 5}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			rng, w := tc.build(r)
			fs, _, problems := scanT(t, Options{Repo: r.dir, Range: rng})
			if len(problems) > 0 {
				t.Fatalf("problems: %v", problems)
			}
			checkFindings(t, fs, want(w...))
		})
	}
}

func TestRangeErrors(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "x\n")
	r.commit("c")
	for _, rng := range []string{"main", "nosuch..main", "main..nosuch"} {
		_, _, problems := scanT(t, Options{Repo: r.dir, Range: rng})
		if len(problems) != 1 || !strings.Contains(problems[0].Error(), "--range") {
			t.Errorf("%q: problems %v, want one naming --range", rng, problems)
		}
	}
}

func TestStaged(t *testing.T) {
	cases := []struct {
		name  string
		build func(r *testRepo) []got
	}{
		{"no commits yet", func(r *testRepo) []got {
			r.write("a.txt", "k="+tok("s")+"\n")
			r.git("add", "a.txt")
			return []got{{tok("s"), "a.txt", "", 1, 3}}
		}},
		{"only the added secret of a modified file", func(r *testRepo) []got {
			r.write("dir/a.txt", "old="+tok("old")+"\n")
			r.write("other.txt", "o\n")
			r.commit("base")
			r.write("dir/a.txt", "old="+tok("old")+"\nnew="+tok("new")+"\n")
			r.git("add", "dir/a.txt")
			return []got{{tok("new"), "dir/a.txt", "", 2, 5}}
		}},
		{"unstaged changes are not scanned", func(r *testRepo) []got {
			r.write("a.txt", "clean\n")
			r.commit("base")
			r.write("a.txt", tok("ws")+"\n")
			return nil
		}},
		{"moved file", func(r *testRepo) []got {
			r.write("a.txt", "k="+tok("old")+"\n")
			r.commit("base")
			r.git("mv", "a.txt", "b.txt")
			return nil
		}},
		{"new file in a new directory after a commit", func(r *testRepo) []got {
			r.write("a.txt", "clean\n")
			r.commit("base")
			r.write("x/y/z.txt", tok("deep")+"\n")
			r.git("add", "x")
			return []got{{tok("deep"), "x/y/z.txt", "", 1, 1}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			w := tc.build(r)
			fs, _, problems := scanT(t, Options{Repo: r.dir, Staged: true})
			if len(problems) > 0 {
				t.Fatalf("problems: %v", problems)
			}
			checkFindings(t, fs, want(w...))
		})
	}
}

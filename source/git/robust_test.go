package git

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// twoSecrets builds a repo with secret a in a.txt (first commit) and b in b.txt
// (second commit) and returns the commits.
func twoSecrets(r *testRepo) (c1, c2 string) {
	r.write("a.txt", tok("a")+"\n")
	c1 = r.commit("a")
	r.write("b.txt", tok("b")+"\n")
	c2 = r.commit("b")
	return
}

func looseObject(r *testRepo, hash string) string {
	return filepath.Join(r.dir, ".git", "objects", hash[:2], hash[2:])
}

func TestDamagedRepositories(t *testing.T) {
	cases := []struct {
		name    string
		damage  func(r *testRepo, c1, c2 string) // after twoSecrets
		want    func(c1, c2 string) []got
		problem string // a problem must contain this
	}{
		{"missing blob", func(r *testRepo, c1, c2 string) {
			os.Remove(looseObject(r, r.git("rev-parse", c1+":a.txt")))
		}, func(c1, c2 string) []got { return []got{{tok("b"), "b.txt", c2, 1, 1}} }, "blob a.txt"},
		{"corrupt blob", func(r *testRepo, c1, c2 string) {
			p := looseObject(r, r.git("rev-parse", c1+":a.txt"))
			os.Chmod(p, 0o644)
			os.WriteFile(p, []byte("not zlib at all"), 0o644)
		}, func(c1, c2 string) []got { return []got{{tok("b"), "b.txt", c2, 1, 1}} }, "blob a.txt"},
		{"missing parent commit", func(r *testRepo, c1, c2 string) {
			os.Remove(looseObject(r, c1))
		}, func(c1, c2 string) []got {
			// a.txt's blob is still in c2's tree; with c1 unreadable, c2 is the
			// earliest commit that can be shown holding it.
			return []got{{tok("a"), "a.txt", c2, 1, 1}, {tok("b"), "b.txt", c2, 1, 1}}
		}, "commit"},
		{"missing tree", func(r *testRepo, c1, c2 string) {
			os.Remove(looseObject(r, r.git("rev-parse", c1+"^{tree}")))
		}, func(c1, c2 string) []got {
			return []got{{tok("a"), "a.txt", c2, 1, 1}, {tok("b"), "b.txt", c2, 1, 1}}
		}, "tree"},
		{"ref to a missing object", func(r *testRepo, c1, c2 string) {
			os.WriteFile(filepath.Join(r.dir, ".git", "refs", "heads", "dangling"), []byte(strings.Repeat("ab", 20)+"\n"), 0o644)
		}, func(c1, c2 string) []got {
			return []got{{tok("a"), "a.txt", c1, 1, 1}, {tok("b"), "b.txt", c2, 1, 1}}
		}, "refs/heads/dangling"},
		{"malformed ref", func(r *testRepo, c1, c2 string) {
			os.WriteFile(filepath.Join(r.dir, ".git", "refs", "heads", "bad"), []byte("garbage\n"), 0o644)
		}, func(c1, c2 string) []got {
			return []got{{tok("a"), "a.txt", c1, 1, 1}, {tok("b"), "b.txt", c2, 1, 1}}
		}, "refs/heads/bad is malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			c1, c2 := twoSecrets(r)
			tc.damage(r, c1, c2)
			fs, _, problems := scanT(t, Options{Repo: r.dir})
			checkFindings(t, fs, want(tc.want(c1, c2)...))
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p.Error(), tc.problem)
			}
			if !found {
				t.Errorf("problems %v: none names %q", problems, tc.problem)
			}
		})
	}
}

func TestShallowClone(t *testing.T) {
	src := newRepo(t)
	twoSecrets(src)
	dst := filepath.Join(t.TempDir(), "shallow")
	runGit(t, filepath.Dir(dst), 0, "clone", "-q", "--depth", "1", "file://"+src.dir, dst)
	head := runGit(t, dst, 0, "rev-parse", "HEAD")
	fs, _, problems := scanT(t, Options{Repo: dst})
	checkFindings(t, fs, want(got{tok("a"), "a.txt", head, 1, 1}, got{tok("b"), "b.txt", head, 1, 1}))
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), "shallow") {
		t.Errorf("problems %v, want one about the shallow clone", problems)
	}
	_, _, problems = scanT(t, Options{Repo: dst, Range: "HEAD~1..HEAD"})
	if len(problems) == 0 {
		t.Error("a range beyond a shallow boundary gave no problem")
	}
}

func TestRepositoryLayouts(t *testing.T) {
	cases := []struct {
		name string
		repo func(r *testRepo) string // returns the path to scan
	}{
		{"work tree subdirectory", func(r *testRepo) string {
			os.MkdirAll(filepath.Join(r.dir, "sub", "dir"), 0o755)
			return filepath.Join(r.dir, "sub", "dir")
		}},
		{"packed", func(r *testRepo) string {
			r.git("gc", "-q", "--aggressive")
			return r.dir
		}},
		{"bare clone", func(r *testRepo) string {
			dst := filepath.Join(r.t.TempDir(), "bare.git")
			r.git("clone", "-q", "--bare", r.dir, dst)
			return dst
		}},
		{"linked worktree", func(r *testRepo) string {
			wt := filepath.Join(r.t.TempDir(), "wt")
			r.git("worktree", "add", "-q", "-b", "wtb", wt)
			return wt
		}},
		{".git file (separate git dir, as submodules use)", func(r *testRepo) string {
			dir := filepath.Join(r.t.TempDir(), "sep")
			gd := filepath.Join(r.t.TempDir(), "gitdir")
			r.git("clone", "-q", "--separate-git-dir", gd, r.dir, dir)
			return dir
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			c1, c2 := twoSecrets(r)
			path := tc.repo(r)
			fs, _, problems := scanT(t, Options{Repo: path})
			if len(problems) > 0 {
				t.Fatal(problems)
			}
			checkFindings(t, fs, want(got{tok("a"), "a.txt", c1, 1, 1}, got{tok("b"), "b.txt", c2, 1, 1}))
		})
	}
}

func TestStagedInLinkedWorktree(t *testing.T) {
	r := newRepo(t)
	twoSecrets(r)
	wt := filepath.Join(t.TempDir(), "wt")
	r.git("worktree", "add", "-q", "-b", "wtb", wt)
	os.WriteFile(filepath.Join(wt, "c.txt"), []byte(tok("c")+"\n"), 0o644)
	runGit(t, wt, 0, "add", "c.txt")
	fs, _, problems := scanT(t, Options{Repo: wt, Staged: true})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	checkFindings(t, fs, want(got{tok("c"), "c.txt", "", 1, 1}))
	// The main work tree's index is untouched.
	fs, _, _ = scanT(t, Options{Repo: r.dir, Staged: true})
	checkFindings(t, fs, want())
}

func TestCorruptPackedBlob(t *testing.T) {
	r := newRepo(t)
	c1, c2 := twoSecrets(r)
	r.write("c.txt", strings.Repeat("filler line\n", 50)+tok("c")+"\n")
	c3 := r.commit("c")
	r.git("gc", "-q")
	blob := r.git("rev-parse", c1+":a.txt")
	packs, _ := filepath.Glob(filepath.Join(r.dir, ".git", "objects", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("packs: %v", packs)
	}
	var off int64 = -1
	for _, line := range strings.Split(r.git("verify-pack", "-v", strings.TrimSuffix(packs[0], ".pack")+".idx"), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == blob {
			fmt.Sscan(f[4], &off)
		}
	}
	if off < 0 {
		t.Fatal("blob not found in pack")
	}
	data, err := os.ReadFile(packs[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := off + 3; i < off+12 && int(i) < len(data); i++ {
		data[i] ^= 0x5a // damage the zlib stream
	}
	os.Chmod(packs[0], 0o644)
	if err := os.WriteFile(packs[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	fs, _, problems := scanT(t, Options{Repo: r.dir})
	checkFindings(t, fs, want(got{tok("b"), "b.txt", c2, 1, 1}, got{tok("c"), "c.txt", c3, 51, 1}))
	if len(problems) == 0 || !strings.Contains(fmt.Sprint(problems), blob) {
		t.Errorf("problems %v do not name blob %s", problems, blob)
	}
}

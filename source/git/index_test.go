package git

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// indexRepo builds a repository whose index holds nested directories, a committed
// cache-tree invalidated on one path, an intent-to-add entry and a file whose
// name needs NUL padding of every length; configure runs first (index version,
// skipHash...).
func indexRepo(t *testing.T, configure ...string) *testRepo {
	r := newRepo(t)
	for i := 0; i+1 < len(configure); i += 2 {
		r.git("config", configure[i], configure[i+1])
	}
	for i := range 9 {
		r.write(fmt.Sprintf("a/b%d/%s.txt", i%3, strings.Repeat("n", i+1)), fmt.Sprintf("file %d\n", i))
	}
	r.write("top.txt", "top\n")
	r.write("x/y/z/deep.go", "package z\n")
	r.commit("base")
	r.write("a/b1/changed.txt", "changed\n")
	r.git("add", "a/b1/changed.txt")
	r.write("intent.txt", "later\n")
	r.git("add", "-N", "intent.txt")
	return r
}

// lsFiles is `git ls-files --stage` as "mode hash stage\tname" lines.
func lsFiles(idx *gitIndex) string {
	var b strings.Builder
	for _, e := range idx.entries {
		fmt.Fprintf(&b, "%06o %s %d\t%s\n", e.mode, e.hash, e.stage, e.name)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestParseIndexAgreesWithGit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config []string
	}{
		{"version 2", []string{"index.version", "2"}},
		{"version 3", []string{"index.version", "3"}},
		{"version 4", []string{"index.version", "4"}},
		{"skipHash", []string{"index.skipHash", "true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := indexRepo(t, tc.config...)
			data, err := os.ReadFile(filepath.Join(r.dir, ".git", "index"))
			if err != nil {
				t.Fatal(err)
			}
			idx, err := parseIndex(data)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := lsFiles(idx), r.git("ls-files", "--stage"); got != want {
				t.Errorf("entries:\n%s\ngit ls-files --stage:\n%s", got, want)
			}
			ita := 0
			for _, e := range idx.entries {
				if e.intentToAdd != (e.name == "intent.txt") {
					t.Errorf("%s: intentToAdd = %v", e.name, e.intentToAdd)
				}
				if e.intentToAdd {
					ita++
				}
			}
			if ita != 1 {
				t.Errorf("%d intent-to-add entries, want 1", ita)
			}
			// The cache-tree: 8 nodes ("", a, a/b0, a/b1, a/b2, x, x/y, x/y/z);
			// the staged change invalidated "", a and a/b1, and every valid node
			// holds HEAD's tree for its directory. (go-git's decoder drops the
			// invalid nodes, which breaks the pre-order paths: not an oracle here.)
			if len(idx.tree) != 8 {
				t.Fatalf("cache-tree has %d nodes, want 8: %+v", len(idx.tree), idx.tree)
			}
			m := cacheTree(idx.tree)
			var dirs []string
			for dir, h := range m {
				dirs = append(dirs, dir)
				if want := r.git("rev-parse", "HEAD:"+dir); h.String() != want {
					t.Errorf("cache-tree %q = %s, HEAD:%s is %s", dir, h, dir, want)
				}
			}
			slices.Sort(dirs)
			if want := []string{"a/b0", "a/b2", "x", "x/y", "x/y/z"}; !slices.Equal(dirs, want) {
				t.Errorf("valid cache-tree directories %q, want %q", dirs, want)
			}
		})
	}
}

func TestParseIndexConflictStages(t *testing.T) {
	r := newRepo(t)
	r.write("f.txt", "base\n")
	r.commit("base")
	r.git("checkout", "-q", "-b", "side")
	r.write("f.txt", "side\n")
	r.commit("side")
	r.git("checkout", "-q", "main")
	r.write("f.txt", "main\n")
	r.commit("main")
	cmd := execGit(r.dir, r.n, "merge", "-q", "side")
	if err := cmd.Run(); err == nil {
		t.Fatal("merge should conflict")
	}
	idx, err := readIndex(filepath.Join(r.dir, ".git", "index"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lsFiles(idx), r.git("ls-files", "--stage"); got != want {
		t.Errorf("entries:\n%s\ngit ls-files --stage:\n%s", got, want)
	}
	stages := map[int]bool{}
	for _, e := range idx.entries {
		stages[e.stage] = true
	}
	if !stages[1] || !stages[2] || !stages[3] {
		t.Errorf("stages %v, want 1, 2 and 3", stages)
	}
}

func TestParseIndexRejectsDamage(t *testing.T) {
	r := indexRepo(t)
	good, err := os.ReadFile(filepath.Join(r.dir, ".git", "index"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x40
		return b
	}
	split := newRepo(t)
	split.write("f.txt", "x\n")
	split.commit("base")
	split.git("update-index", "--split-index")
	splitIndex, err := os.ReadFile(filepath.Join(split.dir, ".git", "index"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"truncated", good[:len(good)/2], "checksum"},
		{"flipped byte", flip(70), "checksum"},
		{"not an index", append([]byte("PACK"), good[4:]...), "DIRC"},
		{"version 9", func() []byte { b := bytes.Clone(good); b[7] = 9; return b }(), "version 9"},
		{"split index", splitIndex, `"link"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseIndex(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %s", err, tc.want)
			}
		})
	}
	if _, err := readIndex(filepath.Join(t.TempDir(), "index")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing index: %v, want ErrNotExist", err)
	}
}

// A pre-commit hook of `git commit path` runs with GIT_INDEX_FILE naming a
// temporary index: that index is what will be committed, and what is scanned.
func TestStagedHonoursGitIndexFile(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "nothing\n")
	r.commit("base")
	alt := filepath.Join(t.TempDir(), "alt-index")
	r.write("a.txt", "key = "+tok("alt")+"\n")
	cmd := execGit(r.dir, r.n, "add", "a.txt")
	cmd.Env = append(cmd.Env, "GIT_INDEX_FILE="+alt)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git add with GIT_INDEX_FILE: %v\n%s", err, out)
	}
	fs, _, errs := scanT(t, Options{Repo: r.dir, Staged: true})
	if len(errs) != 0 || len(fs) != 0 {
		t.Fatalf("the repository's own index has nothing staged: %v %v", reduce(fs), errs)
	}
	t.Setenv("GIT_INDEX_FILE", alt)
	fs, _, errs = scanT(t, Options{Repo: r.dir, Staged: true})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	checkFindings(t, fs, want(got{tok("alt"), "a.txt", "", 1, 7}))
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte("DIRC\x00\x00\x00\x02\x00\x00\x00\x00"))
	if r, err := os.ReadFile(filepath.Join("..", "..", ".git", "index")); err == nil && len(r) < 1<<20 {
		f.Add(r)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := parseIndex(data)
		if err != nil {
			return
		}
		_ = cacheTree(idx.tree)
		for _, e := range idx.entries {
			if e.stage < 0 || e.stage > 3 {
				t.Fatalf("stage %d", e.stage)
			}
		}
	})
}

package git

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadFileAt(t *testing.T) {
	r := newRepo(t)
	r.write(".tokenward.toml", "# base config\n")
	r.write("dir/sub/f.txt", "deep\n")
	base := r.commit("base")
	r.write(".tokenward.toml", "# pr config\n")
	r.write("new.txt", "new\n")
	r.commit("pr")
	cases := []struct {
		rev, path string
		want      string
		ok        bool
		err       string
	}{
		{base, ".tokenward.toml", "# base config\n", true, ""},
		{"HEAD", ".tokenward.toml", "# pr config\n", true, ""},
		{"HEAD~1", ".tokenward.toml", "# base config\n", true, ""},
		{"main", "dir/sub/f.txt", "deep\n", true, ""},
		{base, "new.txt", "", false, ""},
		{base, "dir", "", false, ""},
		{base, "dir/sub", "", false, ""},
		{base, "dir/missing/f.txt", "", false, ""},
		{base, "dir/sub/f.txt/x", "", false, ""},
		{"no-such-branch", ".tokenward.toml", "", false, "no-such-branch"},
		{base, "", "", false, "path"},
		{base, "/abs", "", false, "path"},
		{base, "../x", "", false, "path"},
	}
	for _, c := range cases {
		data, ok, err := ReadFileAt(r.dir, c.rev, c.path)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ReadFileAt(%s, %q): err %v, want one naming %q", c.rev, c.path, err, c.err)
			}
			continue
		}
		if err != nil || ok != c.ok || string(data) != c.want {
			t.Errorf("ReadFileAt(%s, %q) = %q, %v, %v; want %q, %v", c.rev, c.path, data, ok, err, c.want, c.ok)
		}
		if !ok && data != nil {
			t.Errorf("ReadFileAt(%s, %q): data %q for a missing file, want nil", c.rev, c.path, data)
		}
	}
	// From a subdirectory of the work tree, too.
	if data, ok, err := ReadFileAt(filepath.Join(r.dir, "dir", "sub"), base, ".tokenward.toml"); err != nil || !ok || string(data) != "# base config\n" {
		t.Errorf("from a subdirectory: %q %v %v", data, ok, err)
	}
	// A symlink is not followed.
	r.git("checkout", "-q", "-b", "link")
	r.git("rm", "-q", ".tokenward.toml")
	r.commit("rm")
	if err := os.Symlink("dir/sub/f.txt", filepath.Join(r.dir, ".tokenward.toml")); err != nil {
		t.Fatal(err)
	}
	r.commit("link")
	if _, _, err := ReadFileAt(r.dir, "HEAD", ".tokenward.toml"); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("symlink: %v, want an error naming the symlink", err)
	}
}

func TestRangeBase(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "a\n")
	root := r.commit("root")
	r.git("checkout", "-q", "-b", "pr")
	r.write("b.txt", "b\n")
	pr := r.commit("pr")
	r.git("checkout", "-q", "main")
	r.write("c.txt", "c\n")
	main := r.commit("main moves on")
	cases := []struct {
		spec, want, err string
	}{
		{"main..pr", main, ""},
		{root + ".." + pr, root, ""},
		{"main...pr", root, ""},
		{"..pr", "", "empty"},
		{"main..", "", "empty"},
		{"...pr", "", "empty"},
		{"..", "", "empty"},
		{"main", "", "BASE..HEAD"},
		{"nope..pr", "", "nope"},
	}
	for _, c := range cases {
		got, err := RangeBase(r.dir, c.spec)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("RangeBase(%q): %q, %v; want an error naming %q", c.spec, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("RangeBase(%q) = %q, %v; want %q", c.spec, got, err, c.want)
		}
	}
}

// An empty side of a range used to mean HEAD and so scanned nothing, silently.
func TestRangeEmptySideIsAnError(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "k="+tok("base")+"\n")
	r.commit("base")
	for _, spec := range []string{"..HEAD", "HEAD..", "...HEAD"} {
		_, _, errs := scanT(t, Options{Repo: r.dir, Range: spec})
		if len(errs) == 0 || !strings.Contains(errs[0].Error(), "empty") {
			t.Errorf("--range %q: problems %v, want one saying a side is empty", spec, errs)
		}
	}
}

// A GIT_INDEX_FILE naming a missing file is not "nothing staged".
func TestStagedMissingGitIndexFile(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "k="+tok("base")+"\n")
	r.commit("base")
	missing := filepath.Join(t.TempDir(), "gone-index")
	t.Setenv("GIT_INDEX_FILE", missing)
	_, _, errs := scanT(t, Options{Repo: r.dir, Staged: true})
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), "GIT_INDEX_FILE") || !strings.Contains(errs[0].Error(), missing) {
		t.Errorf("problems %v, want one naming GIT_INDEX_FILE and %s", errs, missing)
	}
}

// Submodules (gitlinks) are not scanned; every path holding one is listed.
func TestSubmodulesListed(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "a\n")
	r.commit("base")
	r.git("checkout", "-q", "-b", "pr")
	sub := strings.Repeat("ab", 20)
	r.git("update-index", "--add", "--cacheinfo", "160000,"+sub+",vendor/lib")
	r.n++
	r.git("commit", "-q", "-m", "add submodule")
	r.git("update-index", "--add", "--cacheinfo", "160000,"+strings.Repeat("cd", 20)+",ext")
	for _, c := range []struct {
		name string
		opts Options
		want []string
	}{
		{"history", Options{Repo: r.dir}, []string{"vendor/lib"}},
		{"range", Options{Repo: r.dir, Range: "main..pr"}, []string{"vendor/lib"}},
		{"staged", Options{Repo: r.dir, Staged: true}, []string{"ext"}},
	} {
		_, st, errs := scanT(t, c.opts)
		if len(errs) != 0 {
			t.Errorf("%s: %v", c.name, errs)
		}
		if !slices.Equal(st.Submodules, c.want) {
			t.Errorf("%s: submodules %q, want %q", c.name, st.Submodules, c.want)
		}
	}
}

// FuzzSplitRange: a spec either splits into two named sides that rebuild it, or
// is an error naming the spec.
func FuzzSplitRange(f *testing.F) {
	for _, s := range []string{"main..HEAD", "a...b", "..HEAD", "HEAD..", "x", "a....b", "..."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		b, h, sym, err := SplitRange(spec)
		if err != nil {
			if !strings.Contains(err.Error(), "--range") {
				t.Fatalf("error %q does not name --range", err)
			}
			return
		}
		sep := ".."
		if sym {
			sep = "..."
		}
		if b == "" || h == "" || b+sep+h != spec {
			t.Fatalf("SplitRange(%q) = %q, %q, %v", spec, b, h, sym)
		}
	})
}

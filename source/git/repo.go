package git

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// repo is an opened repository: go-git's object and reference storage plus the
// paths that go-git does not expose (reflogs, shallow file).
type repo struct {
	r         *gogit.Repository
	st        storage.Storer
	gitDir    string // the repository's own git dir (a worktree's private dir for worktrees)
	commonDir string // where objects, shared refs and logs/refs/stash live
	workTree  string // "" for bare repositories
	store     *objStore
	gitMu     sync.Mutex // go-git's storage is not safe for concurrent use
}

// locate finds the git directory for path: path itself when it is a git dir
// (bare repository or a .git directory), else path/.git (a directory, or a
// "gitdir:" file as used by submodules and worktrees), searching parent
// directories like git does.
func locate(path string) (gitDir, workTree string, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", err
	}
	if fi, err := os.Stat(abs); err != nil {
		return "", "", fmt.Errorf("%s: %w", path, err)
	} else if !fi.IsDir() {
		abs = filepath.Dir(abs)
	}
	for dir := abs; ; {
		if isGitDir(dir) {
			return dir, "", nil
		}
		dotgit := filepath.Join(dir, ".git")
		if fi, err := os.Stat(dotgit); err == nil {
			if fi.IsDir() {
				return dotgit, dir, nil
			}
			gd, err := readGitFile(dotgit)
			if err != nil {
				return "", "", err
			}
			return gd, dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", "", fmt.Errorf("%s: not a git repository (no .git found here or in any parent directory)", path)
		}
		dir = parent
	}
}

func isGitDir(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		return false
	}
	if _, err := os.Stat(filepath.Join(dir, "objects")); err == nil {
		return true
	}
	// A worktree's private git dir has no objects/ but a commondir file.
	_, err := os.Stat(filepath.Join(dir, "commondir"))
	return err == nil
}

// readGitFile resolves a ".git" file ("gitdir: <path>").
func readGitFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	const prefix = "gitdir:"
	if !strings.HasPrefix(line, prefix) {
		return "", fmt.Errorf("%s: not a git directory link (expected a line %q)", name, "gitdir: <path>")
	}
	gd := strings.TrimSpace(line[len(prefix):])
	if !filepath.IsAbs(gd) {
		gd = filepath.Join(filepath.Dir(name), gd)
	}
	if !isGitDir(gd) {
		return "", fmt.Errorf("%s: points at %s, which is not a git directory", name, gd)
	}
	return filepath.Clean(gd), nil
}

// streamAbove is the size above which blob content is streamed from the pack
// instead of being held in memory; cacheSize bounds go-git's object cache.
const (
	streamAbove = 32 << 20
	cacheSize   = 16 << 20
	// objCacheSize bounds the cache of resolved packed objects (delta bases).
	objCacheSize = 16 << 20
	// producerCacheSize bounds each bulk producer's cache of resolved blobs:
	// families arrive in pack order, so a delta's base is nearly always one of
	// the last few resolved, and a smaller cache keeps the heap further below the
	// soft memory limit (on the nats-like history: 3.7 CPU s with 4 MiB, 4.0 with
	// 16 MiB, same findings; bench/RESULTS.md).
	producerCacheSize = 4 << 20
	// producerCacheKeep is how many blobs a producer's cache keeps above
	// producerCacheSize, up to producerCacheHard bytes: a few multi-MB generated
	// files (vendor trees, as on the rancher-sized history) are each other's bases.
	producerCacheKeep = 8
	producerCacheHard = 8 << 20
)

// dirs finds the git directory of the repository at path, its common directory
// (where a linked worktree's objects live) and its work tree.
func dirs(path string) (gitDir, common, workTree string, err error) {
	gitDir, workTree, err = locate(path)
	if err != nil {
		return "", "", "", err
	}
	common = gitDir
	if b, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		c := strings.TrimSpace(string(b))
		if !filepath.IsAbs(c) {
			c = filepath.Join(gitDir, c)
		}
		common = filepath.Clean(c)
	}
	return gitDir, common, workTree, nil
}

// PackedObjects returns how many objects the packs of the repository at path
// hold (from their index headers; 0 when none can be read): what a history scan
// keeps a fixed cost for, per object, while it runs.
func PackedObjects(path string) int64 {
	_, common, _, err := dirs(path)
	if err != nil {
		return 0
	}
	idxs, _ := filepath.Glob(filepath.Join(common, "objects", "pack", "*.idx"))
	var n int64
	for _, ix := range idxs {
		f, err := os.Open(ix)
		if err != nil {
			continue
		}
		var hd [8 + 256*4]byte
		if _, err := io.ReadFull(f, hd[:]); err == nil && string(hd[:4]) == "\xfftOc" {
			n += int64(binary.BigEndian.Uint32(hd[len(hd)-4:]))
		}
		f.Close()
	}
	return n
}

func openRepo(path string) (*repo, error) {
	gitDir, common, workTree, err := dirs(path)
	if err != nil {
		return nil, err
	}
	var fs billy.Filesystem = osfs.New(gitDir)
	if common != gitDir {
		fs = dotgit.NewRepositoryFilesystem(fs, osfs.New(common))
	}
	st := filesystem.NewStorageWithOptions(fs, cache.NewObjectLRU(cacheSize),
		filesystem.Options{LargeObjectThreshold: streamAbove, ExclusiveAccess: true})
	var wt billy.Filesystem
	if workTree != "" {
		wt = osfs.New(workTree)
	}
	r, err := gogit.Open(st, wt)
	if err != nil {
		return nil, fmt.Errorf("%s: open repository at %s: %w", path, gitDir, err)
	}
	rp := &repo{r: r, st: r.Storer, gitDir: gitDir, commonDir: common, workTree: workTree}
	rp.store = newObjStore(rp, objCacheSize) // trees, and range/staged reads in commit order
	return rp, nil
}

// shallow returns the commits whose parents a shallow clone left out.
func (rp *repo) shallow() map[plumbing.Hash]bool {
	out := map[plumbing.Hash]bool{}
	hs, err := rp.st.Shallow()
	if err != nil {
		return out
	}
	for _, h := range hs {
		out[h] = true
	}
	return out
}

// reflog returns the new-value hashes of a reflog (e.g. "refs/stash"), oldest first.
func (rp *repo) reflog(ref string) ([]plumbing.Hash, error) {
	var f *os.File
	var err error
	for _, dir := range []string{rp.gitDir, rp.commonDir} {
		f, err = os.Open(filepath.Join(dir, "logs", filepath.FromSlash(ref)))
		if err == nil {
			break
		}
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	var out []plumbing.Hash
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || !plumbing.IsHash(fields[1]) {
			return out, fmt.Errorf("%s:%d: malformed reflog line", f.Name(), n)
		}
		out = append(out, plumbing.NewHash(fields[1]))
	}
	return out, sc.Err()
}

type namedHash struct {
	name string
	hash plumbing.Hash
}

// worktreeHeads returns the detached HEADs of linked worktrees (a HEAD naming a
// branch is already covered by that branch).
func (rp *repo) worktreeHeads() []namedHash {
	dirs, _ := filepath.Glob(filepath.Join(rp.commonDir, "worktrees", "*", "HEAD"))
	var out []namedHash
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		if h := strings.TrimSpace(string(b)); plumbing.IsHash(h) {
			out = append(out, namedHash{"worktrees/" + filepath.Base(filepath.Dir(d)) + "/HEAD", plumbing.NewHash(h)})
		}
	}
	return out
}

package git

import (
	"fmt"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// maxReadFile bounds ReadFileAt: it reads configuration files, never bulk content.
const maxReadFile = 16 << 20

// ReadFileAt returns the content of the file at path (slash-separated, relative to
// the top of the tree) in the commit that rev names (a branch, tag, hash or any
// revision go-git resolves), in the repository holding repoPath. ok is false, with
// no error, when the commit has no regular file there (absent, a directory or a
// submodule). A symlink is an error: it is not followed. git --range reads the
// configuration and ignore files this way from BASE, so that the changes under
// review cannot rewrite the rules they are checked by.
func ReadFileAt(repoPath, rev, file string) (data []byte, ok bool, err error) {
	if file == "" || strings.HasPrefix(file, "/") || path.Clean(file) != file || file == ".." || strings.HasPrefix(file, "../") {
		return nil, false, fmt.Errorf("read %q at %s: want a clean path relative to the top of the tree", file, rev)
	}
	rp, err := openRepo(repoPath)
	if err != nil {
		return nil, false, err
	}
	defer rp.store.close()
	h, err := rp.r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, false, fmt.Errorf("read %s at %s: cannot resolve %q: %w", file, rev, rev, err)
	}
	return rp.fileAt(*h, file)
}

// fileAt reads file from the tree of commit h.
func (rp *repo) fileAt(h plumbing.Hash, file string) ([]byte, bool, error) {
	c, err := rp.readCommit(h)
	if err != nil {
		return nil, false, objectProblem("commit", h, err)
	}
	tree := c.tree
	parts := strings.Split(file, "/")
	for i, name := range parts {
		es, err := rp.readTree(tree)
		if err != nil {
			return nil, false, objectProblem("tree of "+path.Join(parts[:i]...), tree, err)
		}
		var e *treeEntry
		for j := range es {
			if es[j].name == name {
				e = &es[j]
				break
			}
		}
		if e == nil {
			return nil, false, nil
		}
		last := i == len(parts)-1
		switch {
		case e.isDir() && !last:
			tree = e.hash
			continue
		case !last || e.isDir() || e.mode == modeGitlink:
			return nil, false, nil
		case e.mode&0o170000 == modeSymlink:
			return nil, false, fmt.Errorf("%s at %s is a symlink; it is not followed (commit the file itself)", file, h)
		case !e.isBlob():
			return nil, false, nil
		}
		typ, data, err := rp.readObject(e.hash)
		if err != nil {
			return nil, false, objectProblem("blob "+file, e.hash, err)
		}
		if typ != plumbing.BlobObject {
			return nil, false, fmt.Errorf("%s at %s: object %s is a %s, expected a blob", file, h, e.hash, typ)
		}
		if len(data) > maxReadFile {
			return nil, false, fmt.Errorf("%s at %s: %d bytes, over the %d-byte limit for configuration files", file, h, len(data), maxReadFile)
		}
		if data == nil {
			data = []byte{}
		}
		return data, true, nil
	}
	return nil, false, nil
}

// SplitRange splits a --range spec, "BASE..HEAD" or "BASE...HEAD" (symmetric:
// from their merge base). Both sides must be named: git reads an empty side as
// HEAD, so "..HEAD" would scan nothing and pass.
func SplitRange(spec string) (base, head string, symmetric bool, err error) {
	b, h, ok := strings.Cut(spec, "...")
	if ok {
		symmetric = true
	} else if b, h, ok = strings.Cut(spec, ".."); !ok {
		return "", "", false, fmt.Errorf("--range %q: expected BASE..HEAD (e.g. origin/main..HEAD)", spec)
	}
	if b == "" || h == "" {
		return "", "", false, fmt.Errorf("--range %q: a side of the range is empty; name both, e.g. origin/main..HEAD (an empty side would mean HEAD, and the range would hold nothing)", spec)
	}
	return b, h, symmetric, nil
}

// RangeBase resolves the BASE side of a --range spec to a commit hash: BASE
// itself, or for BASE...HEAD the merge base of the two.
func RangeBase(repoPath, spec string) (string, error) {
	rp, err := openRepo(repoPath)
	if err != nil {
		return "", err
	}
	defer rp.store.close()
	base, _, err := rp.parseRange(spec)
	if err != nil {
		return "", err
	}
	return base.String(), nil
}

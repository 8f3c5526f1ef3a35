package git

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/tokenward/tokenward/finding"
)

// staged scans what the index adds against HEAD: each staged blob that differs
// from HEAD's blob at its path, reporting only secrets that HEAD's version of the
// path (or of a file the index deletes, for moves) does not already hold. History
// is not read: only the trees on the paths of staged changes.
func (s *session) staged() {
	idx, err := readIndex(indexPath(s.rp.gitDir))
	if env := os.Getenv("GIT_INDEX_FILE"); env != "" && errors.Is(err, fs.ErrNotExist) {
		// Not "nothing staged": git names the index it commits from, and it is gone.
		s.problem(fmt.Errorf("GIT_INDEX_FILE=%s: no such index file (git sets it for hooks; unset it to scan .git/index)", env))
		return
	}
	if errors.Is(err, fs.ErrNotExist) {
		idx, err = &gitIndex{}, nil // nothing was ever staged
	}
	if err != nil {
		s.problem(fmt.Errorf("reading the index: %w", err))
		return
	}
	ht := &headTrees{rp: s.rp, s: s, dirs: map[string]map[string]treeEntry{}}
	if ref, err := s.rp.r.Head(); err == nil {
		c, err := s.rp.readCommit(ref.Hash())
		if err != nil {
			s.problem(objectProblem("HEAD commit", ref.Hash(), err))
			return
		}
		ht.root = c.tree
	} else if !errors.Is(err, plumbing.ErrReferenceNotFound) {
		s.problem(fmt.Errorf("resolving HEAD: %w", err))
		return
	}
	cache := cacheTree(idx.tree)
	type change struct {
		path string
		blob plumbing.Hash
		head plumbing.Hash // zero when new
	}
	var changes []change
	inIndex := make(map[string]bool, len(idx.entries))
	for _, e := range idx.entries {
		inIndex[e.name] = true
		// Stage 0 is a merged entry; others are sides of an unresolved conflict.
		if e.stage != 0 || e.intentToAdd || e.hash.IsZero() {
			continue
		}
		if e.mode == modeGitlink {
			if he, ok := ht.lookup(e.name); !ok || he.hash != e.hash {
				s.gitlink(e.name)
			}
			continue
		}
		if ht.unchangedDir(path.Dir(e.name), cache) {
			continue
		}
		he, ok := ht.lookup(e.name)
		if ok && he.hash == e.hash {
			continue
		}
		c := change{path: e.name, blob: e.hash}
		if ok && he.isBlob() {
			c.head = he.hash
		}
		changes = append(changes, c)
	}
	for _, c := range changes {
		s.stats.Blobs++
		if _, ok := s.changeScan(c.head, c.blob, c.path); !ok {
			s.scanBlob(c.blob, c.path)
		}
	}
	s.drain()
	var deleted []string // HEAD paths the index no longer has (move sources), found lazily
	deletedDone := false
	for _, c := range changes {
		var fs []finding.Finding
		if key, ok := s.changeScan(c.head, c.blob, c.path); ok {
			fs, _ = s.pool.get(key)
			fs = s.composeAt(key, fs)
		} else {
			fs = s.findingsAt(c.blob, c.path)
		}
		for _, f := range fs {
			if !c.head.IsZero() && s.parentHas(c.head, c.path, f) {
				continue
			}
			if !deletedDone {
				deleted, deletedDone = ht.deletedPaths(inIndex), true
			}
			moved := false
			for _, d := range deleted {
				if he, ok := ht.lookup(d); ok && he.isBlob() && s.parentHas(he.hash, d, f) {
					moved = true
					break
				}
			}
			if moved {
				continue
			}
			f.File = c.path + f.File // an archive member's chain follows the path
			s.out = append(s.out, f)
		}
	}
}

// cacheTree maps directory paths ("" for the root) to the tree hash the index's
// cache-tree extension records for them, for directories whose entry is valid.
func cacheTree(t []cacheTreeEntry) map[string]plumbing.Hash {
	out := map[string]plumbing.Hash{}
	if len(t) == 0 {
		return out
	}
	i := 0
	var walk func(prefix string)
	walk = func(prefix string) {
		e := t[i]
		i++
		dir := prefix + e.path
		if e.entries >= 0 {
			out[dir] = e.hash
		}
		sub := dir
		if sub != "" {
			sub += "/"
		}
		for k := 0; k < e.trees && i < len(t); k++ {
			walk(sub)
		}
	}
	walk("")
	return out
}

// headTrees looks paths up in HEAD's tree, reading each directory once.
type headTrees struct {
	rp   *repo
	s    *session
	root plumbing.Hash
	dirs map[string]map[string]treeEntry
	same map[string]bool
}

func (h *headTrees) dir(dir string) map[string]treeEntry {
	if m, ok := h.dirs[dir]; ok {
		return m
	}
	var m map[string]treeEntry
	var th plumbing.Hash
	if dir == "." || dir == "" {
		th = h.root
	} else if e, ok := h.lookup(dir); ok && e.isDir() {
		th = e.hash
	}
	if !th.IsZero() {
		entries, err := h.rp.readTree(th)
		if err != nil {
			h.s.problem(objectProblem("HEAD tree "+dir, th, err))
		}
		m = make(map[string]treeEntry, len(entries))
		for _, e := range entries {
			m[e.name] = e
		}
	}
	h.dirs[dir] = m
	return m
}

func (h *headTrees) lookup(p string) (treeEntry, bool) {
	if h.root.IsZero() {
		return treeEntry{}, false
	}
	e, ok := h.dir(path.Dir(p))[path.Base(p)]
	return e, ok
}

// unchangedDir reports whether the index's cache-tree says directory dir (or an
// ancestor) is exactly HEAD's, so nothing under it is staged.
func (h *headTrees) unchangedDir(dir string, cache map[string]plumbing.Hash) bool {
	if h.root.IsZero() || len(cache) == 0 {
		return false
	}
	if h.same == nil {
		h.same = map[string]bool{}
	}
	if dir == "." {
		dir = ""
	}
	if v, ok := h.same[dir]; ok {
		return v
	}
	// Ancestors first: an unchanged ancestor answers without reading the HEAD
	// trees below it, so only directories on changed paths are read.
	v := dir != "" && h.unchangedDir(path.Dir(dir), cache)
	if ch, ok := cache[dir]; ok && !v {
		if dir == "" {
			v = ch == h.root
		} else if e, ok := h.lookup(dir); ok && e.isDir() {
			v = ch == e.hash
		}
	}
	h.same[dir] = v
	return v
}

// deletedPaths lists HEAD's file paths missing from the index (a full HEAD walk;
// only done when a staged change has findings).
func (h *headTrees) deletedPaths(inIndex map[string]bool) []string {
	var out []string
	var walk func(dir string, th plumbing.Hash)
	walk = func(dir string, th plumbing.Hash) {
		entries, err := h.rp.readTree(th)
		if err != nil {
			return
		}
		for _, e := range entries {
			p := e.name
			if dir != "" {
				p = dir + "/" + e.name
			}
			if e.isDir() {
				walk(p, e.hash)
			} else if e.isBlob() && !inIndex[p] {
				out = append(out, p)
			}
		}
	}
	if !h.root.IsZero() {
		walk("", h.root)
	}
	return out
}

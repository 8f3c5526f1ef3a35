package git

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// Tree entry modes, as stored in tree objects.
const (
	modeDir     = 0o040000
	modeFile    = 0o100644
	modeExec    = 0o100755
	modeSymlink = 0o120000
	modeGitlink = 0o160000
)

type treeEntry struct {
	name string
	mode uint32
	hash plumbing.Hash
}

func (e treeEntry) isDir() bool  { return e.mode&0o170000 == modeDir }
func (e treeEntry) isBlob() bool { m := e.mode & 0o170000; return m == 0o100000 || m == modeSymlink }

// parseTree decodes a raw tree object: repeated "<octal mode> <name>\0<20-byte hash>".
func parseTree(data []byte) ([]treeEntry, error) {
	var out []treeEntry
	for len(data) > 0 {
		e, rest, err := nextEntry(data)
		if err != nil {
			return out, err
		}
		out = append(out, treeEntry{name: string(e.name), mode: e.mode, hash: e.hash})
		data = rest
	}
	return out, nil
}

// rawEntry is a tree entry whose name points into the tree's content.
type rawEntry struct {
	name []byte
	mode uint32
	hash plumbing.Hash
}

func (e rawEntry) isDir() bool  { return e.mode&0o170000 == modeDir }
func (e rawEntry) isBlob() bool { m := e.mode & 0o170000; return m == 0o100000 || m == modeSymlink }

// nextEntry decodes the first entry of a non-empty raw tree without allocating,
// returning the rest of the tree.
func nextEntry(data []byte) (rawEntry, []byte, error) {
	sp := bytes.IndexByte(data, ' ')
	if sp <= 0 {
		return rawEntry{}, nil, errors.New("malformed tree entry (no mode)")
	}
	var mode uint64
	for _, c := range data[:sp] {
		if c < '0' || c > '7' || mode > 0xffffffff>>3 {
			return rawEntry{}, nil, fmt.Errorf("malformed tree entry mode %q", data[:sp])
		}
		mode = mode<<3 | uint64(c-'0')
	}
	data = data[sp+1:]
	nul := bytes.IndexByte(data, 0)
	if nul < 0 || len(data) < nul+1+20 {
		return rawEntry{}, nil, errors.New("malformed tree entry (truncated)")
	}
	e := rawEntry{name: data[:nul:nul], mode: uint32(mode)}
	copy(e.hash[:], data[nul+1:nul+21])
	return e, data[nul+21:], nil
}

// commitInfo is what provenance needs from a commit object.
type commitInfo struct {
	hash    plumbing.Hash
	tree    plumbing.Hash
	parents []plumbing.Hash
	author  string
	email   string
	when    time.Time
	message []byte
}

// parseCommit decodes a raw commit object.
func parseCommit(h plumbing.Hash, data []byte) (*commitInfo, error) {
	c := &commitInfo{hash: h}
	haveTree := false
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		var line []byte
		if nl < 0 {
			line, data = data, nil
		} else {
			line, data = data[:nl], data[nl+1:]
		}
		if len(line) == 0 { // end of headers
			c.message = data
			break
		}
		if line[0] == ' ' { // continuation of a multi-line header (gpgsig, mergetag)
			continue
		}
		key, val, _ := bytes.Cut(line, []byte{' '})
		switch string(key) {
		case "tree":
			if !plumbing.IsHash(string(val)) {
				return nil, fmt.Errorf("malformed tree line %q", line)
			}
			c.tree = plumbing.NewHash(string(val))
			haveTree = true
		case "parent":
			if !plumbing.IsHash(string(val)) {
				return nil, fmt.Errorf("malformed parent line %q", line)
			}
			c.parents = append(c.parents, plumbing.NewHash(string(val)))
		case "author":
			c.author, c.email, c.when = parseSignature(val)
		}
	}
	if !haveTree {
		return nil, errors.New("commit has no tree")
	}
	return c, nil
}

// parseSignature decodes "Name <email> 1700000000 +0100".
func parseSignature(b []byte) (name, email string, when time.Time) {
	lt := bytes.LastIndexByte(b, '<')
	gt := bytes.LastIndexByte(b, '>')
	if lt < 0 || gt < lt {
		return string(bytes.TrimSpace(b)), "", time.Time{}
	}
	name = string(bytes.TrimSpace(b[:lt]))
	email = string(b[lt+1 : gt])
	rest := bytes.Fields(b[gt+1:])
	if len(rest) >= 1 {
		if sec, err := strconv.ParseInt(string(rest[0]), 10, 64); err == nil {
			when = time.Unix(sec, 0).UTC()
		}
	}
	return name, email, when
}

// tagInfo is what the scan needs from an annotated tag object.
type tagInfo struct {
	target     plumbing.Hash
	targetType plumbing.ObjectType
	name       string
	tagger     string
	email      string
	when       time.Time
	message    []byte
}

func parseTag(data []byte) (*tagInfo, error) {
	t := &tagInfo{}
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		var line []byte
		if nl < 0 {
			line, data = data, nil
		} else {
			line, data = data[:nl], data[nl+1:]
		}
		if len(line) == 0 {
			t.message = data
			break
		}
		key, val, _ := bytes.Cut(line, []byte{' '})
		switch string(key) {
		case "object":
			if !plumbing.IsHash(string(val)) {
				return nil, fmt.Errorf("malformed object line %q", line)
			}
			t.target = plumbing.NewHash(string(val))
		case "type":
			typ, err := plumbing.ParseObjectType(string(val))
			if err != nil {
				return nil, err
			}
			t.targetType = typ
		case "tag":
			t.name = string(val)
		case "tagger":
			t.tagger, t.email, t.when = parseSignature(val)
		}
	}
	if t.target.IsZero() {
		return nil, errors.New("tag has no object line")
	}
	return t, nil
}

// readObject returns the raw content and type of an object.
func (rp *repo) readObject(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	if rp.store != nil {
		return rp.store.readRaw(h)
	}
	return rp.goGitRead(h)
}

// goGitRead reads an object through go-git (loose objects, alternates).
func (rp *repo) goGitRead(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	rp.gitMu.Lock()
	defer rp.gitMu.Unlock()
	obj, err := rp.st.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return plumbing.InvalidObject, nil, err
	}
	r, err := obj.Reader()
	if err != nil {
		return obj.Type(), nil, err
	}
	defer r.Close()
	buf := make([]byte, 0, obj.Size())
	buf, err = readAllInto(r, buf)
	if err != nil {
		return obj.Type(), nil, err
	}
	if int64(len(buf)) != obj.Size() {
		return obj.Type(), nil, fmt.Errorf("object is %d bytes, header says %d", len(buf), obj.Size())
	}
	return obj.Type(), buf, nil
}

func readAllInto(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				return b, nil
			}
			return b, err
		}
	}
}

// readTreeRaw reads a tree object's raw content (see nextEntry).
func (rp *repo) readTreeRaw(h plumbing.Hash) ([]byte, error) {
	typ, data, err := rp.readObject(h)
	if err != nil {
		return nil, err
	}
	if typ != plumbing.TreeObject {
		return nil, fmt.Errorf("object %s is a %s, expected a tree", h, typ)
	}
	return data, nil
}

// readTree reads and decodes a tree object.
func (rp *repo) readTree(h plumbing.Hash) ([]treeEntry, error) {
	typ, data, err := rp.readObject(h)
	if err != nil {
		return nil, err
	}
	if typ != plumbing.TreeObject {
		return nil, fmt.Errorf("object %s is a %s, expected a tree", h, typ)
	}
	return parseTree(data)
}

// readCommit reads and decodes a commit object.
func (rp *repo) readCommit(h plumbing.Hash) (*commitInfo, error) {
	return rp.readCommitFrom(rp.store, h)
}

// readCommitFrom is readCommit through store (a view with a cache of its own,
// for another goroutine), or go-git when store is nil.
func (rp *repo) readCommitFrom(store *objStore, h plumbing.Hash) (*commitInfo, error) {
	var typ plumbing.ObjectType
	var data []byte
	var err error
	if store != nil {
		typ, data, err = store.readRaw(h)
	} else {
		typ, data, err = rp.goGitRead(h)
	}
	if err != nil {
		return nil, err
	}
	if typ != plumbing.CommitObject {
		return nil, fmt.Errorf("object %s is a %s, expected a commit", h, typ)
	}
	return parseCommit(h, data)
}

// objectProblem names an object that could not be read and says what to do.
func objectProblem(what string, h plumbing.Hash, err error) error {
	hint := "run `git fsck` to diagnose; fetch or restore the missing objects and scan again"
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return fmt.Errorf("%s %s: object missing (%s)", what, h, hint)
	}
	return fmt.Errorf("%s %s: %v (%s)", what, h, err, hint)
}

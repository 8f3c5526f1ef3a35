package git

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/go-git/go-git/v5/plumbing"
)

// The index (.git/index) is read by hand for staged scans: go-git's decoder reads
// every field through encoding/binary's reflection and took ~25 ms for an index of
// 11,000 entries, a quarter of a pre-commit hook's budget. Format:
// https://git-scm.com/docs/index-format (versions 2, 3 and 4, SHA-1 repositories).

// indexEntry is what a staged scan needs of one index entry.
type indexEntry struct {
	name        string
	hash        plumbing.Hash
	mode        uint32
	stage       int
	intentToAdd bool
}

// cacheTreeEntry is one node of the cache-tree ("TREE") extension, in its
// pre-order: the directory's path component, its entry count (-1: invalid, the
// directory changed since the tree was written), its number of subtrees and,
// when valid, its tree hash.
type cacheTreeEntry struct {
	path    string
	entries int
	trees   int
	hash    plumbing.Hash
}

type gitIndex struct {
	entries []indexEntry
	tree    []cacheTreeEntry
}

const (
	flagExtended      = 0x4000
	flagStageMask     = 0x3000
	flagNameMask      = 0x0fff
	xflagIntentToAdd  = 0x2000
	indexEntryFixed   = 62 // stat data, hash and flags
	indexTrailerBytes = sha1.Size
)

// indexPath is the index file of the repository whose git directory is gitDir;
// GIT_INDEX_FILE, which git sets for hooks of partial commits, overrides it.
func indexPath(gitDir string) string {
	if p := os.Getenv("GIT_INDEX_FILE"); p != "" {
		return p
	}
	return filepath.Join(gitDir, "index")
}

// readIndex reads an index file; os.ErrNotExist means there is none (a repository
// where nothing was ever staged).
func readIndex(path string) (*gitIndex, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	idx, err := parseIndex(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return idx, nil
}

var errIndexTruncated = errors.New("truncated index (run `git status` to check it, or `rm .git/index && git reset` to rebuild it)")

func parseIndex(data []byte) (*gitIndex, error) {
	if len(data) < 12+indexTrailerBytes {
		return nil, errIndexTruncated
	}
	if string(data[:4]) != "DIRC" {
		return nil, errors.New("not a git index (no DIRC signature)")
	}
	version := binary.BigEndian.Uint32(data[4:])
	if version < 2 || version > 4 {
		return nil, fmt.Errorf("index version %d is not supported (2, 3 and 4 are)", version)
	}
	body, trailer := data[:len(data)-indexTrailerBytes], data[len(data)-indexTrailerBytes:]
	// An all-zero trailer means index.skipHash is set: git wrote no checksum.
	if sum := sha1.Sum(body); !bytes.Equal(sum[:], trailer) && !allZero(trailer) {
		return nil, errors.New("index checksum mismatch: the file is corrupt (run `git status` to check it)")
	}
	count := binary.BigEndian.Uint32(data[8:])
	idx := &gitIndex{entries: make([]indexEntry, 0, min(int(count), len(body)/indexEntryFixed))}
	off := 12
	var prev []byte // previous name, for version 4's prefix compression
	for range count {
		if off+indexEntryFixed > len(body) {
			return nil, errIndexTruncated
		}
		start := off
		e := indexEntry{mode: binary.BigEndian.Uint32(body[off+24:])}
		copy(e.hash[:], body[off+40:off+60])
		flags := binary.BigEndian.Uint16(body[off+60:])
		e.stage = int(flags&flagStageMask) >> 12
		off += indexEntryFixed
		if flags&flagExtended != 0 {
			if version < 3 {
				return nil, fmt.Errorf("entry at byte %d has extended flags in a version %d index", start, version)
			}
			if off+2 > len(body) {
				return nil, errIndexTruncated
			}
			e.intentToAdd = binary.BigEndian.Uint16(body[off:])&xflagIntentToAdd != 0
			off += 2
		}
		var name []byte
		if version == 4 {
			strip, n := indexVarint(body[off:])
			if n <= 0 || strip > uint64(len(prev)) {
				return nil, fmt.Errorf("entry at byte %d: bad path prefix length", start)
			}
			off += n
			end := bytes.IndexByte(body[off:], 0)
			if end < 0 {
				return nil, errIndexTruncated
			}
			name = append(prev[:len(prev)-int(strip):len(prev)-int(strip)], body[off:off+end]...)
			off += end + 1
		} else {
			end := int(flags & flagNameMask)
			if end == flagNameMask { // 4095 bytes or more: NUL-terminated
				end = bytes.IndexByte(body[off:], 0)
			}
			if end < 0 || off+end >= len(body) {
				return nil, errIndexTruncated
			}
			name = body[off : off+end]
			// The entry is NUL-padded to a multiple of 8 bytes (1 to 8 NULs).
			off = start + (off-start+end+8)&^7
		}
		e.name = string(name)
		prev = append(prev[:0], name...)
		idx.entries = append(idx.entries, e)
	}
	for off+8 <= len(body) {
		sig := string(body[off : off+4])
		size := int(binary.BigEndian.Uint32(body[off+4:]))
		off += 8
		if size < 0 || off+size > len(body) {
			return nil, fmt.Errorf("extension %q: %w", sig, errIndexTruncated)
		}
		ext := body[off : off+size]
		off += size
		switch {
		case sig == "TREE":
			t, err := parseCacheTree(ext)
			if err != nil {
				return nil, fmt.Errorf("cache-tree extension: %w", err)
			}
			idx.tree = t
		case sig[0] >= 'A' && sig[0] <= 'Z':
			// Optional extension (resolve-undo, untracked cache, ...): not needed.
		default:
			return nil, fmt.Errorf("index extension %q is required to read the index but not supported (a split or sparse index: run `git update-index --no-split-index` or `git sparse-checkout disable`)", sig)
		}
	}
	if off != len(body) {
		return nil, errIndexTruncated
	}
	return idx, nil
}

// indexVarint decodes git's offset varint (used by index version 4); n <= 0 on error.
func indexVarint(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	v = uint64(b[0] & 0x7f)
	n = 1
	for b[n-1]&0x80 != 0 {
		if n >= len(b) || n > 9 {
			return 0, -1
		}
		v = (v+1)<<7 | uint64(b[n]&0x7f)
		n++
	}
	return v, n
}

func parseCacheTree(b []byte) ([]cacheTreeEntry, error) {
	var out []cacheTreeEntry
	for len(b) > 0 {
		nul := bytes.IndexByte(b, 0)
		if nul < 0 {
			return nil, errIndexTruncated
		}
		e := cacheTreeEntry{path: string(b[:nul])}
		b = b[nul+1:]
		sp, nl := bytes.IndexByte(b, ' '), bytes.IndexByte(b, '\n')
		if sp < 0 || nl < sp {
			return nil, fmt.Errorf("entry %q: malformed counts", e.path)
		}
		var err error
		if e.entries, err = strconv.Atoi(string(b[:sp])); err != nil {
			return nil, fmt.Errorf("entry %q: %w", e.path, err)
		}
		if e.trees, err = strconv.Atoi(string(b[sp+1 : nl])); err != nil || e.trees < 0 {
			return nil, fmt.Errorf("entry %q: bad subtree count", e.path)
		}
		b = b[nl+1:]
		if e.entries >= 0 {
			if len(b) < sha1.Size {
				return nil, errIndexTruncated
			}
			copy(e.hash[:], b[:sha1.Size])
			b = b[sha1.Size:]
		}
		out = append(out, e)
	}
	return out, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Package acdfa finds every occurrence of a set of literals in a byte slice, ASCII
// case-insensitively, with an Aho-Corasick automaton compiled to a dense DFA.
//
// It exists for speed: the scanner's anchor pass sees about one hit per 4 KB of
// source, so nearly all of its time is the per-byte transition. Here that is one
// class lookup and one table load, with match states numbered first so a single
// comparison tells whether the new state reports anything. Matches are reported in
// the order github.com/petar-dambovaliev/aho-corasick's overlapping iterator reports
// them (by end offset, then longest pattern first); a differential test keeps the
// two in agreement.
package acdfa

import (
	"errors"
	"fmt"
	"slices"
)

// Match is one occurrence of a pattern: Pattern indexes the slice given to New and
// the pattern occupies the scanned bytes [Start, End).
type Match struct {
	Pattern    int
	Start, End int
}

// Matcher is a compiled pattern set. It is immutable and safe for concurrent use.
type Matcher struct {
	class  [256]byte // byte -> input class; A-Z share the class of a-z
	trans  []uint32  // premultiplied: trans[state+class] is the next state (itself premultiplied)
	stride uint32    // classes per state
	root   uint32
	// States below matchLimit (premultiplied) report matches: outs[state/stride]
	// lists their patterns, longest first.
	matchLimit uint32
	outs       [][]int32
	lens       []int
	maxLen     int
}

// maxStates bounds the automaton so premultiplied ids fit in uint32.
const maxStates = 1 << 22

// MaxPatternBytes is the most pattern bytes New accepts in all: up to it, the
// automaton cannot have more than maxStates states.
const MaxPatternBytes = maxStates - 1

// New compiles patterns. Patterns are matched ASCII case-insensitively; other
// bytes must match exactly. Empty patterns are rejected (they would match at every
// offset), and so are duplicates, which would make the reported index ambiguous.
func New(patterns []string) (*Matcher, error) {
	if len(patterns) == 0 {
		return nil, errors.New("acdfa: no patterns")
	}
	m := &Matcher{lens: make([]int, len(patterns))}

	// Input classes: one per distinct (folded) byte used by a pattern, and class 0
	// for every byte that appears in none.
	var used [256]bool
	for i, p := range patterns {
		if p == "" {
			return nil, fmt.Errorf("acdfa: pattern %d is empty", i)
		}
		m.lens[i] = len(p)
		m.maxLen = max(m.maxLen, len(p))
		for j := 0; j < len(p); j++ {
			used[fold(p[j])] = true
		}
	}
	nc := 1
	for b := range 256 {
		if used[b] {
			m.class[b] = byte(nc)
			nc++
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		m.class[b] = m.class[b+'a'-'A']
	}
	stride := nc

	// Trie over classes, in delta: delta[s*stride+c] is the child of s on c, or 0
	// for none (the root is nobody's child).
	size := 1
	for _, p := range patterns {
		size += len(p)
	}
	delta := make([]int32, size*stride)
	own := make([]int32, 1, size) // state -> pattern ending exactly there, or -1
	own[0] = -1
	for pi, p := range patterns {
		s := int32(0)
		for j := 0; j < len(p); j++ {
			c := int(m.class[p[j]])
			next := delta[int(s)*stride+c]
			if next == 0 {
				next = int32(len(own))
				own = append(own, -1)
				delta[int(s)*stride+c] = next
			}
			s = next
		}
		if own[s] >= 0 {
			return nil, fmt.Errorf("acdfa: patterns %d and %d are equal ignoring ASCII case", own[s], pi)
		}
		own[s] = int32(pi)
	}
	n := len(own)
	if n > maxStates {
		return nil, fmt.Errorf("acdfa: %d states, more than %d", n, maxStates)
	}
	delta = delta[:n*stride]

	// Breadth-first, turning delta into the full transition function in place: when
	// a state is reached, its failure state (shallower) is complete, and its own row
	// still holds only trie children. A state's outputs are its own pattern, then its
	// failure state's outputs (longest first). The root's row is complete already:
	// 0 is the root.
	fail := make([]int32, n)
	outs := make([][]int32, n)
	queue := make([]int32, 0, n)
	for c := range stride {
		if t := delta[c]; t != 0 {
			queue = append(queue, t)
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		if own[s] >= 0 {
			outs[s] = append(outs[s], own[s])
		}
		outs[s] = append(outs[s], outs[fail[s]]...)
		row, frow := delta[int(s)*stride:][:stride], delta[int(fail[s])*stride:][:stride]
		for c, t := range row {
			if t != 0 {
				fail[t] = frow[c]
				queue = append(queue, t)
			} else {
				row[c] = frow[c]
			}
		}
	}

	// Renumber: match states first, so "reports a match" is one comparison.
	// Each group is in breadth-first order, root first: the shallow states, where
	// the scan spends nearly all its time, share cache lines.
	bfs := append([]int32{0}, queue...)
	order := make([]int32, 0, n) // new -> old
	for _, s := range bfs {
		if len(outs[s]) > 0 {
			order = append(order, s)
		}
	}
	nMatch := len(order)
	for _, s := range bfs {
		if len(outs[s]) == 0 {
			order = append(order, s)
		}
	}
	renum := make([]uint32, n) // old -> new, premultiplied
	for ns, os := range order {
		renum[os] = uint32(ns * stride)
	}
	m.trans = make([]uint32, n*stride)
	for ns, os := range order {
		for c := range stride {
			m.trans[ns*stride+c] = renum[delta[int(os)*stride+c]]
		}
	}
	m.outs = make([][]int32, nMatch)
	for ns := range nMatch {
		m.outs[ns] = outs[order[ns]]
	}
	m.stride = uint32(stride)
	m.root = renum[0]
	m.matchLimit = uint32(nMatch * stride)
	return m, nil
}

func fold(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// States reports the automaton's size: states and input classes.
func (m *Matcher) States() (states, classes int) {
	return len(m.trans) / int(m.stride), int(m.stride)
}

// Append appends every match in buf to dst, overlapping ones included, ordered by
// end offset and, at the same end, longest pattern first.
//
// A DFA scan is bound by the latency of its table loads, each depending on the one
// before. A long buffer is therefore cut in four parts scanned by four independent
// state chains in one loop; each part but the first starts maxLen-1 bytes early so
// that matches crossing a cut are found by the part they end in.
func (m *Matcher) Append(dst []Match, buf []byte) []Match {
	n := len(buf)
	q := n / 4
	if q < minPart || q < m.maxLen {
		return m.scan(dst, buf, 0, m.root)
	}
	from := len(dst)
	trans, class, lim := m.trans, &m.class, m.matchLimit
	s0, s1, s2, s3 := m.root, m.warm(buf[:q]), m.warm(buf[:2*q]), m.warm(buf[:3*q])
	b0, b1, b2, b3 := buf[:q], buf[q:2*q], buf[2*q:3*q], buf[3*q:4*q]
	for i := range b0 {
		s0 = trans[s0+uint32(class[b0[i]])]
		s1 = trans[s1+uint32(class[b1[i]])]
		s2 = trans[s2+uint32(class[b2[i]])]
		s3 = trans[s3+uint32(class[b3[i]])]
		if s0 < lim || s1 < lim || s2 < lim || s3 < lim {
			if s0 < lim {
				dst = m.emit(dst, s0, i+1)
			}
			if s1 < lim {
				dst = m.emit(dst, s1, q+i+1)
			}
			if s2 < lim {
				dst = m.emit(dst, s2, 2*q+i+1)
			}
			if s3 < lim {
				dst = m.emit(dst, s3, 3*q+i+1)
			}
		}
	}
	dst = m.scan(dst, buf, 4*q, s3)
	// The parts' matches were appended interleaved; each part's are in order.
	if hits := dst[from:]; !slices.IsSortedFunc(hits, byEnd) {
		slices.SortStableFunc(hits, byEnd)
	}
	return dst
}

// minPart is the shortest part worth a state chain of its own.
const minPart = 256

func byEnd(a, b Match) int { return a.End - b.End }

// scan runs the automaton from state s over buf[from:], appending matches.
func (m *Matcher) scan(dst []Match, buf []byte, from int, s uint32) []Match {
	trans, class, lim := m.trans, &m.class, m.matchLimit
	for i := from; i < len(buf); i++ {
		s = trans[s+uint32(class[buf[i]])]
		if s < lim {
			dst = m.emit(dst, s, i+1)
		}
	}
	return dst
}

// warm returns the state after the last maxLen-1 bytes of buf, read from the root:
// the state a scan of the whole buf would be in, as far as matches ending after
// buf are concerned.
func (m *Matcher) warm(buf []byte) uint32 {
	trans, class := m.trans, &m.class
	s := m.root
	for _, c := range buf[len(buf)-(m.maxLen-1):] {
		s = trans[s+uint32(class[c])]
	}
	return s
}

// emit appends the matches of match state s, which ends at offset end.
func (m *Matcher) emit(dst []Match, s uint32, end int) []Match {
	for _, p := range m.outs[s/m.stride] {
		dst = append(dst, Match{Pattern: int(p), Start: end - m.lens[p], End: end})
	}
	return dst
}

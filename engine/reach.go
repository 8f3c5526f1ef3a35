package engine

import (
	"fmt"
	"strings"
	"sync"

	"github.com/tokenward/tokenward/engine/internal/acdfa"
)

// Locality: what a source that scans only the changed parts of a blob (a packed
// git delta) may rely on to get exactly a full scan's findings.
//
// A full scan's findings factor at a quiet line start p (p = 0, or data[p-1] is
// '\n'; and no occurrence of an anchor of a spanning rule overlaps
// data[p-Reach() : p+Reach()], see SpanningHits): the
// findings that start before p are exactly those of scanning data[:p] alone, and
// those that start at or after p exactly those of scanning data[p:] alone, their
// lines shifted by the lines before p. So a blob cut at quiet line starts can be
// scanned part by part, and a part whose bytes equal a part of another blob cut
// the same way has that part's findings.
//
// Why it holds:
//   - A rule whose matches stay on one line (Rule.SingleLine, anchors without a
//     newline) runs on the anchor's line only: its windows, the line tested by
//     inline allow comments and allow lists, and the reported context end at the
//     line's ends, so its findings on a line depend on that line alone.
//   - Encoded runs (base64, hex, percent, \u) hold no newline, are found from the
//     start of their run, and their decoded text is scanned on its own.
//   - A spanning rule reads a window of MaxLen bytes around each anchor hit,
//     widened by lineSlack to a line boundary, merged with overlapping windows;
//     its inline-allow line reaches lineSlack further. With no hit within Reach()
//     of p, every such window and what it reads lies on one side of p. (Merged
//     windows only join windows that overlap, each around a hit of its own.)
//   - Generic findings are dropped or deduplicated only against findings whose
//     spans overlap theirs, which lie on the same side.

// Reach is how far from a cut point no anchor occurrence of a spanning rule may
// reach for findings to factor there; 0 when no rule spans lines.
func (e *Engine) Reach() int {
	e.spanOnce()
	return e.span.reach
}

// SpanningHits appends to dst the [start, end) offsets in data of every occurrence
// of an anchor of a spanning rule (ASCII case folded, as the scan matches anchors)
// that overlaps data[lo:hi].
func (e *Engine) SpanningHits(dst [][2]int, data []byte, lo, hi int) [][2]int {
	e.spanOnce()
	if e.span.matcher == nil {
		return dst
	}
	lo, hi = max(lo, 0), min(hi, len(data))
	if lo >= hi {
		return dst
	}
	from, to := max(lo-e.span.maxAnchor+1, 0), min(hi+e.span.maxAnchor-1, len(data))
	for _, m := range e.span.matcher.Append(nil, data[from:to]) {
		if s, end := from+m.Start, from+m.End; end > lo && s < hi {
			dst = append(dst, [2]int{s, end})
		}
	}
	return dst
}

// spanning is the automaton of the spanning rules' anchors, built on first use.
type spanning struct {
	once      sync.Once
	matcher   *acdfa.Matcher
	reach     int
	maxAnchor int
}

func (e *Engine) spanOnce() {
	e.span.once.Do(func() {
		seen := map[string]bool{}
		var patterns []string
		maxLen := 0
		for _, r := range e.rules {
			spans := !r.SingleLine
			for _, a := range r.Anchors {
				spans = spans || strings.ContainsAny(a, "\n")
			}
			if !spans {
				continue
			}
			maxLen = max(maxLen, r.MaxLen)
			for _, a := range r.Anchors {
				a = asciiLower(a)
				e.span.maxAnchor = max(e.span.maxAnchor, len(a))
				if !seen[a] {
					seen[a] = true
					patterns = append(patterns, a)
				}
			}
		}
		if len(patterns) == 0 {
			return
		}
		m, err := acdfa.New(patterns)
		if err != nil {
			// New accepted these anchors as part of the whole set.
			panic(fmt.Sprintf("engine: building the spanning anchors' automaton: %v", err))
		}
		e.span.matcher = m
		// A hit [s, e) reads up to e+MaxLen, widened by lineSlack to a line end,
		// whose inline-allow line reaches lineSlack further, plus the byte that
		// tells whether the window was cut; symmetrically before s. So a hit that
		// overlaps no byte within reach of p reads nothing across p.
		e.span.reach = maxLen + 2*lineSlack + 2
	})
}

// Package refilter derives, from a regex, a cheaper test that answers the same
// yes/no question: does the regex match somewhere in the input?
//
// The scanner runs each rule's regex over short windows around anchor hits, and
// nearly all windows hold no match. Go's regexp costs time in proportion to the
// size of the compiled program times the input length; rule regexes spend most of
// their program on bounded repeats at their ends ([\w.-]{0,40}? before a keyword,
// [A-Za-z0-9._-]{1,255} after an @) that cannot change whether a match exists.
// The filter drops or shortens those, and lists literals every match must hold.
package refilter

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"

	"github.com/tokenward/tokenward/rules"
)

// Filter tells whether a regex matches somewhere in an input, with the same
// answer as the regex's Match.
type Filter struct {
	re       *regexp.Regexp // the reduced regex
	literals [][]byte       // case-sensitive literals every match contains
	// When every match of the reduced regex starts with a byte in first (and no
	// assertion comes before that byte), anchored runs \A(?:re) at those bytes
	// only.
	anchored *regexp.Regexp
	first    *[256]bool
}

// New derives a filter from the regex source src (Perl syntax, as regexp.Compile).
// With noNewline, the filter answers for src rewritten never to match a newline:
// character classes lose '\n' and any-character becomes any-character-but-newline
// (rules.WithoutNewline).
func New(src string, noNewline bool) (*Filter, error) {
	tree, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, err
	}
	if noNewline {
		tree = rules.WithoutNewline(tree)
	}
	tree = reduce(tree)
	f := &Filter{}
	// A regex that starts with a case-sensitive literal runs unanchored: regexp then
	// skips to the literal's occurrences itself, faster than trying each start.
	if lead := concatElems(tree)[0]; lead.Op != syntax.OpLiteral || lead.Flags&syntax.FoldCase != 0 {
		f.first, _ = firstBytes(tree)
	}
	if f.first != nil {
		f.anchored, err = regexp.Compile(`\A(?:` + tree.String() + `)`)
	} else {
		f.re, err = regexp.Compile(tree.String())
	}
	if err != nil {
		return nil, err
	}
	for _, sub := range concatElems(tree) {
		if sub.Op == syntax.OpLiteral && sub.Flags&syntax.FoldCase == 0 {
			f.literals = append(f.literals, []byte(string(sub.Rune)))
		}
	}
	return f, nil
}

// Match reports whether the filter's regex matches somewhere in b.
func (f *Filter) Match(b []byte) bool {
	for _, l := range f.literals {
		if !bytes.Contains(b, l) {
			return false
		}
	}
	if f.anchored == nil {
		return f.re.Match(b)
	}
	for i, c := range b {
		if f.first[c] && f.anchored.Match(b[i:]) {
			return true
		}
	}
	return false
}

// String returns the reduced regex, anchored when the filter tries it at chosen
// offsets.
func (f *Filter) String() string {
	if f.anchored != nil {
		return f.anchored.String()
	}
	return f.re.String()
}

func concatElems(re *syntax.Regexp) []*syntax.Regexp {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if re.Op == syntax.OpConcat {
		return re.Sub
	}
	return []*syntax.Regexp{re}
}

// reduce rewrites re, a whole regex, into one that matches somewhere in an input
// exactly when re does. With re = A B ... Z:
//   - a leading or trailing element that matches the empty string unconditionally
//     goes: if A B … Z matches then B … Z matches inside it, and B … Z matching
//     lets A match empty in front of it;
//   - a leading or trailing repeat X{m,n} becomes X{m}: any match with more
//     repetitions holds one with m, cut at the (repeat's) end facing outward.
func reduce(re *syntax.Regexp) *syntax.Regexp {
	re = withoutCaptures(re)
	if re.Op != syntax.OpConcat {
		return minRepeat(re)
	}
	subs := re.Sub
	for len(subs) > 1 && nullable(subs[0]) {
		subs = subs[1:]
	}
	for len(subs) > 1 && nullable(subs[len(subs)-1]) {
		subs = subs[:len(subs)-1]
	}
	subs = append([]*syntax.Regexp(nil), subs...)
	subs[0] = minRepeat(subs[0])
	subs[len(subs)-1] = minRepeat(subs[len(subs)-1])
	if len(subs) == 1 {
		return subs[0]
	}
	return &syntax.Regexp{Op: syntax.OpConcat, Flags: re.Flags, Sub: subs}
}

// withoutCaptures replaces each capture group by its contents: a yes/no answer
// needs no submatch positions.
func withoutCaptures(re *syntax.Regexp) *syntax.Regexp {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if len(re.Sub) == 0 {
		return re
	}
	out := *re
	out.Sub = make([]*syntax.Regexp, len(re.Sub))
	for i, s := range re.Sub {
		out.Sub[i] = withoutCaptures(s)
	}
	return &out
}

// nullable reports whether re matches the empty string wherever it is tried.
func nullable(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpStar, syntax.OpQuest:
		return true
	case syntax.OpRepeat:
		return re.Min == 0 || nullable(re.Sub[0])
	case syntax.OpCapture, syntax.OpPlus:
		return nullable(re.Sub[0])
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !nullable(s) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if nullable(s) {
				return true
			}
		}
	}
	return false
}

// minRepeat turns X{m,n}, X+ (X{1,}) and captures of them into X{m}.
func minRepeat(re *syntax.Regexp) *syntax.Regexp {
	inner := re
	for inner.Op == syntax.OpCapture {
		inner = inner.Sub[0]
	}
	switch inner.Op {
	case syntax.OpPlus:
		return inner.Sub[0]
	case syntax.OpRepeat:
		if inner.Min == 1 {
			return inner.Sub[0]
		}
		if inner.Min > 1 && inner.Max != inner.Min {
			return &syntax.Regexp{Op: syntax.OpRepeat, Flags: inner.Flags &^ syntax.NonGreedy, Min: inner.Min, Max: inner.Min, Sub: inner.Sub}
		}
	}
	return re
}

// firstBytes returns the bytes a match of re can start with. ok is false when a
// match may start with an empty-width assertion (which would look at the byte
// before the match) or can be empty.
func firstBytes(re *syntax.Regexp) (*[256]bool, bool) {
	var set [256]bool
	if nullable, ok := first(re, &set); !ok || nullable {
		return nil, false
	}
	return &set, true
}

// first adds to set the bytes that can start a non-empty match of re. nullable
// reports that re can match the empty string; ok is false when re holds something
// first cannot bound (an assertion before any byte, any-char).
func first(re *syntax.Regexp, set *[256]bool) (nullable, ok bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return true, true
	case syntax.OpLiteral:
		r := re.Rune[0]
		addRune(set, r)
		if re.Flags&syntax.FoldCase != 0 {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				addRune(set, f)
			}
		}
		return false, true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
				set[r] = true
			}
			if hi >= utf8.RuneSelf { // any non-ASCII byte: a safe superset
				addNonASCII(set)
			}
		}
		return false, true
	case syntax.OpCapture:
		return first(re.Sub[0], set)
	case syntax.OpStar, syntax.OpQuest:
		_, ok := first(re.Sub[0], set)
		return true, ok
	case syntax.OpPlus:
		return first(re.Sub[0], set)
	case syntax.OpRepeat:
		if re.Max == 0 {
			return true, true
		}
		n, ok := first(re.Sub[0], set)
		return n || re.Min == 0, ok
	case syntax.OpConcat:
		for _, s := range re.Sub {
			n, ok := first(s, set)
			if !ok {
				return false, false
			}
			if !n {
				return false, true
			}
		}
		return true, true
	case syntax.OpAlternate:
		nullable := false
		for _, s := range re.Sub {
			n, ok := first(s, set)
			if !ok {
				return false, false
			}
			nullable = nullable || n
		}
		return nullable, true
	}
	return false, false // assertions, any-char, no-match
}

// addRune adds the first byte of r's UTF-8 encoding. regexp reads each invalid
// byte as utf8.RuneError, so that rune may start at any non-ASCII byte.
func addRune(set *[256]bool, r rune) {
	if r == utf8.RuneError {
		addNonASCII(set)
		return
	}
	var buf [utf8.UTFMax]byte
	utf8.EncodeRune(buf[:], r)
	set[buf[0]] = true
}

func addNonASCII(set *[256]bool) {
	for b := utf8.RuneSelf; b < 0x100; b++ {
		set[b] = true
	}
}

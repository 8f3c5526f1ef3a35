package rules

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// minAnchorLen is the shortest literal the prefilter accepts as an anchor: shorter
// ones hit too often to narrow anything down.
const minAnchorLen = 3

// Limits on the window a rule's regex is run in.
const (
	unboundedRepeat = 64   // bytes assumed for one unbounded repeat (x*, x+)
	maxWindow       = 8192 // longest match any rule may produce
	keywordSlack    = 128  // how far outside a match a keyword may sit
)

// deriveAnchors returns lower-case literals such that every match of re contains at
// least one of them, or nil when no such set of useful literals exists.
func deriveAnchors(re *syntax.Regexp) []string {
	set, ok := required(re)
	if !ok || minLen(set) < minAnchorLen {
		return nil
	}
	return dedupe(set)
}

// maxMatchLen bounds the length in bytes of any match of re, counting each unbounded
// repeat as unboundedRepeat bytes and capping the total at maxWindow.
func maxMatchLen(re *syntax.Regexp) int {
	n := maxLen(re)
	if n > maxWindow {
		return maxWindow
	}
	return n
}

func maxLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += utf8.RuneLen(r)
		}
		return n
	case syntax.OpCharClass:
		w := 1
		for i := 1; i < len(re.Rune); i += 2 {
			if l := utf8.RuneLen(re.Rune[i]); l > w {
				w = l
			}
			if re.Rune[i] > utf8.MaxRune {
				w = 4
			}
		}
		return w
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpCapture, syntax.OpQuest:
		return maxLen(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return clampAdd(unboundedRepeat, 0)
	case syntax.OpRepeat:
		if re.Max < 0 {
			return clampAdd(re.Min*maxLen(re.Sub[0]), unboundedRepeat)
		}
		return clampMul(re.Max, maxLen(re.Sub[0]))
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n = clampAdd(n, maxLen(s))
		}
		return n
	case syntax.OpAlternate:
		n := 0
		for _, s := range re.Sub {
			n = max(n, maxLen(s))
		}
		return n
	default: // empty, anchors, word boundaries
		return 0
	}
}

func clampAdd(a, b int) int { return min(a+b, 1<<20) }
func clampMul(a, b int) int {
	if a != 0 && b > (1<<20)/a {
		return 1 << 20
	}
	return a * b
}

// required returns a set of literals one of which occurs in every match.
func required(re *syntax.Regexp) ([]string, bool) {
	if set, ok := exact(re, 64); ok && minLen(set) >= minAnchorLen {
		return set, true
	}
	switch re.Op {
	case syntax.OpCapture:
		return required(re.Sub[0])
	case syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpAlternate:
		var all []string
		for _, s := range re.Sub {
			set, ok := required(s)
			if !ok {
				return nil, false
			}
			all = append(all, set...)
		}
		return all, true
	case syntax.OpConcat:
		var best []string
		consider := func(set []string) {
			if better(set, best) {
				best = set
			}
		}
		// Runs of children with small exact sets form longer literals.
		for i := 0; i < len(re.Sub); i++ {
			prod := []string{""}
			for j := i; j < len(re.Sub); j++ {
				set, ok := exact(re.Sub[j], 64)
				if !ok {
					break
				}
				prod = cross(prod, set, 64)
				if prod == nil {
					break
				}
				consider(prod)
			}
		}
		for _, s := range re.Sub {
			if set, ok := required(s); ok {
				consider(set)
			}
		}
		return best, best != nil
	}
	return nil, false
}

// better prefers the set whose shortest literal is longer, then the smaller set.
func better(a, b []string) bool {
	if len(a) == 0 {
		return false
	}
	if b == nil {
		return true
	}
	ma, mb := minLen(a), minLen(b)
	if ma != mb {
		return ma > mb
	}
	return len(a) < len(b)
}

// exact returns every string re can match, lower-cased, when there are at most limit.
func exact(re *syntax.Regexp, limit int) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}, true
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(re.Rune))}, true
	case syntax.OpCharClass:
		var out []string
		seen := map[string]bool{}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] > 26 {
				return nil, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				s := strings.ToLower(string(r))
				if !seen[s] {
					seen[s] = true
					out = append(out, s)
				}
			}
		}
		if len(out) == 0 || len(out) > 8 {
			return nil, false
		}
		return out, true
	case syntax.OpCapture:
		return exact(re.Sub[0], limit)
	case syntax.OpQuest:
		set, ok := exact(re.Sub[0], limit)
		if !ok {
			return nil, false
		}
		return append([]string{""}, set...), true
	case syntax.OpRepeat:
		if re.Max < 0 || re.Max > 4 || re.Min != re.Max {
			return nil, false
		}
		set, ok := exact(re.Sub[0], limit)
		if !ok {
			return nil, false
		}
		prod := []string{""}
		for range re.Min {
			if prod = cross(prod, set, limit); prod == nil {
				return nil, false
			}
		}
		return prod, true
	case syntax.OpConcat:
		prod := []string{""}
		for _, s := range re.Sub {
			set, ok := exact(s, limit)
			if !ok {
				return nil, false
			}
			if prod = cross(prod, set, limit); prod == nil {
				return nil, false
			}
		}
		return prod, true
	case syntax.OpAlternate:
		var all []string
		for _, s := range re.Sub {
			set, ok := exact(s, limit)
			if !ok {
				return nil, false
			}
			all = append(all, set...)
		}
		if len(all) > limit {
			return nil, false
		}
		return all, true
	}
	return nil, false
}

func cross(a, b []string, limit int) []string {
	if len(a)*len(b) > limit {
		return nil
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}

func minLen(set []string) int {
	if len(set) == 0 {
		return 0
	}
	m := len(set[0])
	for _, s := range set[1:] {
		m = min(m, len(s))
	}
	return m
}

// dedupe drops duplicates and literals that contain another literal of the set
// (the shorter one already fires wherever the longer one would).
func dedupe(set []string) []string {
	var out []string
	for i, s := range set {
		redundant := false
		for j, t := range set {
			if i != j && strings.Contains(s, t) && (len(t) < len(s) || j < i) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, s)
		}
	}
	return out
}

// explicitNewline reports whether a regex source asks for matches across lines:
// a literal newline, a dot-matches-newline flag, or a class of everything.
func explicitNewline(src string) bool {
	for _, m := range []string{`\n`, `(?s`, `\x0a`, `\x0A`, `\s\S`, `\S\s`, `\d\D`, `\D\d`, `\w\W`, `\W\w`, `[^`} {
		if strings.Contains(src, m) {
			return true
		}
	}
	return false
}

// WithoutNewline rewrites re so that it never matches a newline: character classes
// lose '\n' and any-character becomes any-character-but-newline. It is the form a
// single-line rule's regex takes on one line (the engine's window pre-test).
func WithoutNewline(re *syntax.Regexp) *syntax.Regexp {
	out := *re
	switch re.Op {
	case syntax.OpAnyChar:
		out.Op = syntax.OpAnyCharNotNL
	case syntax.OpCharClass:
		var rs []rune
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			switch {
			case hi < '\n' || lo > '\n':
				rs = append(rs, lo, hi)
			default:
				if lo < '\n' {
					rs = append(rs, lo, '\n'-1)
				}
				if hi > '\n' {
					rs = append(rs, '\n'+1, hi)
				}
			}
		}
		out.Rune = rs
	}
	if len(re.Sub) > 0 {
		out.Sub = make([]*syntax.Regexp, len(re.Sub))
		for i, s := range re.Sub {
			out.Sub[i] = WithoutNewline(s)
		}
	}
	return &out
}

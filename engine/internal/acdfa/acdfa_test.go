package acdfa

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	ac "github.com/petar-dambovaliev/aho-corasick"

	"github.com/tokenward/tokenward/rules"
)

// oracle returns the matches github.com/petar-dambovaliev/aho-corasick reports, in
// its order, with the options the scanner used with it.
func oracle(patterns []string, buf []byte) []Match {
	b := ac.NewAhoCorasickBuilder(ac.Opts{AsciiCaseInsensitive: true, MatchKind: ac.StandardMatch, DFA: true})
	lib := b.Build(patterns)
	var out []Match
	it := lib.IterOverlappingByte(buf)
	for x := it.Next(); x != nil; x = it.Next() {
		out = append(out, Match{Pattern: x.Pattern(), Start: x.Start(), End: x.End()})
	}
	return out
}

func check(t *testing.T, patterns []string, buf []byte) {
	t.Helper()
	m, err := New(patterns)
	if err != nil {
		t.Fatalf("New(%q): %v", patterns, err)
	}
	got := m.Append(nil, buf)
	want := oracle(patterns, buf)
	if !slices.Equal(got, want) {
		t.Fatalf("patterns %q, input %q:\n got  %v\n want %v", patterns, buf, got, want)
	}
}

func TestAgainstLibrary(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		input    string
	}{
		{"one", []string{"token"}, "a token, a TOKEN, a ToKeN and tokentoken"},
		{"nested", []string{"he", "she", "his", "hers"}, "ushers and HIS shed; she hers"},
		{"suffixes", []string{"abcd", "bcd", "cd", "d"}, "abcdabcd xbcd"},
		{"prefixes", []string{"a", "ab", "abc"}, "abcabxa"},
		{"overlapping self", []string{"aaa"}, "aaaaaa"},
		{"punctuation", []string{"://", "sg.", "auth\"", "define("}, `x://y SG.a AUTH"b define(`},
		{"non-ASCII bytes", []string{"é", "ß-key"}, "cafÉ café ß-KEY ẞ-key"},
		{"no match", []string{"secret"}, "nothing to see here"},
		{"empty input", []string{"x"}, ""},
		{"mixed case patterns", []string{"AbC", "xYz"}, "abc ABC xyz XYZ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, tt.patterns, []byte(tt.input))
		})
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		want     string
	}{
		{"none", nil, "no patterns"},
		{"empty", []string{"a", ""}, "pattern 1 is empty"},
		{"duplicate ignoring case", []string{"key", "x", "KEY"}, "patterns 0 and 2 are equal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.patterns)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New(%q) = %v, want error containing %q", tt.patterns, err, tt.want)
			}
		})
	}
}

// builtinAnchors returns the anchors of the built-in rules, as the scanner uses them.
func builtinAnchors(t testing.TB) []string {
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range set.Rules {
		for _, a := range r.Anchors {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// TestBuiltinAnchorsRandom compares both automata on the real anchor set over text
// dense with anchors in random case, cut and glued at random. The lengths vary so
// that the four parts Append cuts long input into start at many offsets.
func TestBuiltinAnchorsRandom(t *testing.T) {
	pats := builtinAnchors(t)
	m, err := New(pats)
	if err != nil {
		t.Fatal(err)
	}
	b := ac.NewAhoCorasickBuilder(ac.Opts{AsciiCaseInsensitive: true, MatchKind: ac.StandardMatch, DFA: true})
	lib := b.Build(pats)
	rng := rand.New(rand.NewPCG(1, 2))
	total := 0
	for round := range 200 {
		buf := randomText(rng, pats, 1+rng.IntN(6000))
		got := m.Append(nil, buf)
		var want []Match
		it := lib.IterOverlappingByte(buf)
		for x := it.Next(); x != nil; x = it.Next() {
			want = append(want, Match{Pattern: x.Pattern(), Start: x.Start(), End: x.End()})
		}
		total += len(want)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: %d matches, want %d; first difference at %d", round, len(got), len(want), firstDiff(got, want))
		}
	}
	if total < 1000 {
		t.Fatalf("%d matches in all: the test text is not dense enough", total)
	}
}

func randomText(rng *rand.Rand, pats []string, n int) []byte {
	const filler = "aeiou tkn_=:\"'\n/.-AEZ019{}"
	var buf []byte
	for len(buf) < n {
		switch rng.IntN(3) {
		case 0:
			p := pats[rng.IntN(len(pats))]
			if rng.IntN(4) == 0 {
				p = p[:rng.IntN(len(p)+1)] // a prefix: partial matches and failure links
			}
			for i := 0; i < len(p); i++ {
				c := p[i]
				if rng.IntN(2) == 0 && c >= 'a' && c <= 'z' {
					c -= 'a' - 'A'
				}
				buf = append(buf, c)
			}
		default:
			for range rng.IntN(6) {
				buf = append(buf, filler[rng.IntN(len(filler))])
			}
		}
	}
	return buf
}

func firstDiff(a, b []Match) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// FuzzAgainstLibrary derives a small pattern set and an input from the fuzz data and
// requires the same matches, in the same order, as the library.
func FuzzAgainstLibrary(f *testing.F) {
	f.Add([]byte("he,she,his,hers"), []byte("ushers"))
	f.Add([]byte("a,ab,abc,b"), []byte("xAbCab"))
	f.Add([]byte("://,sg.,eyj"), []byte("https://u:p@h SG.x eyJhbGci"))
	f.Fuzz(func(t *testing.T, pats, input []byte) {
		seen := map[string]bool{}
		var patterns []string
		for _, p := range strings.Split(string(pats), ",") {
			if k := strings.ToLower(p); p != "" && !seen[k] && len(patterns) < 64 {
				seen[k] = true
				patterns = append(patterns, p)
			}
		}
		if len(patterns) == 0 {
			return
		}
		check(t, patterns, input)
		if len(input) > 0 { // long enough for Append to cut it in four parts
			check(t, patterns, bytes.Repeat(input, 1+4*minPart/len(input)))
		}
	})
}

// TestCuts places the longest pattern across each point where Append cuts a long
// input, at every offset.
func TestCuts(t *testing.T) {
	patterns := []string{"0123456789", "89", "x"}
	const n = 8 * minPart
	for cut := n / 4; cut < n; cut += n / 4 {
		for start := cut - 10; start <= cut; start++ {
			buf := bytes.Repeat([]byte{'.'}, n)
			copy(buf[start:], "0123456789")
			check(t, patterns, buf)
		}
	}
}

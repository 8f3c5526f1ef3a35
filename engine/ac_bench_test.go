package engine_test

import (
	"testing"

	bobu "github.com/BobuSumisu/aho-corasick"
	petar "github.com/petar-dambovaliev/aho-corasick"

	"github.com/tokenward/tokenward/engine/internal/acdfa"
	"github.com/tokenward/tokenward/rules"
)

// anchors returns every anchor of the built-in rules.
func anchors(b *testing.B) []string {
	set, err := rules.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range set.Rules {
		for _, a := range r.Anchors {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// BenchmarkAhoCorasick compares the maintained Aho-Corasick libraries, and the
// scanner's own DFA (internal/acdfa), on the
// engine's workload: every built-in anchor, case-insensitively, all overlapping
// matches, over GOROOT/src. (BobuSumisu has no case folding, so it gets input
// lower-cased outside the timer, which favours it.)
func BenchmarkAhoCorasick(b *testing.B) {
	pats := anchors(b)
	files := corpus(b, 32<<20)
	var size int64
	for _, f := range files {
		size += int64(len(f))
	}
	b.Run("petar-dambovaliev-dfa", func(b *testing.B) {
		bld := petar.NewAhoCorasickBuilder(petar.Opts{AsciiCaseInsensitive: true, MatchKind: petar.StandardMatch, DFA: true})
		m := bld.Build(pats)
		b.SetBytes(size)
		n := 0
		cpu0 := cpuTime()
		for range b.N {
			for _, f := range files {
				it := m.IterOverlappingByte(f)
				for x := it.Next(); x != nil; x = it.Next() {
					n++
				}
			}
		}
		reportCPU(b, size, cpu0)
		b.ReportMetric(float64(n)/float64(b.N), "hits")
	})
	b.Run("acdfa", func(b *testing.B) {
		m, err := acdfa.New(pats)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(size)
		n := 0
		var hits []acdfa.Match
		cpu0 := cpuTime()
		for range b.N {
			for _, f := range files {
				hits = m.Append(hits[:0], f)
				n += len(hits)
			}
		}
		reportCPU(b, size, cpu0)
		b.ReportMetric(float64(n)/float64(b.N), "hits")
	})
	b.Run("petar-dambovaliev-nfa", func(b *testing.B) {
		bld := petar.NewAhoCorasickBuilder(petar.Opts{AsciiCaseInsensitive: true, MatchKind: petar.StandardMatch})
		m := bld.Build(pats)
		b.SetBytes(size)
		for range b.N {
			for _, f := range files {
				it := m.IterOverlappingByte(f)
				for x := it.Next(); x != nil; x = it.Next() {
				}
			}
		}
	})
	b.Run("BobuSumisu", func(b *testing.B) {
		m := bobu.NewTrieBuilder().AddStrings(pats).Build()
		lower := make([][]byte, len(files))
		for i, f := range files {
			lower[i] = toLower(f)
		}
		b.SetBytes(size)
		b.ResetTimer()
		n := 0
		for range b.N {
			for _, f := range lower {
				n += len(m.Match(f))
			}
		}
		b.ReportMetric(float64(n)/float64(b.N), "hits")
	})
}

func toLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

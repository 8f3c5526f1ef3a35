// Package shape judges what a candidate value looks like: its entropy, and whether
// it is a placeholder standing for a secret rather than one. It is a leaf: the
// engine and the hygiene checks both use it.
package shape

import (
	"math"
	"strings"
)

// placeholderMarks are substrings of documentation placeholders, template
// expressions and environment lookups: text that stands for a secret without being one.
var placeholderMarks = []string{
	"${", "#{", "{{", "}}", "$(", "<", ">", "%s", "%(", "[", "]",
	"your", "placeholder", "example", "changeme", "change_me", "redacted", "dummy",
	"xxxx", "****", "....", "getenv", "process.env", "environ", "insert_", "replace_me",
	"_here", "-here", "secretkey", "fake_", "sample_",
}

// IsPlaceholder reports whether a candidate secret is a stand-in rather than a
// credential: a template, a documentation example, or text with too little variety
// (repeated or sequential characters).
func IsPlaceholder(s string) bool {
	lower := strings.ToLower(s)
	for _, m := range placeholderMarks {
		if strings.Contains(lower, m) {
			return true
		}
	}
	// Long structured blobs (PEM and OpenSSH key bodies, DER, macaroons) carry runs of
	// zero bytes ("AAAAAAAA") by design; variety is a test for short tokens only.
	if len(s) > maxVarietyLen {
		return false
	}
	return lowVariety(lower)
}

// maxVarietyLen is the longest secret judged by lowVariety.
const maxVarietyLen = 200

// lowVariety spots runs such as "aaaaaa", "123456" or "abcdef", and strings made of
// three or fewer distinct characters.
func lowVariety(s string) bool {
	const run = 6
	same, up, down := 1, 1, 1
	var distinct [256]bool
	n := 0
	for i := 0; i < len(s); i++ {
		if !distinct[s[i]] {
			distinct[s[i]] = true
			n++
		}
		if i == 0 {
			continue
		}
		same = step(s[i] == s[i-1], same)
		up = step(s[i] == s[i-1]+1, up)
		down = step(s[i]+1 == s[i-1], down)
		if same >= run || up >= run || down >= run {
			return true
		}
	}
	return len(s) >= 8 && n <= 3
}

func step(cont bool, n int) int {
	if cont {
		return n + 1
	}
	return 1
}

// Entropy is the Shannon entropy of s in bits per byte.
func Entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	h, n := 0.0, float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

package shape

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Masked reports a value that hides a secret rather than holds one: three or more
// mask characters (*, •, ●, #, x) and nothing else, as in "****", "xxxxxxxx" or
// "••••••".
func Masked(s string) bool {
	n := 0
	for _, r := range s {
		switch r {
		case '*', '•', '●', '·', '#', 'x', 'X':
			n++
		default:
			return false
		}
	}
	return n >= 3
}

// Dummy reports a value that reads as words ("top_secret", "testPassword",
// "changeit"): its Wordiness is at least WordLike and letters and digits do not
// interleave (which random tokens such as "y7ng0l" do, and words with a number
// appended such as "root123" do not).
func Dummy(s string) bool {
	return Wordiness(s) >= WordLike && !strings.ContainsAny(s, "0123456789")
}

// ClassSwitches counts the places where s changes between letters, digits and
// other characters ("ab12" has one, "a1b2" three).
func ClassSwitches(s string) int {
	n, prev := 0, -1
	for i := 0; i < len(s); i++ {
		c := 2
		switch {
		case isLetter(s[i]):
			c = 0
		case s[i] >= '0' && s[i] <= '9':
			c = 1
		}
		if prev >= 0 && c != prev {
			n++
		}
		prev = c
	}
	return n
}

// NaturalText reports text in a script other than Latin, as UI strings in locale
// files are ("新しいパスワード", "Пароль"): two or more non-ASCII letters.
func NaturalText(s string) bool {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x80 && unicode.IsLetter(r) {
			n++
		}
		i += size
	}
	return n >= 2
}

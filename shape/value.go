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

// Weak reports a value too guessable to be more than a stand-in: words with a
// short number ("test123", "pass1", "required|min:8"), a run of digits
// that counts or repeats ("1234", "123123"), or any value repeating a shorter one
// ("abcabc"), or keyboard and alphabet walks ("asdf", "abc123").
func Weak(s string) bool {
	if periodic(s) || sequential(s) || walks(strings.ToLower(s)) {
		return true
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	return digits <= 4 && len(s)-digits >= 3 && ClassSwitches(s) <= 2 && Wordiness(s) >= WordLike
}

// keyboardRows are the runs a keyboard walk follows ("asdf", "qwerty", "1qaz" is
// not a row and is not caught).
var keyboardRows = []string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz"}

// walks reports s made of at most two runs of three or more characters, each a
// stretch of a keyboard row or of the alphabet, before any digits ("abc123",
// "asdf", "qwerty12").
func walks(s string) bool {
	s = strings.TrimRight(s, "0123456789!")
	runs := 0
	for i := 0; i < len(s); {
		best := 0
		for _, row := range keyboardRows {
			for j := range len(row) {
				n := 0
				for i+n < len(s) && j+n < len(row) && s[i+n] == row[j+n] {
					n++
				}
				best = max(best, n)
			}
		}
		if best < 3 {
			return false
		}
		i += best
		runs++
	}
	return runs > 0 && runs <= 2
}

// periodic reports s made of two or more copies of a shorter string.
func periodic(s string) bool {
	for p := 1; p <= len(s)/2; p++ {
		if len(s)%p == 0 && strings.Repeat(s[:p], len(s)/p) == s {
			return true
		}
	}
	return false
}

// sequential reports s of four or more characters that each follow the one before
// ("1234", "abcd", "4321").
func sequential(s string) bool {
	if len(s) < 4 {
		return false
	}
	up, down := true, true
	for i := 1; i < len(s); i++ {
		up = up && s[i] == s[i-1]+1
		down = down && s[i]+1 == s[i-1]
	}
	return up || down
}

// ClassSwitches counts the places where s changes between letters and digits,
// other characters left out ("ab12" has one, "a1b2" three, "rgb_ycc" none).
func ClassSwitches(s string) int {
	n, prev := 0, -1
	for i := 0; i < len(s); i++ {
		c := -1
		switch {
		case isLetter(s[i]):
			c = 0
		case s[i] >= '0' && s[i] <= '9':
			c = 1
		}
		if c < 0 {
			continue
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

package shape

//go:generate go run ./internal/genbigram -o bigram_table.go

// Wordiness is how much s reads like words of English or code: the mean natural
// log-probability of each letter given the one before, under a character-bigram
// model of the Go distribution's comments (bigram_table.go). Letter runs are split
// at camel-case humps ("machineLearning" is two words), and each part of two or
// more letters is scored with its boundaries; digits and punctuation separate parts
// and cost nothing. Values near -2.3 are words ("session_secret", "testUser");
// random letters ("xqzvjk") score below -3.5. A value with no part to score gives
// NoWords.
func Wordiness(s string) float64 {
	total, n := 0, 0
	for i := 0; i < len(s); {
		if !isLetter(s[i]) {
			i++
			continue
		}
		j := i + 1
		// A part is an upper-case run followed by lower case ("HTTPServer" is
		// "HTTP" + "Server") or a capital then lower case.
		for j < len(s) && isLetter(s[j]) && !humpAt(s, j) {
			j++
		}
		if j-i >= 2 {
			prev := boundary
			for k := i; k < j; k++ {
				c := int(lowerByte(s[k]) - 'a')
				total += int(bigramCost[prev*27+c])
				prev = c
			}
			total += int(bigramCost[prev*27+boundary])
			n += j - i + 1
		}
		i = j
	}
	if n == 0 {
		return NoWords
	}
	return -float64(total) / 16 / float64(n)
}

// NoWords is Wordiness of a value with no letters to judge.
const NoWords = -10.0

// WordLike is the Wordiness at and above which a value reads as words rather than
// random characters.
const WordLike = -3.0

const boundary = 26

// humpAt reports a camel-case boundary before s[j]: lower to upper ("aB"), or the
// last capital of an upper-case run that a lower-case letter follows ("HTTPServer").
func humpAt(s string, j int) bool {
	up := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	lo := func(c byte) bool { return c >= 'a' && c <= 'z' }
	if up(s[j]) && lo(s[j-1]) {
		return true
	}
	return up(s[j]) && up(s[j-1]) && j+1 < len(s) && lo(s[j+1])
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

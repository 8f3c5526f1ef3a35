package shape

import "testing"

func TestIsPlaceholder(t *testing.T) {
	for s, want := range map[string]bool{
		"${GITHUB_TOKEN}": true, "{{ .Token }}": true, "<token>": true, "your-api-key": true,
		"xxxxxxxxxxxxxxxx": true, "os.Getenv(\"X\")": true, "0123456789abcdef": true, "AKIAIOSFODNN7EXAMPLE": true,
		"Zq8Lm3Xv7Rt5Wp1Yb6Nc4Hd0Js": false, "8f3kQ9zLm2Xv7Rt5Wp1Yb6Nc4Hd0Js3A": false,
	} {
		if got := IsPlaceholder(s); got != want {
			t.Errorf("IsPlaceholder(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestEntropy(t *testing.T) {
	for _, c := range []struct {
		s    string
		want float64
	}{{"", 0}, {"aaaa", 0}, {"ab", 1}, {"abcd", 2}, {"0123456789abcdef", 4}} {
		if got := Entropy(c.s); got != c.want {
			t.Errorf("Entropy(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

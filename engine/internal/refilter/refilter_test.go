package refilter

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/rules"
)

func TestReduce(t *testing.T) {
	tests := []struct {
		name, src, want string
		literals        int
		anchored        bool
	}{
		{"leading optional run goes", `[\w.-]{0,40}?(?i:token)=([a-z]{16,200})x`, `\A(?:(?i:TOKEN)=[a-z]{16,200}x)`, 2, true},
		{"trailing repeat shortened", `\bhttps://[a-z]{1,64}@[a-z.]{1,255}`, `\bhttps://[a-z]{1,64}@[\.a-z]`, 2, false},
		{"trailing capture of repeat", `key=([0-9a-f]{32,64})`, `key=[0-9a-f]{32}`, 1, false},
		{"inner captures dropped", `(?i:x)(a|b)(c{2,3})d`, `\A(?:(?i:X)[ab]c{2,3}d)`, 1, true},
		{"trailing plus", `a[0-9]+`, `a[0-9]`, 1, false},
		{"nullable both ends", `x*abc[0-9]?`, `abc`, 1, false},
		{"leading assertion kept unanchored", `\bpwd=[a-z]{8,64}`, `\bpwd=[a-z]{8}`, 1, false},
		{"fold-case lead anchored", `(?i)secret: [a-z]{3,9}z`, "\\A(?:(?i:SECRET: [A-Za-z\u017f\u212a]{3,9}Z))", 0, true},
		{"all nullable", `a?b?`, `b?`, 0, false},
		{"single element", `[a-z]{3,9}`, `\A(?:[a-z]{3})`, 0, true},
		{"alternation left alone", `foo|bar{2,5}`, `\A(?:foo|bar{2,5})`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(tt.src, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.String(); got != tt.want {
				t.Errorf("New(%q) = %q, want %q", tt.src, got, tt.want)
			}
			if len(f.literals) != tt.literals {
				t.Errorf("New(%q): %d required literals %q, want %d", tt.src, len(f.literals), f.literals, tt.literals)
			}
			if (f.anchored != nil) != tt.anchored {
				t.Errorf("New(%q): anchored = %v, want %v", tt.src, f.anchored != nil, tt.anchored)
			}
		})
	}
}

func TestNewRejectsBadRegex(t *testing.T) {
	if _, err := New(`a(b`, false); err == nil {
		t.Fatal("New(`a(b`) succeeded, want a parse error")
	}
}

// same fails when the filter and the regex disagree on input.
func same(t *testing.T, label string, f *Filter, re *regexp.Regexp, input []byte) {
	t.Helper()
	if got, want := f.Match(input), re.Match(input); got != want {
		t.Fatalf("%s: filter %q says %v, regex %q says %v, on %q", label, f, got, re, want, input)
	}
}

// TestBuiltinRules compares each built-in rule's filters with its regexes on the
// rule's own examples and on mutilated copies of them: cut at both ends, cased
// differently, joined to other examples.
func TestBuiltinRules(t *testing.T) {
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var pool []string
	for _, r := range set.Rules {
		pool = append(pool, r.Examples...)
		pool = append(pool, r.NegativeExamples...)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	matches := 0
	for _, r := range set.Rules {
		f, err := New(r.Regex, false)
		if err != nil {
			t.Fatalf("rule %s: %v", r.ID, err)
		}
		var lf *Filter
		var lineRe *regexp.Regexp // the oracle: the regex rewritten never to match a newline
		if r.SingleLine {
			if lf, err = New(r.Regex, true); err != nil {
				t.Fatalf("rule %s: %v", r.ID, err)
			}
			tree, err := syntax.Parse(r.Regex, syntax.Perl)
			if err != nil {
				t.Fatalf("rule %s: %v", r.ID, err)
			}
			lineRe = regexp.MustCompile(rules.WithoutNewline(tree).String())
		}
		inputs := append(append([]string(nil), r.Examples...), r.NegativeExamples...)
		for _, ex := range append([]string(nil), inputs...) {
			for range 3 {
				inputs = append(inputs, mutate(rng, ex, pool))
			}
		}
		for _, in := range inputs {
			same(t, r.ID, f, r.Regexp(), []byte(in))
			if lf != nil {
				same(t, r.ID+" (line)", lf, lineRe, []byte(in))
			}
			if r.Regexp().MatchString(in) {
				matches++
			}
		}
	}
	if matches < 500 {
		t.Fatalf("only %d inputs matched: the comparison says little", matches)
	}
}

func mutate(rng *rand.Rand, s string, pool []string) string {
	if s == "" {
		return s
	}
	i, j := rng.IntN(len(s)), rng.IntN(len(s)+1)
	switch rng.IntN(6) {
	case 0:
		return s[min(i, j):max(i, j)]
	case 1:
		return s[:i] + strings.ToUpper(s[i:])
	case 2:
		return pool[rng.IntN(len(pool))] + "\n" + s
	case 3:
		return s + " " + pool[rng.IntN(len(pool))]
	case 4:
		return s[:i] + "\n" + s[i:]
	}
	return strings.Repeat("x", rng.IntN(50)) + s + strings.Repeat("=", rng.IntN(5))
}

// FuzzAgainstRegexp requires Filter.Match to agree with regexp.Match for any regex
// and input.
func FuzzAgainstRegexp(f *testing.F) {
	f.Add(`[\w.-]{0,40}?(?i:token)[\w.-]{0,20}?\s*=\s*([a-z0-9]{16,200})(?:\s|$)`, "my_token = abcdefghijklmnop1234\n")
	f.Add(`\b(?i:https?)://[^:@/]{1,64}:([^@/]{3,128})@[a-z.]{1,255}`, "see https://user:pass@host.example")
	f.Add(`(?m)^\s*pwd\b.{0,5}$`, "x\n  pwd = 1\n")
	f.Add(`(?i)k{2,3}ſ?`, "\u212aK ſ")
	f.Add(`(?:\bab|c+)d{1,4}`, "xab dddd cd")
	f.Fuzz(func(t *testing.T, src, input string) {
		re, err := regexp.Compile(src)
		if err != nil || len(src) > 200 {
			return
		}
		flt, err := New(src, false)
		if err != nil {
			t.Fatalf("New(%q): %v, but regexp.Compile accepts it", src, err)
		}
		same(t, "fuzz", flt, re, []byte(input))
		// With noNewline, against the rewritten regex compiled as it is.
		tree, err := syntax.Parse(src, syntax.Perl)
		if err != nil {
			t.Fatalf("syntax.Parse(%q): %v, but regexp.Compile accepts it", src, err)
		}
		line, err := regexp.Compile(rules.WithoutNewline(tree).String())
		if err != nil {
			return // printing round trips are regexp/syntax's business, not ours
		}
		if flt, err = New(src, true); err != nil {
			t.Fatalf("New(%q, true): %v", src, err)
		}
		same(t, "fuzz (no newline)", flt, line, []byte(input))
	})
}

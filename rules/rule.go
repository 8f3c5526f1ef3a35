// Package rules models detection rules: the TOML schema, loading, validation and the
// embedded built-in rule set.
package rules

import (
	"regexp"
	"sync"

	"github.com/tokenward/tokenward/finding"
)

// Severities, most severe first.
var Severities = finding.Severities

// Rule is one detector as written in TOML, plus what Compile derives from it.
type Rule struct {
	ID          string   `toml:"id"`
	Description string   `toml:"description"`
	Regex       string   `toml:"regex"`
	Path        string   `toml:"path"` // optional: only files whose path matches
	SecretGroup int      `toml:"secret_group"`
	Keywords    []string `toml:"keywords"`
	Entropy     float64  `toml:"entropy"`
	// MaxLength is the longest match in bytes, for regexes with unbounded repeats
	// (x+, x{n,}), which otherwise count as 64 bytes each when the engine sizes the
	// window it searches around an anchor. Prefer it to chains of bounded repeats
	// such as x{8,1000}x{0,1000}: those compile to very large programs.
	MaxLength        int      `toml:"max_length"`
	Severity         string   `toml:"severity"`
	Tags             []string `toml:"tags"`
	Examples         []string `toml:"examples"`
	NegativeExamples []string `toml:"negative_examples"`
	Allow            []Allow  `toml:"allow"`
	// Validate names an extra, format-specific check of the secret (e.g. "github-crc32",
	// "jwt"); see validators.go.
	Validate string      `toml:"validate"`
	Verify   *VerifySpec `toml:"verify"`
	Revoke   *RevokeSpec `toml:"revoke"`
	// Require makes the rule's findings composite credentials: each entry names
	// a companion rule whose nearest finding in the same file (same blob
	// version) within the given distance is attached as a part
	// ([[rule.require]]; see pipeline.Compose).
	Require []Require `toml:"require"`
	// Companion marks a rule that is only ever a part of composite
	// credentials (a Twilio account SID, an identifier rather than a
	// secret): its findings are reported only inside the composites that
	// absorb them (gitleaks' skipReport).
	Companion bool `toml:"companion"`

	// Derived by Compile. The regex itself is compiled on first use (Regexp):
	// start-up must not pay for rules that never fire.
	PathRe  *regexp.Regexp `toml:"-"`
	Anchors []string       `toml:"-"` // lower-case literals, one of which every match window holds
	MaxLen  int            `toml:"-"` // longest match the regex can produce, capped
	Origin  Position       `toml:"-"` // where the rule was defined
	// SingleLine: matches never span lines (the regex names no newline); the engine
	// runs the regex on the anchor's line only.
	SingleLine bool `toml:"-"`

	lazy    *lazyRegexp
	builtin bool
}

// lazyRegexp is a rule's regex, compiled on first use.
type lazyRegexp struct {
	once sync.Once
	re   *regexp.Regexp
}

// Regexp returns the rule's compiled regex, or nil before Compile.
func (r *Rule) Regexp() *regexp.Regexp {
	if r.lazy == nil {
		return nil
	}
	r.lazy.once.Do(func() {
		// The rule was validated (by Compile, or when the built-in table was
		// generated), and regexp.Compile fails only where regexp/syntax.Parse
		// does, so MustCompile cannot panic here.
		r.lazy.re = regexp.MustCompile(r.Regex)
	})
	return r.lazy.re
}

// Allow suppresses matches. Regexes are tested against Target: "secret" (default),
// "match" or "line". Stopwords suppress a secret that contains any of them.
type Allow struct {
	Description string   `toml:"description"`
	Regexes     []string `toml:"regexes"`
	Target      string   `toml:"target"`
	Paths       []string `toml:"paths"`
	Stopwords   []string `toml:"stopwords"`

	// Compiled Regexes and Paths, shared by copies of the entry. Built-in entries
	// compile on first use, so start-up does not pay for allow lists of rules
	// that never fire.
	compiled *allowRegexps
}

// allowRegexps holds an entry's compiled Regexes and Paths, each compiled on
// first use unless Compile already did.
type allowRegexps struct {
	resOnce, pathsOnce sync.Once
	res, paths         []*regexp.Regexp
}

// Regexps returns the compiled Regexes.
func (a *Allow) Regexps() []*regexp.Regexp {
	c := a.compiled
	if c == nil {
		// Not from Parse or the built-in table (an Allow built in code without
		// Compile): compile now, every time; invalid patterns match nothing.
		res, _ := compileAll(a.Regexes, "regex")
		return res
	}
	c.resOnce.Do(func() { c.res = mustCompileAll(a.Regexes) })
	return c.res
}

// PathRegexps returns the compiled Paths.
func (a *Allow) PathRegexps() []*regexp.Regexp {
	c := a.compiled
	if c == nil {
		res, _ := compileAll(a.Paths, "path")
		return res
	}
	c.pathsOnce.Do(func() { c.paths = mustCompileAll(a.Paths) })
	return c.paths
}

// Require names a companion part of a composite credential.
type Require struct {
	ID string `toml:"id"`
	// WithinLines is the largest line distance, either direction, between the
	// finding and its companion (0: the same line). Nil: anywhere in the file.
	WithinLines *int `toml:"within_lines"`
	// WithinColumns, when set, also bounds the column distance.
	WithinColumns *int `toml:"within_columns"`
	// Optional parts are attached when found and not needed otherwise (the
	// session token of temporary AWS keys).
	Optional bool `toml:"optional"`
}

// MaxWithin bounds within_lines and within_columns.
const MaxWithin = 10000

// Position locates a definition in a TOML file.
type Position struct {
	File string
	Line int
}

// Builtin reports whether the rule comes from the embedded built-in set.
func (r *Rule) Builtin() bool { return r.builtin }

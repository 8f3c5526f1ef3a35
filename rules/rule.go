// Package rules models detection rules: the TOML schema, loading, validation and the
// embedded built-in rule set.
package rules

import (
	"regexp"
)

// Severities, most severe first.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// Rule is one detector as written in TOML, plus what Compile derives from it.
type Rule struct {
	ID               string   `toml:"id"`
	Description      string   `toml:"description"`
	Regex            string   `toml:"regex"`
	Path             string   `toml:"path"` // optional: only files whose path matches
	SecretGroup      int      `toml:"secret_group"`
	Keywords         []string `toml:"keywords"`
	Entropy          float64  `toml:"entropy"`
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

	// Derived by Compile.
	Re *regexp.Regexp `toml:"-"`
	// LineRe is Re unable to match a newline; set for rules whose matches stay on
	// one line (see Multiline). The engine runs it on the anchor's line only.
	LineRe  *regexp.Regexp `toml:"-"`
	PathRe  *regexp.Regexp `toml:"-"`
	Anchors []string       `toml:"-"` // lower-case literals, one of which every match window holds
	MaxLen  int            `toml:"-"` // longest match the regex can produce, capped
	Origin  Position       `toml:"-"` // where the rule was defined
}

// Allow suppresses matches. Regexes are tested against Target: "secret" (default),
// "match" or "line". Stopwords suppress a secret that contains any of them.
type Allow struct {
	Description string   `toml:"description"`
	Regexes     []string `toml:"regexes"`
	Target      string   `toml:"target"`
	Paths       []string `toml:"paths"`
	Stopwords   []string `toml:"stopwords"`

	Res     []*regexp.Regexp `toml:"-"`
	PathRes []*regexp.Regexp `toml:"-"`
}

// Position locates a definition in a TOML file.
type Position struct {
	File string
	Line int
}

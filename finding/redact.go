package finding

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strings"
	"sync"

	ahocorasick "github.com/petar-dambovaliev/aho-corasick"
)

// MinRedactLen is the shortest secret (in bytes) a Redactor hides wherever it
// appears. Shorter secrets are hidden only in the fields of their own finding:
// hiding every "admin" in a report would blank out words that are not secret.
const MinRedactLen = 8

// minFormLen is the shortest encoded form a Redactor looks for: shorter pieces
// of an encoding are too likely to be ordinary text.
const minFormLen = 12

// naiveLimit is the pattern count up to which matching is done without an
// automaton (one finding's forms, in the engine).
const naiveLimit = 32

// Redactor hides a set of secrets, and their encoded forms, in text: the raw
// secret in any ASCII letter case (upper, lower), base64 and base64url (padded,
// unpadded, and at any byte alignment inside a longer encoding), hex (either
// case), percent-encoding (query, path and every-byte forms), and its JSON and
// HTML escaped forms. Each match is replaced by the redacted form of the text
// matched (see Redact), limited to characters that are safe inside every output
// format (JSON, XML, CSV, HTML, workflow commands). Redactor is safe for
// concurrent use; secrets may be added at any time.
type Redactor struct {
	mu       sync.RWMutex
	secrets  map[string]struct{}
	patterns map[string]struct{}
	list     []string // lower-cased patterns, for the matcher
	maxLen   int
	ac       *ahocorasick.AhoCorasick // nil: rebuild (or naive matching)
}

// NewRedactor returns a Redactor hiding secrets.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{secrets: map[string]struct{}{}, patterns: map[string]struct{}{}}
	r.Add(secrets...)
	return r
}

// Add adds secrets to hide; secrets shorter than MinRedactLen are ignored.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if len(s) < MinRedactLen {
			continue
		}
		if _, ok := r.secrets[s]; ok {
			continue
		}
		r.secrets[s] = struct{}{}
		for _, f := range Forms(s) {
			lf := asciiLower(f)
			if _, ok := r.patterns[lf]; ok {
				continue
			}
			r.patterns[lf] = struct{}{}
			r.list = append(r.list, lf)
			r.maxLen = max(r.maxLen, len(lf))
			r.ac = nil
		}
	}
}

// AddFindings adds the secret and the captured groups of every finding.
func (r *Redactor) AddFindings(fs []Finding) {
	var ss []string
	for _, f := range fs {
		ss = append(ss, f.Secret)
		for _, g := range f.Groups {
			ss = append(ss, g)
		}
		// A multi-line secret (a PEM key) is also hidden line by line.
		if strings.Contains(f.Secret, "\n") {
			for _, part := range strings.Split(f.Secret, "\n") {
				ss = append(ss, strings.TrimSpace(part))
			}
		}
	}
	r.Add(ss...)
}

// Empty reports whether there is nothing to hide.
func (r *Redactor) Empty() bool {
	if r == nil {
		return true
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.list) == 0
}

// MaxLen is the length of the longest pattern: a streaming writer must hold
// back MaxLen-1 bytes to see every match whole.
func (r *Redactor) MaxLen() int {
	if r == nil {
		return 0
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.maxLen
}

// Span is a match: text[Start:End] must be hidden.
type Span struct{ Start, End int }

// Find returns the leftmost-longest, non-overlapping matches in text.
func (r *Redactor) Find(text []byte) []Span {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	list, ac := r.list, r.ac
	r.mu.RUnlock()
	if len(list) == 0 {
		return nil
	}
	if len(list) <= naiveLimit {
		return naiveFind(asciiLower(string(text)), list)
	}
	if ac == nil {
		r.mu.Lock()
		if r.ac == nil {
			b := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{AsciiCaseInsensitive: true, MatchKind: ahocorasick.LeftMostLongestMatch, DFA: true})
			built := b.Build(r.list)
			r.ac = &built
		}
		ac = r.ac
		r.mu.Unlock()
	}
	var out []Span
	it := ac.IterByte(text)
	for m := it.Next(); m != nil; m = it.Next() {
		out = append(out, Span{m.Start(), m.End()})
	}
	return out
}

// naiveFind is Find for a few patterns over lower-cased text.
func naiveFind(text string, pats []string) []Span {
	var all []Span
	for _, p := range pats {
		for at := 0; ; {
			i := strings.Index(text[at:], p)
			if i < 0 {
				break
			}
			all = append(all, Span{at + i, at + i + len(p)})
			at += i + 1
		}
	}
	slices.SortFunc(all, func(a, b Span) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	var out []Span
	end := 0
	for _, s := range all {
		if s.Start >= end {
			out = append(out, s)
			end = s.End
		}
	}
	return out
}

// Redact returns s with every match hidden.
func (r *Redactor) Redact(s string) string {
	spans := r.Find([]byte(s))
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	at := 0
	for _, sp := range spans {
		b.WriteString(s[at:sp.Start])
		b.WriteString(SafeRedact(s[sp.Start:sp.End]))
		at = sp.End
	}
	b.WriteString(s[at:])
	return b.String()
}

// SafeRedact is Redact(s) with every kept character that is not a letter,
// digit, '_', '-' or '.' shown as '*', so the result can be written into any
// output format without escaping.
func SafeRedact(s string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.', c == '*', c == '…':
			return c
		}
		return '*'
	}, Redact(s))
}

// Forms returns secret and the encoded forms a Redactor looks for (case
// variants are matched case-insensitively, so they are not listed).
func Forms(secret string) []string {
	out := []string{secret}
	add := func(s string) {
		if len(s) >= minFormLen && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	b := []byte(secret)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		add(enc.EncodeToString(b))
		raw := enc.WithPadding(base64.NoPadding)
		// Inside a longer encoding the secret starts at byte offset k (mod 3):
		// the characters that depend on its bytes alone are the same whatever
		// surrounds it.
		for k, skip := range []int{0, 2, 3} {
			e := raw.EncodeToString(append(make([]byte, k), b...))
			tail := 0
			if (k+len(b))%3 != 0 {
				tail = 1
			}
			if len(e)-tail > skip {
				add(e[skip : len(e)-tail])
			}
		}
	}
	add(hex.EncodeToString(b))
	add(url.QueryEscape(secret))
	add(url.PathEscape(secret))
	var pct strings.Builder
	for _, c := range b {
		pct.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	add(pct.String())
	if j, err := json.Marshal(secret); err == nil {
		add(string(j[1 : len(j)-1]))
	}
	add(jsonNoHTML(secret))
	add(html.EscapeString(secret))
	add(strings.ReplaceAll(html.EscapeString(secret), "+", "&#43;")) // html/template's form
	add(strings.ReplaceAll(secret, `"`, `""`))                       // a CSV cell's quoting
	return out
}

func jsonNoHTML(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(s) != nil {
		return ""
	}
	j := strings.TrimSpace(b.String())
	return j[1 : len(j)-1]
}

// asciiLower lower-cases ASCII letters only, keeping byte offsets.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// RedactAll hides secrets, in every form a Redactor knows, in s; and each
// secret, whatever its length, where it appears raw.
func RedactAll(s string, secrets ...string) string {
	for _, sec := range secrets {
		s = RedactIn(s, sec)
	}
	return NewRedactor(secrets...).Redact(s)
}

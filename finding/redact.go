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
)

// MinRedactLen is the shortest secret (in bytes) a Redactor hides wherever it
// appears. Shorter secrets are hidden only in the fields of their own finding:
// hiding every "admin" in a report would blank out words that are not secret.
const MinRedactLen = 8

// minFormLen is the shortest encoded form a Redactor looks for: shorter pieces
// of an encoding are too likely to be ordinary text.
const minFormLen = 12

// Redactor hides a set of secrets, and their encoded forms, in text: the raw
// secret in any ASCII letter case (upper, lower), base64 and base64url (padded,
// unpadded, and at any byte alignment inside a longer encoding), hex (either
// case), percent-encoding (query, path and every-byte forms), and its JSON and
// HTML escaped forms. Each match is replaced by the redacted form of the text
// matched (see Redact), limited to characters that are safe inside every output
// format (JSON, XML, CSV, HTML, workflow commands). Redactor is safe for
// concurrent use; secrets may be added at any time.
//
// Matching is by the first 8 bytes of each pattern (every pattern is at least
// MinRedactLen long): a bit set over a hash of those bytes rejects almost every
// position of the text with one test, and a map from the 8 bytes to the
// patterns starting with them confirms. Memory is linear in the patterns, so a
// sweep's tens of thousands of secrets cost megabytes, not an automaton's
// gigabytes.
type Redactor struct {
	mu      sync.RWMutex
	secrets map[string]struct{}
	// Lower-cased patterns by their first 8 bytes; those of 16 bytes or more by
	// their first 16 (secrets of one kind share a prefix, ghp_ or AKIA, and so
	// do their encodings).
	short    map[uint64][]string
	long     map[[2]uint64][]string
	prefixes int
	bits     []uint64 // bit set over hashed prefixes
	shift    uint     // 64 - log2(bit count)
	maxLen   int
}

// NewRedactor returns a Redactor hiding secrets.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{secrets: map[string]struct{}{}, short: map[uint64][]string{}, long: map[[2]uint64][]string{}}
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
			k := prefixKey(lf)
			if len(lf) < 16 {
				if slices.Contains(r.short[k], lf) {
					continue
				}
				r.short[k] = append(r.short[k], lf)
			} else {
				k2 := [2]uint64{k, prefixKey(lf[8:])}
				if slices.Contains(r.long[k2], lf) {
					continue
				}
				r.long[k2] = append(r.long[k2], lf)
			}
			r.setBit(k)
			r.maxLen = max(r.maxLen, len(lf))
		}
	}
}

const hashMul = 0x9E3779B97F4A7C15

// setBit records prefix k in the bit set, growing it to about 16 bits a
// pattern (rebuilding it from the patterns).
func (r *Redactor) setBit(k uint64) {
	r.prefixes++
	if want := r.prefixes * 16; len(r.bits)*64 < want {
		size, log := 64, 6
		for size < want {
			size, log = size<<1, log+1
		}
		r.bits = make([]uint64, size/64)
		r.shift = uint(64 - log)
		for key := range r.short {
			r.mark(key)
		}
		for key := range r.long {
			r.mark(key[0])
		}
	}
	r.mark(k)
}

func (r *Redactor) mark(k uint64) {
	h := (k * hashMul) >> r.shift
	r.bits[h/64] |= 1 << (h % 64)
}

// longest returns the length of the longest pattern at the start of t, whose
// first 8 bytes are k.
func (r *Redactor) longest(t []byte, k uint64) int {
	best := 0
	for _, p := range r.short[k] {
		if len(p) > best && len(p) <= len(t) && string(t[:len(p)]) == p {
			best = len(p)
		}
	}
	if len(t) >= 16 {
		for _, p := range r.long[[2]uint64{k, prefixKey(string(t[8:16]))}] {
			if len(p) > best && len(p) <= len(t) && string(t[:len(p)]) == p {
				best = len(p)
			}
		}
	}
	return best
}

// prefixKey is the first 8 bytes of s, little-endian.
func prefixKey(s string) uint64 {
	var k uint64
	for i := 0; i < 8; i++ {
		k |= uint64(s[i]) << (8 * i)
	}
	return k
}

// AddFindings adds the secret and the captured groups of every finding.
func (r *Redactor) AddFindings(fs []Finding) {
	var ss []string
	for _, f := range fs {
		ss = append(ss, f.Secret)
		for _, g := range f.Groups {
			ss = append(ss, g)
		}
		for _, p := range f.Parts {
			ss = append(ss, p.Secret)
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
	return r.prefixes == 0
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

// Find returns the leftmost-longest, non-overlapping matches in text, ASCII
// letter case ignored.
func (r *Redactor) Find(text []byte) []Span {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.prefixes == 0 || len(text) < 8 {
		return nil
	}
	lower := []byte(asciiLower(string(text)))
	var out []Span
	k := prefixKey(string(lower[:8]))
	for i := 0; ; {
		best := 0
		if h := (k * hashMul) >> r.shift; r.bits[h/64]&(1<<(h%64)) != 0 {
			best = r.longest(lower[i:], k)
		}
		next := i + 1
		if best > 0 {
			out = append(out, Span{i, i + best})
			next = i + best
		}
		if next+8 > len(lower) {
			return out
		}
		if next == i+1 {
			k = k>>8 | uint64(lower[i+8])<<56
		} else {
			k = prefixKey(string(lower[next : next+8]))
		}
		i = next
	}
}

// Redact returns s with every match hidden.
func (r *Redactor) Redact(s string) string {
	spans := r.Find([]byte(s))
	if len(spans) == 0 {
		return s
	}
	return redactSpans(s, spans)
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
	plain := true // only letters, digits and -._~: no escaped form differs
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			plain = false
			break
		}
	}
	encs := []*base64.Encoding{base64.StdEncoding}
	if std := base64.StdEncoding.EncodeToString(b); strings.ContainsAny(std, "+/") {
		encs = append(encs, base64.URLEncoding) // differs from std only then
	}
	for _, enc := range encs {
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
	if !plain {
		add(url.QueryEscape(secret))
		add(url.PathEscape(secret))
		if j, err := json.Marshal(secret); err == nil {
			add(string(j[1 : len(j)-1]))
		}
		add(jsonNoHTML(secret))
		add(html.EscapeString(secret))
		add(strings.ReplaceAll(html.EscapeString(secret), "+", "&#43;")) // html/template's form
		add(strings.ReplaceAll(secret, `"`, `""`))                       // a CSV cell's quoting
	}
	var pct strings.Builder
	for _, c := range b {
		pct.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	add(pct.String())
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
// secret, whatever its length, where it appears raw. It is Redactor.Redact for
// a few secrets (one finding's), without building a Redactor.
func RedactAll(s string, secrets ...string) string {
	for _, sec := range secrets {
		s = RedactIn(s, sec)
	}
	var pats []string
	for _, sec := range secrets {
		if len(sec) >= MinRedactLen {
			for _, f := range Forms(sec) {
				pats = append(pats, asciiLower(f))
			}
		}
	}
	if len(pats) == 0 || len(s) < MinRedactLen {
		return s
	}
	spans := naiveFind(asciiLower(s), pats)
	if len(spans) == 0 {
		return s
	}
	return redactSpans(s, spans)
}

// naiveFind returns the leftmost-longest, non-overlapping matches of a few
// patterns in (lower-cased) text.
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
	if len(all) == 0 {
		return nil
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

// redactSpans returns s with each of spans (sorted, not overlapping) redacted.
func redactSpans(s string, spans []Span) string {
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

package engine

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tokenward/tokenward/engine/internal/acdfa"
	"github.com/tokenward/tokenward/engine/internal/refilter"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/shape"
)

// Options tune the engine. The zero value is usable.
type Options struct {
	// ChunkSize is how many bytes of a streamed blob are held at once (default 4 MiB).
	ChunkSize int
	// DecodeDepth is how many layers of base64/percent/hex/\u encoding are peeled
	// (default 2; negative disables decoding).
	DecodeDepth int
	// GitleaksAllow also honours inline `gitleaks:allow` comments.
	GitleaksAllow bool
}

// Engine matches a compiled rule set against blobs. It is safe for concurrent use.
type Engine struct {
	rules    []*rules.Rule
	global   []rules.Allow
	patterns []string
	once     sync.Once // builds matcher on first use: start-up stays cheap
	matcher  *acdfa.Matcher
	anchorTo [][]int32    // anchor index -> rule indexes
	filters  []ruleFilter // rule index -> its window pre-test, built on first use
	overlap  int          // bytes kept between chunks
	opts     Options
	span     spanning  // the anchors of rules whose matches may span lines (reach.go)
	seen     *winCache // windows read before, with their matches

	activeMu    sync.Mutex
	allActive   []bool            // every rule on (shared, read-only)
	pathScoped  []int             // rules with a path condition (path regex or paths-only allow entry)
	globalPaths bool              // the global allow list has a paths-only entry
	activeCache map[string][]bool // path -> activeRules(path), bounded (git history repeats paths)
}

const lineSlack = 256 // how far a window is stretched to reach a line boundary

// New compiles the anchors of every rule into one automaton.
func New(set *rules.Set, opts Options) (*Engine, error) {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 4 << 20
	}
	if opts.DecodeDepth == 0 {
		opts.DecodeDepth = 2
	}
	e := &Engine{rules: set.Rules, global: set.Allow, opts: opts, filters: make([]ruleFilter, len(set.Rules)), seen: newWinCache()}
	index := map[string]int{}
	var patterns []string
	maxWin, anchorBytes := 0, 0
	for ri, r := range set.Rules {
		if r.MaxLen == 0 {
			return nil, fmt.Errorf("rule %q is not compiled", r.ID)
		}
		if len(r.Anchors) == 0 {
			return nil, fmt.Errorf("rule %q has no anchor", r.ID)
		}
		maxWin = max(maxWin, r.MaxLen)
		for _, a := range r.Anchors {
			if a == "" {
				return nil, fmt.Errorf("rule %q has an empty anchor", r.ID)
			}
			a = asciiLower(a) // the automaton folds ASCII case only
			i, ok := index[a]
			if !ok {
				i = len(patterns)
				index[a] = i
				patterns = append(patterns, a)
				anchorBytes += len(a)
				e.anchorTo = append(e.anchorTo, nil)
			}
			if !slices.Contains(e.anchorTo[i], int32(ri)) {
				e.anchorTo[i] = append(e.anchorTo[i], int32(ri))
			}
		}
	}
	if anchorBytes > acdfa.MaxPatternBytes {
		return nil, fmt.Errorf("the rules' anchors hold %d bytes, more than the %d one automaton can take: use fewer or shorter keywords", anchorBytes, acdfa.MaxPatternBytes)
	}
	e.patterns = patterns
	// Most rules apply to every path: only those with a path condition are tested
	// per file, and a file no condition touches shares one all-true slice.
	e.allActive = make([]bool, len(e.rules))
	for ri, r := range e.rules {
		e.allActive[ri] = true
		if r.PathRe != nil || slices.ContainsFunc(r.Allow, pathOnly) {
			e.pathScoped = append(e.pathScoped, ri)
		}
	}
	e.globalPaths = slices.ContainsFunc(e.global, pathOnly)
	e.overlap = 2*(maxWin+lineSlack) + 1024
	if e.opts.ChunkSize < 4*e.overlap {
		e.opts.ChunkSize = 4 * e.overlap
	}
	return e, nil
}

// raw is a match before it is located in lines and columns. Offsets are relative to
// the buffer being scanned.
type raw struct {
	rule         *rules.Rule
	start, end   int // the reported span: the secret, or the encoded text holding it
	mstart, mend int // the whole match (equal to start/end for decoded findings)
	secret       string
	encoding     string
	groups       map[string]string
	generic      bool
	confidence   string // finding.ConfidenceHigh, Medium or Low
}

// Scan finds every secret in a blob. Findings are sorted by position. On a read
// error it returns what it found before the error together with the error.
func (e *Engine) Scan(b Blob) ([]finding.Finding, error) {
	if b.Data != nil || b.Open == nil {
		active := e.activeRules(b.Path)
		if active == nil {
			return nil, nil
		}
		raws := e.scanBuf(b.Data, 0, len(b.Data), b.Path, active, 0)
		return e.locate(b.Data, raws, position{line: 1, col: 1}, b.Path), nil
	}
	rc, err := b.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return e.scanReader(rc, b)
}

// ScanBytes scans data held in memory under the given path.
func (e *Engine) ScanBytes(path string, data []byte) []finding.Finding {
	fs, _ := e.Scan(Blob{ID: path, Path: path, Data: data})
	return fs
}

// scanReader reads r in chunks that overlap by e.overlap bytes. Each chunk owns the
// matches that start in it; the overlap gives every match its full context.
func (e *Engine) scanReader(r io.Reader, b Blob) ([]finding.Finding, error) {
	active := e.activeRules(b.Path)
	if active == nil {
		return nil, nil
	}
	buf := make([]byte, 0, e.opts.ChunkSize+e.overlap)
	var (
		base    int // absolute offset of buf[0]
		ownFrom int // absolute offset where this chunk's ownership starts
		pos     = position{line: 1, col: 1}
		out     []finding.Finding
	)
	for {
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return out, err
		}
		ownTo := base + len(buf)
		if !eof {
			ownTo -= e.overlap
		}
		raws := e.scanBuf(buf, ownFrom-base, ownTo-base, b.Path, active, 0)
		out = append(out, e.locate(buf, raws, pos, b.Path)...)
		if eof {
			return out, nil
		}
		keep := ownTo - e.overlap - base
		pos = pos.advance(buf[:keep])
		copy(buf, buf[keep:])
		buf = buf[:len(buf)-keep]
		base += keep
		ownFrom = ownTo
	}
}

// activeRules marks the rules that apply to path; nil when a global allow list
// excludes the path entirely.
func (e *Engine) activeRules(path string) []bool {
	if len(e.pathScoped) == 0 && !e.globalPaths {
		return e.allActive
	}
	e.activeMu.Lock()
	a, ok := e.activeCache[path]
	e.activeMu.Unlock()
	if ok {
		return a
	}
	a = e.computeActive(path)
	e.activeMu.Lock()
	if e.activeCache == nil || len(e.activeCache) >= 4096 {
		e.activeCache = make(map[string][]bool)
	}
	e.activeCache[path] = a
	e.activeMu.Unlock()
	return a
}

func (e *Engine) computeActive(path string) []bool {
	for i := range e.global {
		// Only a paths-only entry excludes the file; one that also names regexes or
		// stopwords must hold for each match (its conditions are ANDed).
		if g := &e.global[i]; pathOnly(*g) && matchAny(g.PathRegexps(), path) {
			return nil
		}
	}
	var active []bool // copied from allActive on the first rule switched off
	for _, i := range e.pathScoped {
		r := e.rules[i]
		off := r.PathRe != nil && !r.PathRe.MatchString(path)
		for j := 0; j < len(r.Allow) && !off; j++ {
			a := &r.Allow[j]
			off = pathOnly(*a) && matchAny(a.PathRegexps(), path)
		}
		if off {
			if active == nil {
				active = slices.Clone(e.allActive)
			}
			active[i] = false
		}
	}
	if active == nil {
		return e.allActive
	}
	return active
}

// pathOnly reports an allow entry that names paths and nothing else: it excludes
// whole files rather than testing each match.
func pathOnly(a rules.Allow) bool {
	return len(a.Paths) > 0 && len(a.Regexes) == 0 && len(a.Stopwords) == 0
}

type window struct{ lo, hi int }

// scanBuf finds matches starting in buf[ownFrom:ownTo].
func (e *Engine) scanBuf(buf []byte, ownFrom, ownTo int, path string, active []bool, depth int) []raw {
	if len(e.patterns) == 0 { // no rules (a config of only [extend] builtin = false): nothing to find
		return nil
	}
	e.once.Do(func() {
		var err error
		if e.matcher, err = acdfa.New(e.patterns); err != nil {
			// New checked what acdfa.New rejects: non-empty, distinct, bounded anchors.
			panic(fmt.Sprintf("engine: building the anchor automaton: %v", err))
		}
	})
	wins := make(map[int32][]window)
	for _, m := range e.matcher.Append(nil, buf) {
		for _, ri := range e.anchorTo[m.Pattern] {
			if !active[ri] {
				continue
			}
			r := e.rules[ri]
			var lo, hi int
			if r.SingleLine { // single-line rule: the anchor's line, within MaxLen
				lo, hi = lineBounds(buf, m.Start, m.End, r.MaxLen)
			} else {
				lo, hi = max(m.Start-r.MaxLen, 0), min(m.End+r.MaxLen, len(buf))
			}
			if hi <= ownFrom-lineSlack || lo >= ownTo+r.MaxLen {
				continue
			}
			ws := wins[ri]
			if n := len(ws); n > 0 && lo <= ws[n-1].hi {
				// Hits arrive by end offset, so a longer anchor can start (and
				// open its window) before the previous hit's window.
				ws[n-1].lo, ws[n-1].hi = min(ws[n-1].lo, lo), max(ws[n-1].hi, hi)
			} else {
				ws = append(ws, window{lo, hi})
			}
			wins[ri] = ws
		}
	}
	var out []raw
	seen := map[[3]int]bool{}
	for ri, ws := range wins {
		r := e.rules[ri]
		for _, w := range ws {
			var lo, hi int
			var cutLo, cutHi bool
			if r.SingleLine {
				lo, hi = w.lo, w.hi
				cutLo = lo > 0 && buf[lo-1] != '\n'
				cutHi = hi < len(buf) && buf[hi] != '\n' && buf[hi] != '\r'
			} else {
				lo, cutLo = snapBack(buf, w.lo)
				hi, cutHi = snapForward(buf, w.hi)
			}
			for _, m := range e.windowMatches(ri, buf[lo:hi]) {
				ms, me := lo+m[0], lo+m[1]
				if ms < ownFrom || ms >= ownTo || ms == me {
					continue
				}
				if (cutLo && m[0] == 0) || (cutHi && me == hi) {
					continue
				}
				key := [3]int{int(ri), ms, me}
				if seen[key] {
					continue
				}
				seen[key] = true
				if x, ok := e.accept(r, buf, m, lo, path); ok {
					out = append(out, x)
				}
			}
		}
	}
	if depth < e.opts.DecodeDepth {
		out = append(out, e.decodeAndScan(buf, ownFrom, ownTo, path, active, depth)...)
	}
	return dedupeGeneric(suppressGeneric(out))
}

// windowMatches returns the matches of rule ri's regex in the window w, relative
// to w, remembered when the same bytes were read before (see winCache).
func (e *Engine) windowMatches(ri int32, w []byte) [][]int {
	h := e.seen.hash(ri, w)
	if ms, ok := e.seen.get(ri, h, w); ok {
		return ms
	}
	var ms [][]int
	// Most windows hold no match; the filter is cheaper than finding submatches.
	// A single-line rule's window holds no newline, so its regex answers there
	// exactly as its newline-free form would (and needs no second compilation).
	if e.filter(int(ri)).Match(w) {
		ms = e.rules[ri].Regexp().FindAllSubmatchIndex(w, -1)
	}
	e.seen.put(ri, h, w, ms)
	return ms
}

// ruleFilter is a rule's window pre-test: whether its regex (its line regex for a
// single-line rule) matches anywhere in a window, answered more cheaply than the
// regex itself, which compiles only when a window passes (see internal/refilter).
type ruleFilter struct {
	once sync.Once
	f    interface{ Match([]byte) bool }
}

func (e *Engine) filter(ri int) interface{ Match([]byte) bool } {
	rf := &e.filters[ri]
	rf.once.Do(func() {
		r := e.rules[ri]
		if f, err := refilter.New(r.Regex, r.SingleLine); err == nil {
			rf.f = f
		} else { // cannot happen: Compile parsed the regex; stay correct anyway
			rf.f = r.Regexp()
		}
	})
	return rf.f
}

// accept applies a rule's filters to one regex match (m is relative to buf[lo:]).
func (e *Engine) accept(r *rules.Rule, buf []byte, m []int, lo int, path string) (raw, bool) {
	ss, se := m[0], m[1]
	if g := r.SecretGroup; g > 0 && m[2*g] >= 0 {
		ss, se = m[2*g], m[2*g+1]
	}
	x := raw{rule: r, start: lo + ss, end: lo + se, mstart: lo + m[0], mend: lo + m[1]}
	x.secret = string(buf[x.start:x.end])
	if x.secret == "" {
		return x, false
	}
	if r.Entropy > 0 && shape.Entropy(x.secret) < r.Entropy {
		return x, false
	}
	if shape.IsPlaceholder(x.secret) || !r.Valid(x.secret) {
		return x, false
	}
	// The value judgement is cheaper than the allow lists' regexes and rejects most
	// generic candidates, so it runs first.
	x.generic = slices.Contains(r.Tags, "generic")
	x.confidence = finding.ConfidenceHigh
	if x.generic {
		conf, ok := judgeGeneric(buf, x.mstart, x.start, x.end, path)
		if !ok {
			return x, false
		}
		x.confidence = conf
	}
	line := lineAround(buf, x.mstart, x.mend)
	if bytes.Contains(line, []byte("tokenward:allow")) ||
		(e.opts.GitleaksAllow && bytes.Contains(line, []byte("gitleaks:allow"))) {
		return x, false
	}
	match := buf[x.mstart:x.mend]
	for i := range r.Allow {
		if allowed(&r.Allow[i], x.secret, match, line, path) {
			return x, false
		}
	}
	for i := range e.global {
		if allowed(&e.global[i], x.secret, match, line, path) {
			return x, false
		}
	}
	for i, name := range r.Regexp().SubexpNames() {
		if name != "" && m[2*i] >= 0 {
			if x.groups == nil {
				x.groups = map[string]string{}
			}
			x.groups[name] = string(buf[lo+m[2*i] : lo+m[2*i+1]])
		}
	}
	return x, true
}

// allowed reports whether an allow entry suppresses a match. Within one entry all
// given conditions must hold (paths AND regexes AND stopwords), as in gitleaks.
func allowed(a *rules.Allow, secret string, match, line []byte, path string) bool {
	conds := 0
	if len(a.Paths) > 0 {
		if !matchAny(a.PathRegexps(), path) {
			return false
		}
		conds++
	}
	if len(a.Regexes) > 0 {
		target := []byte(secret)
		switch a.Target {
		case "match":
			target = match
		case "line":
			target = line
		}
		hit := false
		for _, re := range a.Regexps() {
			if re.Match(target) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
		conds++
	}
	if len(a.Stopwords) > 0 {
		lower := strings.ToLower(secret)
		hit := false
		for _, w := range a.Stopwords {
			if strings.Contains(lower, w) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
		conds++
	}
	return conds > 0
}

// suppressGeneric drops generic findings whose secret overlaps a specific finding.
func suppressGeneric(rs []raw) []raw {
	hasGeneric := false
	for _, r := range rs {
		hasGeneric = hasGeneric || r.generic
	}
	if !hasGeneric {
		return rs
	}
	out := rs[:0]
	for i, r := range rs {
		drop := false
		if r.generic {
			for j, s := range rs {
				if j != i && !s.generic && s.start < r.end && r.start < s.end {
					drop = true
					break
				}
			}
		}
		if !drop {
			out = append(out, r)
		}
	}
	return out
}

// position is a line and rune column.
type position struct{ line, col int }

// advance moves p over b.
func (p position) advance(b []byte) position {
	if nl := bytes.LastIndexByte(b, '\n'); nl >= 0 {
		return position{line: p.line + bytes.Count(b, []byte{'\n'}), col: 1 + utf8.RuneCount(b[nl+1:])}
	}
	return position{line: p.line, col: p.col + utf8.RuneCount(b)}
}

// locate turns raw matches into findings with exact line and column.
func (e *Engine) locate(buf []byte, rs []raw, start position, path string) []finding.Finding {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].start != rs[j].start {
			return rs[i].start < rs[j].start
		}
		if rs[i].end != rs[j].end {
			return rs[i].end < rs[j].end
		}
		return rs[i].rule.ID < rs[j].rule.ID
	})
	out := make([]finding.Finding, 0, len(rs))
	cur, at := start, 0
	for _, x := range rs {
		cur = cur.advance(buf[at:x.start])
		at = x.start
		end := cur.advance(buf[x.start:x.end])
		f := finding.Finding{
			RuleID:      x.rule.ID,
			Description: x.rule.Description,
			Severity:    x.rule.Severity,
			Confidence:  x.confidence,
			Kind:        finding.KindSecret,
			File:        path,
			Line:        cur.line,
			Column:      cur.col,
			EndLine:     end.line,
			EndColumn:   end.col,
			Secret:      x.secret,
			Redacted:    finding.Redact(x.secret),
			Context:     context(buf, x.start, x.end, x.secret, x.encoding != ""),
			Fingerprint: finding.Fingerprint(x.rule.ID, x.secret),
			Entropy:     math.Round(shape.Entropy(x.secret)*100) / 100,
			Encoding:    x.encoding,
			Tags:        slices.Clone(x.rule.Tags),
			Groups:      x.groups,
		}
		if x.encoding != "" {
			f.Tags = append(f.Tags, "decoded")
		}
		out = append(out, f)
	}
	return out
}

// asciiLower lower-cases ASCII letters only.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// lineBounds returns the line holding buf[s:e], cut to at most n bytes on either side.
func lineBounds(buf []byte, s, e, n int) (int, int) {
	from := max(s-n, 0)
	lo := from
	if nl := bytes.LastIndexByte(buf[from:s], '\n'); nl >= 0 {
		lo = from + nl + 1
	}
	to := min(e+n, len(buf))
	hi := to
	if nl := bytes.IndexByte(buf[e:to], '\n'); nl >= 0 {
		hi = e + nl
	}
	return lo, hi
}

// lineAround returns the line(s) holding buf[s:e], bounded to lineSlack bytes on
// either side.
func lineAround(buf []byte, s, e int) []byte {
	lo, _ := snapBack(buf, s)
	hi, _ := snapForward(buf, e)
	return bytes.TrimRight(buf[lo:hi], "\r\n")
}

// snapBack moves i back to the start of its line, at most lineSlack bytes. cut
// reports that the line goes on before the returned offset.
func snapBack(buf []byte, i int) (int, bool) {
	from := max(i-lineSlack, 0)
	if nl := bytes.LastIndexByte(buf[from:i], '\n'); nl >= 0 {
		return from + nl + 1, false
	}
	return from, from > 0
}

// snapForward moves i forward to the end of its line, at most lineSlack bytes.
func snapForward(buf []byte, i int) (int, bool) {
	to := min(i+lineSlack, len(buf))
	if nl := bytes.IndexByte(buf[i:to], '\n'); nl >= 0 {
		return i + nl, false
	}
	return to, to < len(buf)
}

// contextLimit is the longest context (in bytes, before redaction) a finding carries.
const contextLimit = 240

// context is the line around buf[s:e] as a finding shows it: cut first (to
// contextLimit bytes around the match, never inside a token, so nothing partial
// of a secret or its encoding is left at a cut), then redacted: the secret, its
// own lines, its encoded forms and, when it was decoded, the encoded span.
func context(buf []byte, s, e int, secret string, decoded bool) string {
	lo, cutBefore := snapBack(buf, s)
	hi, cutAfter := snapForward(buf, e)
	line := buf[lo:hi]
	trimmed := bytes.TrimRight(line, "\r\n")
	cutAfter = cutAfter && len(trimmed) == len(line)
	ctx := finding.Excerpt(string(trimmed), s-lo, min(e-lo, len(trimmed)), contextLimit, cutBefore, cutAfter)
	hide := []string{secret}
	if decoded {
		hide = append(hide, string(buf[s:e]))
	}
	return redactLines([]byte(finding.RedactAll(ctx, hide...)), secret)
}

// redactLines hides secret in line, and also each of the secret's own lines (a
// multi-line secret such as a PEM key may be only partly in the context line).
func redactLines(line []byte, secret string) string {
	out := finding.RedactIn(string(line), secret)
	if strings.Contains(secret, "\n") {
		for _, part := range strings.Split(secret, "\n") {
			if part = strings.TrimSpace(part); len(part) >= 8 {
				out = strings.ReplaceAll(out, part, finding.Redact(part))
			}
		}
	}
	return out
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// IsBinary reports whether content looks binary: a NUL byte in its first 8000
// bytes, as git decides.
func IsBinary(head []byte) bool {
	return bytes.IndexByte(head[:min(len(head), 8000)], 0) >= 0
}

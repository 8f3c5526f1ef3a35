package rules

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// The built-in rules ship twice: as the TOML sources (embedded for `rules test`
// and for users to read) and as a Go table generated from them, which Builtin uses.
//go:generate go run -tags tokenward_regen ./internal/ruletable/gen

//go:embed builtin
var builtinFS embed.FS

// ConfigFileName is the user configuration looked for in the scanned root.
const ConfigFileName = ".tokenward.toml"

// file is the TOML document: a rule file or a user configuration.
type file struct {
	Extend struct {
		Builtin *bool `toml:"builtin"`
	} `toml:"extend"`
	Disabled []string `toml:"disabled"`
	// GitleaksAllow honours inline gitleaks:allow comments (as --gitleaks-allow).
	GitleaksAllow bool           `toml:"gitleaks_allow"`
	Rules         []Rule         `toml:"rule"`
	Allow         []Allow        `toml:"allow"`
	Hygiene       map[string]any `toml:"hygiene"`
}

// Error is a problem in a rule file, located as file:line.
type Error struct {
	Pos    Position
	RuleID string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.File)
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Pos.Line)
	}
	b.WriteString(": ")
	if e.RuleID != "" {
		fmt.Fprintf(&b, "rule %q: ", e.RuleID)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadOptions says where the user configuration comes from.
//
// Trust: a configuration the operator names (ConfigPath, i.e. --config) is
// trusted. One found in the scanned tree (Root, or RepoConfig) is not, unless
// TrustRepoConfig is set: it may add rules and allow entries, disable its own
// rules and tighten hygiene checks, but an attempt to replace a built-in rule, set
// a verify or revoke host, or switch built-in rules or hygiene checks off fails
// with an *UntrustedError naming the file, line and key.
type LoadOptions struct {
	// ConfigPath is an explicit configuration file (--config). When empty, Root is
	// searched for ConfigFileName.
	ConfigPath string
	// Root is the configuration root of the scan (see ConfigRoot); "" skips the search.
	Root string
	// RepoConfig, when set, is the repository's configuration read elsewhere (git
	// --range: the file as of BASE), used instead of Root's file. Data nil means
	// there is none there: the built-in rules apply.
	RepoConfig *RepoConfig
	// TrustRepoConfig lifts the restrictions on a configuration found in the
	// scanned tree (--trust-repo-config).
	TrustRepoConfig bool
	// Hygiene judges the [hygiene] table of an untrusted configuration
	// (hygiene.Policy{}); nil refuses any such table.
	Hygiene HygienePolicy
	// Convert, when set, turns a foreign configuration (e.g. .gitleaks.toml) into
	// tokenward TOML before parsing. It returns ok=false for files it does not own.
	Convert func(path string, data []byte) (out []byte, ok bool, err error)
}

var (
	builtinOnce sync.Once
	builtinSet  *Set
	builtinErr  error
)

// Builtin returns the compiled built-in rule set. It is compiled once per process
// and shared: callers must not modify it.
func Builtin() (*Set, error) {
	builtinOnce.Do(func() {
		builtinSet, builtinErr = builtinFromTable()
	})
	return builtinSet, builtinErr
}

// builtinFromTable returns a fresh built-in Set. Normally it comes from the table
// generated from builtin/*.toml (builtin_table.go): no TOML to decode and no regex
// to parse at start-up, which is on every pre-commit hook's critical path.
func builtinFromTable() (*Set, error) {
	if len(builtinTable) == 0 { // built with -tags tokenward_regen, to regenerate the table
		return LoadBuiltinTOML()
	}
	return &Set{Rules: tableRules(false), Hash: builtinHash}, nil
}

// tableRules returns the generated built-in rules, ready for use. The table was
// validated when it was generated (TestBuiltinTableFresh keeps it in step with the
// TOML), so its regexes compile. The generator also wrote each rule's lazy
// compilation state, so the rules are used in place: start-up neither copies nor
// allocates them. fresh returns copies with new lazy state instead (benchmarks of
// first use).
func tableRules(fresh bool) []*Rule {
	out := make([]*Rule, len(builtinTable))
	for i := range builtinTable {
		r := &builtinTable[i]
		if fresh {
			c := *r
			c.lazy = &lazyRegexp{}
			c.PathRe = nil
			c.Allow = slices.Clone(c.Allow)
			for j := range c.Allow {
				c.Allow[j].compiled = &allowRegexps{}
			}
			r = &c
		}
		if r.Path != "" && r.PathRe == nil {
			r.PathRe = regexp.MustCompile(r.Path)
		}
		out[i] = r
	}
	return out
}

func mustCompileAll(srcs []string) []*regexp.Regexp {
	if len(srcs) == 0 {
		return nil
	}
	out := make([]*regexp.Regexp, len(srcs))
	for i, s := range srcs {
		out[i] = regexp.MustCompile(s)
	}
	return out
}

// builtinRulesTOML parses and validates the embedded builtin/*.toml files: the
// source of truth the generated table is made from.
func builtinRulesTOML() ([]*Rule, error) {
	names, err := fs.Glob(builtinFS, "builtin/*.toml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	parsed := make([]*Parsed, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			data, err := builtinFS.ReadFile(name)
			if err == nil {
				parsed[i], err = Parse("rules/"+name, data)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	var all []*Rule
	for _, p := range parsed {
		if p != nil {
			for _, r := range p.rules {
				r.builtin = true
			}
			all = append(all, p.rules...)
		}
	}
	return all, errors.Join(errs...)
}

// LoadBuiltinTOML compiles the built-in rules from their TOML sources, bypassing
// the generated table and the per-process cache (for the table generator, its
// freshness test and benchmarks).
func LoadBuiltinTOML() (*Set, error) {
	rs, err := builtinRulesTOML()
	if err != nil {
		return nil, err
	}
	return assemble(rs, nil, nil, nil)
}

// RepoConfig is a repository's configuration file read by the caller.
type RepoConfig struct {
	Name string // shown in errors, e.g. "origin/main:.tokenward.toml"
	Data []byte // nil: the repository has no configuration there
}

// Load returns the rule set for a scan: the user configuration if any (explicit,
// handed over in RepoConfig, or found in the root), extending the built-in rules
// unless it says otherwise.
func Load(opts LoadOptions) (*Set, error) {
	path := opts.ConfigPath
	trusted := path != "" || opts.TrustRepoConfig
	var data []byte
	switch {
	case path != "":
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	case opts.RepoConfig != nil:
		if opts.RepoConfig.Data == nil {
			return Builtin()
		}
		path, data = opts.RepoConfig.Name, opts.RepoConfig.Data
	case opts.Root != "":
		candidate := filepath.Join(opts.Root, ConfigFileName)
		st, err := os.Stat(candidate)
		if err != nil || st.IsDir() {
			return Builtin()
		}
		if data, err = os.ReadFile(candidate); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		path = candidate
	default:
		return Builtin()
	}
	if opts.Convert != nil {
		out, ok, err := opts.Convert(path, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if ok {
			data = out
		}
	}
	f, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	if !trusted {
		if err := checkUntrusted(path, data, f, opts.Hygiene); err != nil {
			return nil, err
		}
	}
	var rs []*Rule
	if f.extendBuiltin {
		b, err := builtinFromTable()
		if err != nil {
			return nil, err
		}
		rs = b.Rules
	}
	// A user rule with a built-in id replaces the built-in one (trusted
	// configurations only: checkUntrusted refuses it otherwise).
	for _, r := range f.rules {
		if i := slices.IndexFunc(rs, func(b *Rule) bool { return b.ID == r.ID }); i >= 0 {
			rs[i] = r
		} else {
			rs = append(rs, r)
		}
	}
	for _, id := range f.disabled {
		if !slices.ContainsFunc(rs, func(r *Rule) bool { return r.ID == id }) {
			return nil, &Error{Pos: Position{File: path}, Msg: fmt.Sprintf("disabled: no rule has id %q", id)}
		}
	}
	set, err := assemble(rs, f.allow, f.disabled, f.hygiene)
	if set != nil {
		set.GitleaksAllow = f.gitleaksAllow
	}
	return set, err
}

// Parsed is one validated rule file.
type Parsed struct {
	gitleaksAllow bool
	rules         []*Rule
	allow         []Allow
	disabled      []string
	hygiene       map[string]any
	extendBuiltin bool
}

// Rules returns the file's compiled rules.
func (p *Parsed) Rules() []*Rule { return p.rules }

// Parse decodes and validates one rule file. Every problem is reported as
// file:line: rule "id": what is wrong.
func Parse(name string, data []byte) (*Parsed, error) {
	var f file
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, &Error{Pos: Position{File: name, Line: perr.Position.Line},
				Msg: fmt.Sprintf("column %d: %s", perr.Position.Col, perr.Message)}
		}
		return nil, &Error{Pos: Position{File: name}, Msg: err.Error()}
	}
	lines := ruleLines(data)
	var errs []error
	for _, k := range md.Undecoded() {
		if k[0] == "hygiene" {
			continue // a raw table (nested ones such as [hygiene.severity] count as undecoded), checked by DecodeHygiene
		}
		key := k.String()
		errs = append(errs, &Error{Pos: Position{File: name, Line: keyLine(data, k[len(k)-1])},
			Msg: fmt.Sprintf("unknown key %q (check the spelling against the schema: README.md, section Rules; verify/README.md for [rule.verify] and [rule.revoke])", key)})
	}
	p := &Parsed{disabled: f.Disabled, hygiene: f.Hygiene, extendBuiltin: f.Extend.Builtin == nil || *f.Extend.Builtin,
		gitleaksAllow: f.GitleaksAllow}
	seen := map[string]Position{}
	for i := range f.Rules {
		r := &f.Rules[i]
		r.Origin = Position{File: name}
		if i < len(lines) {
			r.Origin.Line = lines[i]
		}
		if prev, dup := seen[r.ID]; dup && r.ID != "" {
			errs = append(errs, &Error{Pos: r.Origin, RuleID: r.ID,
				Msg: fmt.Sprintf("duplicate id (first defined at line %d); ids must be unique", prev.Line)})
			continue
		}
		seen[r.ID] = r.Origin
		if err := r.Compile(); err != nil {
			errs = append(errs, err)
			continue
		}
		p.rules = append(p.rules, r)
	}
	for i := range f.Allow {
		if err := f.Allow[i].Compile(); err != nil {
			errs = append(errs, &Error{Pos: Position{File: name, Line: keyLine(data, "allow")}, Msg: err.Error()})
		}
	}
	p.allow = f.Allow
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

var idPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`) })

// Compile validates the rule and derives its regex, anchors and window length.
func (r *Rule) Compile() error {
	fail := func(format string, args ...any) error {
		return &Error{Pos: r.Origin, RuleID: r.ID, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case r.ID == "":
		return fail("missing id: give the rule a stable kebab-case id")
	case !idPattern().MatchString(r.ID):
		return fail("id must be kebab-case (lower-case letters, digits and dashes)")
	case r.Regex == "":
		return fail("missing regex")
	}
	if r.Severity == "" {
		r.Severity = "high"
	}
	if !slices.Contains(Severities, r.Severity) {
		return fail("severity %q is not one of %s", r.Severity, strings.Join(Severities, ", "))
	}
	if r.Entropy < 0 || r.Entropy > 8 {
		return fail("entropy %.2f is outside 0..8 bits per byte", r.Entropy)
	}
	if r.Validate != "" {
		if _, ok := Validators[r.Validate]; !ok {
			return fail("validate: unknown validator %q", r.Validate)
		}
	}
	tree, err := syntax.Parse(r.Regex, syntax.Perl)
	if err != nil {
		return fail("regex does not compile: %v", err)
	}
	if n := tree.MaxCap(); r.SecretGroup < 0 || r.SecretGroup > n {
		return fail("secret_group %d is out of range: the regex has %d capture groups", r.SecretGroup, n)
	} else if r.SecretGroup == 0 && n > 0 {
		r.SecretGroup = 1
	}
	switch {
	case r.MaxLength < 0 || r.MaxLength > maxWindow:
		return fail("max_length %d is outside 1..%d bytes", r.MaxLength, maxWindow)
	case r.MaxLength > 0:
		r.MaxLen = r.MaxLength
	default:
		r.MaxLen = maxMatchLen(tree)
	}
	// Matches stay on one line unless the regex asks for newlines explicitly.
	r.SingleLine = !explicitNewline(r.Regex)
	r.lazy = &lazyRegexp{}
	if r.Path != "" {
		if r.PathRe, err = regexp.Compile(r.Path); err != nil {
			return fail("path regex does not compile: %v", err)
		}
	}
	for i := range r.Allow {
		if err := r.Allow[i].Compile(); err != nil {
			return fail("allow: %v", err)
		}
	}
	seenReq := map[string]bool{}
	for i, q := range r.Require {
		switch {
		case !idPattern().MatchString(q.ID):
			return fail("require %d: id %q: name the companion rule by its kebab-case id", i+1, q.ID)
		case q.ID == r.ID:
			return fail("require %d: a rule cannot require itself", i+1)
		case seenReq[q.ID]:
			return fail("require %d: %q is required twice", i+1, q.ID)
		case q.WithinLines != nil && (*q.WithinLines < 0 || *q.WithinLines > MaxWithin):
			return fail("require %q: within_lines %d is outside 0..%d", q.ID, *q.WithinLines, MaxWithin)
		case q.WithinColumns != nil && (*q.WithinColumns < 0 || *q.WithinColumns > MaxWithin):
			return fail("require %q: within_columns %d is outside 0..%d", q.ID, *q.WithinColumns, MaxWithin)
		}
		seenReq[q.ID] = true
	}
	if err := ValidateHTTPSpecs(r); err != nil {
		return fail("%v", err)
	}
	if len(r.Keywords) > 0 {
		r.Anchors = nil
		for _, k := range r.Keywords {
			if len(k) < minAnchorLen {
				return fail("keyword %q is too short to anchor on: use %d bytes or more (short keywords hit everywhere and make every scan slow)", k, minAnchorLen)
			}
			r.Anchors = append(r.Anchors, strings.ToLower(k))
		}
		// A keyword may sit just outside the match (e.g. a variable name before it).
		r.MaxLen = min(r.MaxLen+keywordSlack, maxWindow)
	} else if r.Anchors = deriveAnchors(tree); r.Anchors == nil {
		return fail("no literal of %d+ bytes occurs in every match of the regex; add `keywords` that appear near every match", minAnchorLen)
	}
	return nil
}

// Compile validates the entry, compiles its regexes and lower-cases its stopwords.
// Parse does this for entries it reads; call it for an Allow built in code.
func (a *Allow) Compile() error {
	switch a.Target {
	case "", "secret", "match", "line":
	default:
		return fmt.Errorf("target %q must be secret, match or line", a.Target)
	}
	c := &allowRegexps{}
	var err error
	if c.res, err = compileAll(a.Regexes, "regex"); err != nil {
		return err
	}
	if c.paths, err = compileAll(a.Paths, "path"); err != nil {
		return err
	}
	c.resOnce.Do(func() {}) // compiled already: nothing left for first use
	c.pathsOnce.Do(func() {})
	a.compiled = c
	for i, w := range a.Stopwords {
		a.Stopwords[i] = strings.ToLower(w)
	}
	return nil
}

func compileAll(srcs []string, what string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, s := range srcs {
		re, err := regexp.Compile(s)
		if err != nil {
			return out, fmt.Errorf("%s %q does not compile: %v", what, s, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// assemble builds a Set and hashes its content.
func assemble(rs []*Rule, allow []Allow, disabled []string, hygiene map[string]any) (*Set, error) {
	set := &Set{Allow: allow, Disabled: disabled, Hygiene: hygiene}
	ids := make(map[string]bool, len(rs))
	for _, r := range rs {
		ids[r.ID] = true
	}
	for _, r := range rs {
		for _, q := range r.Require {
			if !ids[q.ID] {
				return nil, &Error{Pos: r.Origin, RuleID: r.ID, Msg: fmt.Sprintf("require: there is no rule %q to be its companion", q.ID)}
			}
		}
	}
	h := sha256.New()
	for _, r := range rs {
		if slices.Contains(disabled, r.ID) {
			continue
		}
		set.Rules = append(set.Rules, r)
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00%v\x00%g\x00%s\x00%s\x00%s\x00%v\x00%d\n",
			r.ID, r.Regex, r.SecretGroup, r.Keywords, r.Entropy, r.Path, allowKey(r.Allow), r.Validate, r.Severity, r.MaxLength)
	}
	fmt.Fprintf(h, "%s", allowKey(allow))
	set.Hash = hex.EncodeToString(h.Sum(nil))[:16]
	return set, nil
}

// allowKey prints an allow list's source fields for hashing (not its compiled regexes).
func allowKey(as []Allow) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "%q %q %q %q|", a.Regexes, a.Target, a.Paths, a.Stopwords)
	}
	return b.String()
}

var ruleHeader = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^[ \t]*\[\[[ \t]*rule[ \t]*\]\]`) })

// ruleLines returns the 1-based line of each [[rule]] header, in order.
func ruleLines(data []byte) []int {
	var out []int
	for _, loc := range ruleHeader().FindAllIndex(data, -1) {
		out = append(out, 1+bytes.Count(data[:loc[0]], []byte("\n")))
	}
	return out
}

// keyLine returns the first line that assigns or opens key, or 0.
func keyLine(data []byte, key string) int {
	re, err := regexp.Compile(`(?m)^[ \t]*(\[+[ \t]*)?([\w.]*\.)?` + regexp.QuoteMeta(key) + `[ \t]*(=|\])`)
	if err != nil {
		return 0
	}
	if loc := re.FindIndex(data); loc != nil {
		return 1 + bytes.Count(data[:loc[0]], []byte("\n"))
	}
	return 0
}

// LoadBuiltinFresh returns the built-in rules as a new process would get them,
// bypassing the per-process cache; for benchmarks of start-up cost.
func LoadBuiltinFresh() (*Set, error) {
	if len(builtinTable) == 0 {
		return LoadBuiltinTOML()
	}
	return &Set{Rules: tableRules(true), Hash: builtinHash}, nil
}

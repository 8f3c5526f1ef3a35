// Package gitleaks converts gitleaks v8 configuration (.gitleaks.toml) into
// tokenward rule TOML, and .gitleaksignore fingerprints into baseline entries.
//
// Conversion keeps what tokenward can express: rules (id, description, regex,
// secretGroup, entropy, keywords, path, tags), allowlists in every form (the legacy
// [rules.allowlist] and [allowlist] tables, [[rules.allowlists]] and [[allowlists]]
// with condition, regexTarget, regexes, paths and stopwords, and targetRules), and
// [extend] (useDefault maps to tokenward's built-in rules, path is read and merged
// as gitleaks does, disabledRules). Everything it cannot express is reported as a
// Note rather than silently dropped.
package gitleaks

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// maxExtendDepth is how many [extend] path levels gitleaks follows.
const maxExtendDepth = 2

// glAllowlist is one gitleaks allowlist, global or per rule.
type glAllowlist struct {
	Description string
	And         bool // condition = "AND"; gitleaks' default is OR
	Commits     []string
	Paths       []string
	RegexTarget string // "", "match" or "line"
	Regexes     []string
	StopWords   []string
	TargetRules []string // global allowlists only
	Where       string   // for notes, e.g. `[[allowlists]] #2 (.gitleaks.toml:40)`
}

// glRule is one gitleaks [[rules]] entry.
type glRule struct {
	ID          string
	Description string
	Path        string
	Regex       string
	SecretGroup int
	Entropy     float64
	Keywords    []string
	Tags        []string
	Allowlists  []*glAllowlist
	Required    []glRequired
	SkipReport  bool
	Where       string // `rule "id" (.gitleaks.toml:12)`
}

// glRequired is one [[rules.required]] entry: a companion rule that must
// match within the given distance (nil: anywhere in the fragment).
type glRequired struct {
	ID            string
	WithinLines   *int
	WithinColumns *int
}

// glConfig is a gitleaks configuration file after [extend] path resolution.
type glConfig struct {
	File        string
	Title       string
	Rules       []*glRule
	Allowlists  []*glAllowlist
	UseDefault  bool     // some level of the extend chain extends gitleaks' default config
	DisableDflt []string // disabledRules that apply to the default config's rules
}

// parser decodes one gitleaks file. Keys are case-insensitive, as viper reads them.
type parser struct {
	file  string
	data  []byte
	notes *[]Note
}

func (p *parser) note(kind NoteKind, where, format string, args ...any) {
	*p.notes = append(*p.notes, Note{Kind: kind, Where: where, What: fmt.Sprintf(format, args...)})
}

// lower returns v with every table key lower-cased, recursively.
func lower(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[strings.ToLower(k)] = lower(e)
		}
		return m
	case []map[string]any:
		out := make([]map[string]any, len(x))
		for i, e := range x {
			out[i] = lower(e).(map[string]any)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = lower(e)
		}
		return out
	}
	return v
}

// tbl reads typed values from a decoded table; where names it in errors.
type tbl struct {
	m     map[string]any
	where string
}

func (t tbl) typeErr(key, want string) error {
	return fmt.Errorf("%s: %s must be %s, not %s", t.where, key, want, describe(t.m[key]))
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a table"
	case []map[string]any, []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

func (t tbl) str(key string) (string, error) {
	v, ok := t.m[key]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", t.typeErr(key, "a string")
	}
	return s, nil
}

func (t tbl) strs(key string) ([]string, error) {
	v, ok := t.m[key]
	if !ok {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		if s, isStr := v.(string); isStr { // viper accepts a lone string for a list
			return []string{s}, nil
		}
		return nil, t.typeErr(key, "an array of strings")
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%s: %s must hold only strings, not %s", t.where, key, describe(e))
		}
		out = append(out, s)
	}
	return out, nil
}

func (t tbl) num(key string) (float64, error) {
	switch x := t.m[key].(type) {
	case nil:
		return 0, nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	}
	return 0, t.typeErr(key, "a number")
}

func (t tbl) integer(key string) (int, error) {
	switch x := t.m[key].(type) {
	case nil:
		return 0, nil
	case int64:
		return int(x), nil
	case float64:
		if x == float64(int(x)) {
			return int(x), nil
		}
	}
	return 0, t.typeErr(key, "an integer")
}

func (t tbl) boolean(key string) (bool, error) {
	switch x := t.m[key].(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	}
	return false, t.typeErr(key, "a boolean")
}

// tables returns an array of tables, or a single table as a one-element array.
func (t tbl) tables(key string) ([]map[string]any, error) {
	switch x := t.m[key].(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return []map[string]any{x}, nil
	case []map[string]any:
		return x, nil
	case []any:
		var out []map[string]any
		for _, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, t.typeErr(key, "an array of tables")
			}
			out = append(out, m)
		}
		return out, nil
	}
	return nil, t.typeErr(key, "a table or an array of tables")
}

// unknown notes keys gitleaks does not define (gitleaks ignores them too).
func (p *parser) unknown(t tbl, known ...string) {
	var extra []string
	for k := range t.m {
		if !slices.Contains(known, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		p.note(Dropped, t.where, "unknown key %q ignored (gitleaks ignores it as well)", k)
	}
}

// headerLines returns the 1-based line of each table header [name] (or [[name]]
// when array), matched case-insensitively.
func headerLines(data []byte, name string, array bool) []int {
	open, close := `\[`, `\]`
	if array {
		open, close = `\[\[`, `\]\]`
	}
	re := regexp.MustCompile(`(?im)^[ \t]*` + open + `[ \t]*` + regexp.QuoteMeta(name) + `[ \t]*` + close)
	var out []int
	for _, loc := range re.FindAllIndex(data, -1) {
		out = append(out, 1+bytes.Count(data[:loc[0]], []byte("\n")))
	}
	return out
}

func at(file string, lines []int, i int) string {
	if i < len(lines) {
		return fmt.Sprintf("%s:%d", file, lines[i])
	}
	return file
}

// parse decodes one gitleaks file (without following [extend]).
func (p *parser) parse() (*glConfig, extendSpec, error) {
	var raw map[string]any
	if _, err := toml.NewDecoder(bytes.NewReader(p.data)).Decode(&raw); err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, extendSpec{}, fmt.Errorf("%s:%d: column %d: %s", p.file, perr.Position.Line, perr.Position.Col, perr.Message)
		}
		return nil, extendSpec{}, fmt.Errorf("%s: %w", p.file, err)
	}
	top := tbl{lower(raw).(map[string]any), p.file}
	p.unknown(top, "title", "description", "minversion", "extend", "rules", "allowlist", "allowlists")
	c := &glConfig{File: p.file}
	var err error
	if c.Title, err = top.str("title"); err != nil {
		return nil, extendSpec{}, err
	}

	var ext extendSpec
	if m, ok := top.m["extend"]; ok {
		em, ok := m.(map[string]any)
		if !ok {
			return nil, extendSpec{}, top.typeErr("extend", "a table")
		}
		et := tbl{em, p.file + ": [extend]"}
		p.unknown(et, "path", "url", "usedefault", "disabledrules")
		if ext.Path, err = et.str("path"); err != nil {
			return nil, ext, err
		}
		if ext.URL, err = et.str("url"); err != nil {
			return nil, ext, err
		}
		if ext.UseDefault, err = et.boolean("usedefault"); err != nil {
			return nil, ext, err
		}
		if ext.Disabled, err = et.strs("disabledrules"); err != nil {
			return nil, ext, err
		}
		if ext.Path != "" && ext.UseDefault {
			return nil, ext, fmt.Errorf("%s: [extend] sets both path and useDefault; gitleaks refuses this too: choose one", p.file)
		}
	}

	ruleLines := headerLines(p.data, "rules", true)
	rts, err := top.tables("rules")
	if err != nil {
		return nil, ext, err
	}
	for i, rm := range rts {
		r, err := p.rule(rm, at(p.file, ruleLines, i))
		if err != nil {
			return nil, ext, err
		}
		if j := slices.IndexFunc(c.Rules, func(x *glRule) bool { return x.ID == r.ID }); j >= 0 {
			p.note(Dropped, c.Rules[j].Where, "duplicate id: the later definition at %s wins, as in gitleaks", at(p.file, ruleLines, i))
			c.Rules = slices.Delete(c.Rules, j, j+1)
		}
		c.Rules = append(c.Rules, r)
	}

	var gts []map[string]any
	for _, key := range []string{"allowlist", "allowlists"} {
		ts, err := top.tables(key)
		if err != nil {
			return nil, ext, err
		}
		gts = append(gts, ts...)
	}
	legacy := headerLines(p.data, "allowlist", false)
	modern := headerLines(p.data, "allowlists", true)
	lines := append(legacy, modern...)
	for i, am := range gts {
		where := fmt.Sprintf("global allowlist #%d (%s)", i+1, at(p.file, lines, i))
		a, err := p.allowlist(am, where, true)
		if err != nil {
			return nil, ext, err
		}
		c.Allowlists = append(c.Allowlists, a)
	}
	return c, ext, nil
}

// extendSpec is a file's [extend] table.
type extendSpec struct {
	Path, URL  string
	UseDefault bool
	Disabled   []string
}

func (p *parser) rule(m map[string]any, pos string) (*glRule, error) {
	t := tbl{m, "rule at " + pos}
	r := &glRule{}
	var err error
	if r.ID, err = t.str("id"); err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.ID) == "" {
		return nil, fmt.Errorf("%s: the rule has no id (gitleaks refuses this too)", pos)
	}
	r.Where = fmt.Sprintf("rule %q (%s)", r.ID, pos)
	t.where = r.Where
	p.unknown(t, "id", "description", "path", "regex", "secretgroup", "entropy", "keywords", "tags",
		"allowlist", "allowlists", "required", "skipreport")
	if r.Description, err = t.str("description"); err != nil {
		return nil, err
	}
	if r.Path, err = t.str("path"); err != nil {
		return nil, err
	}
	if r.Regex, err = t.str("regex"); err != nil {
		return nil, err
	}
	if r.SecretGroup, err = t.integer("secretgroup"); err != nil {
		return nil, err
	}
	if r.Entropy, err = t.num("entropy"); err != nil {
		return nil, err
	}
	if r.Keywords, err = t.strs("keywords"); err != nil {
		return nil, err
	}
	if r.Tags, err = t.strs("tags"); err != nil {
		return nil, err
	}
	if r.SkipReport, err = t.boolean("skipreport"); err != nil {
		return nil, err
	}
	for _, re := range []struct{ what, src string }{{"regex", r.Regex}, {"path", r.Path}} {
		if re.src == "" {
			continue
		}
		if _, err := regexp.Compile(re.src); err != nil {
			return nil, fmt.Errorf("%s: %s does not compile: %v", r.Where, re.what, err)
		}
	}
	req, err := t.tables("required")
	if err != nil {
		return nil, err
	}
	for _, rq := range req {
		rt := tbl{rq, r.Where + ": required"}
		p.unknown(rt, "id", "withinlines", "withincolumns")
		id, err := rt.str("id")
		if err != nil {
			return nil, err
		}
		g := glRequired{ID: id}
		for _, d := range []struct {
			key string
			dst **int
		}{{"withinlines", &g.WithinLines}, {"withincolumns", &g.WithinColumns}} {
			if _, ok := rq[d.key]; !ok {
				continue
			}
			n, err := rt.integer(d.key)
			if err != nil {
				return nil, err
			}
			*d.dst = &n
		}
		r.Required = append(r.Required, g)
	}
	var ats []map[string]any
	for _, key := range []string{"allowlist", "allowlists"} {
		ts, err := t.tables(key)
		if err != nil {
			return nil, err
		}
		ats = append(ats, ts...)
	}
	for i, am := range ats {
		a, err := p.allowlist(am, fmt.Sprintf("%s allowlist #%d", r.Where, i+1), false)
		if err != nil {
			return nil, err
		}
		r.Allowlists = append(r.Allowlists, a)
	}
	return r, nil
}

func (p *parser) allowlist(m map[string]any, where string, global bool) (*glAllowlist, error) {
	t := tbl{m, where}
	known := []string{"description", "condition", "commits", "paths", "regextarget", "regexes", "stopwords"}
	if global {
		known = append(known, "targetrules")
	}
	p.unknown(t, known...)
	a := &glAllowlist{Where: where}
	var err error
	if a.Description, err = t.str("description"); err != nil {
		return nil, err
	}
	cond, err := t.str("condition")
	if err != nil {
		return nil, err
	}
	switch strings.ToUpper(strings.TrimSpace(cond)) {
	case "", "OR", "||":
	case "AND", "&&":
		a.And = true
	default:
		return nil, fmt.Errorf("%s: condition %q must be AND or OR", where, cond)
	}
	if a.RegexTarget, err = t.str("regextarget"); err != nil {
		return nil, err
	}
	switch a.RegexTarget {
	case "secret":
		a.RegexTarget = ""
	case "", "match", "line":
	default:
		return nil, fmt.Errorf("%s: regexTarget %q must be secret, match or line", where, a.RegexTarget)
	}
	if a.Commits, err = t.strs("commits"); err != nil {
		return nil, err
	}
	if a.Paths, err = t.strs("paths"); err != nil {
		return nil, err
	}
	if a.Regexes, err = t.strs("regexes"); err != nil {
		return nil, err
	}
	if a.StopWords, err = t.strs("stopwords"); err != nil {
		return nil, err
	}
	if global {
		if a.TargetRules, err = t.strs("targetrules"); err != nil {
			return nil, err
		}
	}
	for _, list := range [][]string{a.Paths, a.Regexes} {
		for _, s := range list {
			if _, err := regexp.Compile(s); err != nil {
				return nil, fmt.Errorf("%s: regex %q does not compile: %v", where, s, err)
			}
		}
	}
	if len(a.Commits)+len(a.Paths)+len(a.Regexes)+len(a.StopWords) == 0 {
		return nil, fmt.Errorf("%s: an allowlist needs at least one of commits, paths, regexes or stopwords (gitleaks refuses an empty one too)", where)
	}
	return a, nil
}

// load reads a gitleaks file and follows its [extend] chain as gitleaks does:
// at most maxExtendDepth levels; a rule of the extending file with the id of an
// extended rule is merged into it (non-empty scalars override; tags, keywords
// and allowlists append); disabledRules drop extended rules; global allowlists
// append.
func load(file string, data []byte, depth int, readFile func(string) ([]byte, error), notes *[]Note) (*glConfig, error) {
	p := &parser{file: file, data: data, notes: notes}
	c, ext, err := p.parse()
	if err != nil {
		return nil, err
	}
	if ext.URL != "" {
		p.note(Dropped, file+": [extend]", "url %q is not followed (gitleaks does not implement extend.url either); download it and use path", ext.URL)
	}
	if depth >= maxExtendDepth {
		if ext.Path != "" || ext.UseDefault {
			p.note(Dropped, file+": [extend]", "ignored: gitleaks follows [extend] at most %d levels deep", maxExtendDepth)
		}
		return c, nil
	}
	switch {
	case ext.UseDefault:
		c.UseDefault = true
		c.DisableDflt = append(c.DisableDflt, ext.Disabled...)
	case ext.Path != "":
		path, data, err := readExtended(file, ext.Path, readFile)
		if err != nil {
			return nil, err
		}
		base, err := load(path, data, depth+1, readFile, notes)
		if err != nil {
			return nil, err
		}
		merge(c, base, ext.Disabled, p)
	default:
		if len(ext.Disabled) > 0 {
			p.note(Dropped, file+": [extend]", "disabledRules without useDefault or path has no effect")
		}
	}
	return c, nil
}

// readExtended resolves extend.path: relative to the working directory, as
// gitleaks does, else relative to the extending file.
func readExtended(from, path string, readFile func(string) ([]byte, error)) (string, []byte, error) {
	candidates := []string{path}
	if !filepath.IsAbs(path) {
		candidates = append(candidates, filepath.Join(filepath.Dir(from), path))
	}
	var firstErr error
	for _, c := range candidates {
		data, err := readFile(c)
		if err == nil {
			return c, data, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return "", nil, fmt.Errorf("%s: [extend] path: %w", from, firstErr)
}

// merge folds the extended config base into c (gitleaks' Config.extend).
func merge(c, base *glConfig, disabled []string, p *parser) {
	for _, id := range disabled {
		if !slices.ContainsFunc(base.Rules, func(r *glRule) bool { return r.ID == id }) && !base.UseDefault {
			p.note(Dropped, c.File+": [extend]", "disabledRules: %s defines no rule %q", base.File, id)
		}
	}
	for _, br := range base.Rules {
		if slices.Contains(disabled, br.ID) {
			continue
		}
		i := slices.IndexFunc(c.Rules, func(r *glRule) bool { return r.ID == br.ID })
		if i < 0 {
			c.Rules = append(c.Rules, br)
			continue
		}
		cur := c.Rules[i]
		m := *br
		if cur.Description != "" {
			m.Description = cur.Description
		}
		if cur.Entropy != 0 {
			m.Entropy = cur.Entropy
		}
		if cur.SecretGroup != 0 {
			m.SecretGroup = cur.SecretGroup
		}
		if cur.Regex != "" {
			m.Regex = cur.Regex
		}
		if cur.Path != "" {
			m.Path = cur.Path
		}
		m.Tags = append(slices.Clone(br.Tags), cur.Tags...)
		m.Keywords = append(slices.Clone(br.Keywords), cur.Keywords...)
		m.Allowlists = append(slices.Clone(br.Allowlists), cur.Allowlists...)
		m.Where = cur.Where + " extending " + br.Where
		c.Rules[i] = &m
	}
	c.Allowlists = append(c.Allowlists, base.Allowlists...)
	if base.UseDefault {
		c.UseDefault = true
		c.DisableDflt = append(c.DisableDflt, base.DisableDflt...)
		c.DisableDflt = append(c.DisableDflt, disabled...)
	}
}

// IsConfig reports whether a file is a gitleaks configuration: it is named like
// one (.gitleaks.toml, gitleaks.toml, …gitleaks….toml) or holds gitleaks tables
// ([[rules]], [allowlist], [[allowlists]], [rules.allowlist]) or gitleaks
// [extend] keys. tokenward's own files use [[rule]], [[allow]] and builtin.
func IsConfig(path string, data []byte) bool {
	base := strings.ToLower(filepath.Base(path))
	if strings.Contains(base, "gitleaks") && strings.HasSuffix(base, ".toml") {
		return true
	}
	return gitleaksMarker().Match(data)
}

var gitleaksMarker = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?im)^[ \t]*(\[\[[ \t]*rules[ \t]*\]\]|\[\[[ \t]*allowlists[ \t]*\]\]|\[[ \t]*allowlist[ \t]*\]|\[\[?[ \t]*rules[ \t]*\.[ \t]*allowlists?[ \t]*\]\]?|(usedefault|disabledrules)[ \t]*=)`)
})

func defaultReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

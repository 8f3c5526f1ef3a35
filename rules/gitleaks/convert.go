package gitleaks

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"github.com/tokenward/tokenward/rules"
)

// NoteKind classifies a conversion note.
type NoteKind int

const (
	// Dropped: something in the gitleaks file has no tokenward equivalent and
	// was left out.
	Dropped NoteKind = iota
	// Changed: converted, but tokenward behaves differently from gitleaks.
	Changed
)

func (k NoteKind) String() string {
	if k == Dropped {
		return "not converted"
	}
	return "changed"
}

// Note is one thing the conversion could not carry over exactly.
type Note struct {
	Kind  NoteKind
	Where string // e.g. `rule "acme-key" (.gitleaks.toml:12)`
	What  string
}

func (n Note) String() string { return n.Where + ": " + n.What }

// Options tune Convert.
type Options struct {
	// Builtin is the tokenward built-in rule set that [extend] useDefault maps to;
	// nil loads rules.Builtin().
	Builtin *rules.Set
	// ReadFile reads the files named by [extend] path; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
}

// Result is a converted configuration.
type Result struct {
	// TOML is the tokenward configuration; rules.Parse accepts it.
	TOML []byte
	// Notes lists everything not converted, or converted with different behaviour.
	Notes []Note
	// RuleIDs maps each gitleaks rule id to the tokenward rule that replaces it:
	// converted rules, and with useDefault the built-in rules of the same id.
	RuleIDs map[string]string
	// Rules is the number of [[rule]] entries written.
	Rules int
	// Builtin reports whether the converted configuration keeps tokenward's
	// built-in rules (gitleaks [extend] useDefault).
	Builtin bool
}

// Dropped returns the notes of things that were not converted.
func (r *Result) Dropped() []Note {
	var out []Note
	for _, n := range r.Notes {
		if n.Kind == Dropped {
			out = append(out, n)
		}
	}
	return out
}

// converter holds the state of one conversion.
type converter struct {
	cfg     *glConfig
	builtin map[string]*rules.Rule
	notes   []Note
	ids     map[string]string // gitleaks id -> tokenward id
	used    map[string]bool   // tokenward ids written
	rules   int
	pending []pendingRequire // [[rules.required]] entries, by placeholder number
}

func (cv *converter) note(kind NoteKind, where, format string, args ...any) {
	cv.notes = append(cv.notes, Note{Kind: kind, Where: where, What: fmt.Sprintf(format, args...)})
}

// Convert turns a gitleaks v8 configuration into tokenward TOML. name is used in
// notes and errors and to resolve [extend] path. It fails only where gitleaks
// itself would refuse the file (a TOML syntax error, a regex that does not
// compile, an empty allowlist, an unknown condition); everything else that cannot
// be expressed becomes a Note.
func Convert(name string, data []byte, opts Options) (*Result, error) {
	readFile := opts.ReadFile
	if readFile == nil {
		readFile = defaultReadFile
	}
	var parseNotes []Note
	cfg, err := load(name, data, 0, readFile, &parseNotes)
	if err != nil {
		return nil, err
	}
	cv := &converter{cfg: cfg, notes: parseNotes, ids: map[string]string{}, used: map[string]bool{}}
	if cfg.UseDefault {
		set := opts.Builtin
		if set == nil {
			if set, err = rules.Builtin(); err != nil {
				return nil, err
			}
		}
		cv.builtin = map[string]*rules.Rule{}
		for _, r := range set.Rules {
			cv.builtin[r.ID] = r
		}
	}
	cv.targetAllowlists()

	var ruleText, allowText bytes.Buffer
	for _, r := range cfg.Rules {
		cv.rule(&ruleText, r)
	}
	resolved := cv.resolveRequired(ruleText.Bytes())
	ruleText.Reset()
	ruleText.Write(resolved)
	for _, a := range cfg.Allowlists {
		if len(a.TargetRules) > 0 {
			continue
		}
		for _, al := range cv.allow(a) {
			allowText.WriteString("\n[[allow]]\n")
			writeAllow(&allowText, al)
		}
	}
	var disabled []string
	for _, id := range cfg.DisableDflt {
		switch {
		case slices.Contains(disabled, id):
		case cv.builtin[id] == nil:
			cv.note(Dropped, cfg.File+": [extend] disabledRules", "tokenward has no built-in rule %q to disable (gitleaks' default rules differ from tokenward's; see `tokenward rules list`)", id)
		case cv.used[id]:
			// the configuration defines its own rule with this id, which replaces the built-in one
		default:
			disabled = append(disabled, id)
		}
	}
	if cfg.UseDefault {
		for id := range cv.builtin {
			if _, ok := cv.ids[id]; !ok && !slices.Contains(disabled, id) {
				cv.ids[id] = id
			}
		}
	}

	cv.notes = dedupeNotes(cv.notes)
	var out bytes.Buffer
	fmt.Fprintf(&out, "# tokenward configuration converted from the gitleaks configuration %s\n", comment(name))
	if cfg.Title != "" {
		fmt.Fprintf(&out, "# gitleaks title: %s\n", comment(cfg.Title))
	}
	writeNotes(&out, "Not converted", cv.notes, Dropped)
	writeNotes(&out, "Converted with different behaviour", cv.notes, Changed)
	out.WriteString("\n")
	if len(disabled) > 0 {
		out.WriteString("# gitleaks [extend] disabledRules\ndisabled = ")
		writeList(&out, disabled)
		out.WriteString("\n\n")
	}
	out.WriteString("[extend]\n")
	if cfg.UseDefault {
		out.WriteString("builtin = true # gitleaks [extend] useDefault: tokenward's built-in rules stand in for gitleaks' default rules\n")
	} else {
		out.WriteString("builtin = false # a gitleaks configuration without [extend] useDefault uses only its own rules\n")
	}
	out.Write(allowText.Bytes())
	out.Write(ruleText.Bytes())

	if _, err := rules.Parse(name, out.Bytes()); err != nil {
		return nil, fmt.Errorf("the converted configuration does not load (a bug in the converter; please report it): %w", err)
	}
	return &Result{TOML: out.Bytes(), Notes: cv.notes, RuleIDs: cv.ids, Rules: cv.rules, Builtin: cfg.UseDefault}, nil
}

// dedupeNotes drops repeated notes (an allowlist shared through targetRules is
// converted once per rule).
func dedupeNotes(ns []Note) []Note {
	var out []Note
	for _, n := range ns {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// targetAllowlists attaches global allowlists with targetRules to those rules.
// A target that only exists among the built-in rules (useDefault) gets a rule
// entry that merges into the built-in one.
func (cv *converter) targetAllowlists() {
	for _, a := range cv.cfg.Allowlists {
		for _, id := range a.TargetRules {
			i := slices.IndexFunc(cv.cfg.Rules, func(r *glRule) bool { return r.ID == id })
			switch {
			case i >= 0:
				cv.cfg.Rules[i].Allowlists = append(cv.cfg.Rules[i].Allowlists, a)
			case cv.builtin[id] != nil:
				cv.cfg.Rules = append(cv.cfg.Rules, &glRule{ID: id, Allowlists: []*glAllowlist{a},
					Where: fmt.Sprintf("built-in rule %q (targetRules of %s)", id, a.Where)})
			default:
				cv.note(Dropped, a.Where, "targetRules: there is no rule %q (gitleaks refuses this too)", id)
			}
		}
	}
}

var nonID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^a-z0-9]+`) })

// kebab turns a gitleaks id into a tokenward id.
func kebab(id string) string {
	return strings.Trim(nonID().ReplaceAllString(strings.ToLower(id), "-"), "-")
}

// newID returns a unique tokenward id for a gitleaks id.
func (cv *converter) newID(r *glRule) (string, bool) {
	id := kebab(r.ID)
	if id == "" {
		cv.note(Dropped, r.Where, "the id has no letters or digits, and tokenward ids are kebab-case")
		return "", false
	}
	base := id
	// A built-in rule's id is taken too: reusing it would replace the built-in rule,
	// while in gitleaks only an identical id merges.
	for n := 2; cv.used[id] || cv.builtin[id] != nil; n++ {
		id = base + "-" + strconv.Itoa(n)
	}
	if id != r.ID {
		cv.note(Changed, r.Where, "renamed to %q: tokenward rule ids are unique, kebab-case and part of every fingerprint", id)
	}
	return id, true
}

// rule converts one gitleaks rule and writes it to w.
func (cv *converter) rule(w *bytes.Buffer, r *glRule) {
	if r.SkipReport {
		if !cv.requiredIDs()[r.ID] {
			cv.note(Dropped, r.Where, "skipReport = true: the rule only serves as a required part of composite rules, and no rule requires it")
			return
		}
		cv.note(Changed, r.Where, "skipReport = true: converted to companion = true, reported only inside the composite rules that require it")
	}
	if len(r.Required) > 0 {
		cv.note(Changed, r.Where, "composite rule: converted to [[rule.require]]; gitleaks drops a finding whose required rules do not match nearby, tokenward reports it without the missing parts (verification: not_checked)")
	}
	if b := cv.builtin[r.ID]; b != nil {
		if len(r.Required) > 0 {
			cv.note(Dropped, r.Where, "[[rules.required]] on built-in rule %q: built-in rules keep their own composition", r.ID)
		}
		cv.mergeBuiltin(w, r, b)
		return
	}
	if r.Regex == "" {
		if r.Path != "" {
			cv.note(Dropped, r.Where, "path-only rule (no regex): gitleaks reports every file whose path matches %q; tokenward rules match content", r.Path)
		} else if cv.cfg.UseDefault {
			cv.note(Dropped, r.Where, "adjusts gitleaks' default rule %q (it has no regex of its own), but tokenward has no built-in rule with that id, so its keywords and allowlists were not converted; find the equivalent rule with `tokenward rules list` and add the allowlist to it", r.ID)
		} else {
			cv.note(Dropped, r.Where, "the rule has neither regex nor path (gitleaks refuses this too)")
		}
		return
	}
	tr := rules.Rule{
		Description: r.Description,
		Regex:       r.Regex,
		Path:        r.Path,
		SecretGroup: max(r.SecretGroup, 0),
		Entropy:     max(r.Entropy, 0),
		Tags:        dedupe(r.Tags),
		Companion:   r.SkipReport,
	}
	if r.Entropy > 8 {
		cv.note(Dropped, r.Where, "entropy %g is above 8 bits per byte, which no secret reaches: the rule never reports in gitleaks either", r.Entropy)
		return
	}
	kws, ok := cv.keywords(r, tr)
	if !ok {
		return
	}
	tr.Keywords = kws
	for _, a := range r.Allowlists {
		tr.Allow = append(tr.Allow, cv.allow(a)...)
	}
	id, ok := cv.newID(r)
	if !ok {
		return
	}
	tr.ID = id
	probe := tr
	probe.Allow = cloneAllows(tr.Allow)
	if err := probe.Compile(); err != nil {
		cv.note(Dropped, r.Where, "tokenward rejects the rule: %s", strings.TrimPrefix(err.Error(), ": "))
		return
	}
	cv.used[id] = true
	cv.ids[r.ID] = id
	cv.rules++
	fmt.Fprintf(w, "\n[[rule]]\n# from gitleaks %s\n", comment(r.Where))
	writeRule(w, &tr)
	for _, q := range r.Required {
		// The companion's tokenward id is known once every rule is converted:
		// a placeholder, resolved by resolveRequired.
		cv.pending = append(cv.pending, pendingRequire{q: q, where: r.Where})
		fmt.Fprintf(w, "[[rule.require]]\n%s\n", requirePlaceholder(len(cv.pending)-1))
	}
}

// pendingRequire is a [[rules.required]] entry waiting for its companion's id.
type pendingRequire struct {
	q     glRequired
	where string
}

func requirePlaceholder(i int) string { return fmt.Sprintf("# tokenward-require-%d", i) }

// resolveRequired writes the [[rule.require]] entries: the companion's
// tokenward id and distances. A companion that was not converted leaves the
// entry out (the rule then reports alone), with a note.
func (cv *converter) resolveRequired(text []byte) []byte {
	var pairs []string
	for i, p := range cv.pending {
		table := "[[rule.require]]\n" + requirePlaceholder(i) + "\n"
		id, ok := cv.ids[p.q.ID]
		if !ok {
			cv.note(Dropped, p.where, "required rule %q was not converted (or does not exist), so the requirement is left out", p.q.ID)
			pairs = append(pairs, table, "")
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "[[rule.require]]\n# gitleaks [[rules.required]] id = %q\nid = %q\n", comment(p.q.ID), id)
		if p.q.WithinLines != nil {
			fmt.Fprintf(&b, "within_lines = %d\n", max(0, min(*p.q.WithinLines, rules.MaxWithin)))
		}
		if p.q.WithinColumns != nil {
			fmt.Fprintf(&b, "within_columns = %d\n", max(0, min(*p.q.WithinColumns, rules.MaxWithin)))
		}
		pairs = append(pairs, table, b.String())
	}
	if len(pairs) == 0 {
		return text
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(text)))
}

// requiredIDs are the gitleaks ids some rule requires.
func (cv *converter) requiredIDs() map[string]bool {
	out := map[string]bool{}
	for _, r := range cv.cfg.Rules {
		for _, q := range r.Required {
			out[q.ID] = true
		}
	}
	return out
}

// keywords lower-cases and de-duplicates a rule's keywords. tokenward rejects
// keywords shorter than 3 bytes: the rule then anchors on literals derived from
// its regex (which every match contains, so nothing is missed), or failing that
// on its remaining keywords.
func (cv *converter) keywords(r *glRule, tr rules.Rule) ([]string, bool) {
	var kws, short []string
	for _, k := range r.Keywords {
		k = strings.ToLower(k)
		if k == "" || slices.Contains(kws, k) || slices.Contains(short, k) {
			continue
		}
		if len(k) < 3 {
			short = append(short, k)
		} else {
			kws = append(kws, k)
		}
	}
	if len(short) == 0 {
		return kws, true
	}
	probe := tr
	probe.ID, probe.Keywords, probe.Allow = "probe", nil, nil
	if probe.Compile() == nil {
		cv.note(Changed, r.Where, "keywords %q are shorter than the 3 bytes tokenward needs; the rule anchors on literals of its regex instead (%q), which every match contains", short, probe.Anchors)
		return nil, true
	}
	if len(kws) > 0 {
		cv.note(Changed, r.Where, "keywords %q are shorter than the 3 bytes tokenward needs and were dropped; the rule now runs only near %q, so matches with only the dropped keywords nearby are missed", short, kws)
		return kws, true
	}
	cv.note(Dropped, r.Where, "keywords %q are shorter than the 3 bytes tokenward needs, and the regex has no literal of 3+ bytes to anchor on; add a longer keyword", short)
	return nil, false
}

// allow converts one gitleaks allowlist. tokenward's allow entries AND their
// conditions, so an OR allowlist becomes one entry per kind of condition.
// Commits cannot be expressed: they are reported, and an AND allowlist that
// names commits is dropped whole (without the commit condition it would
// suppress more than gitleaks does).
func (cv *converter) allow(a *glAllowlist) []rules.Allow {
	commitHint := "tokenward scans each blob once and does not allowlist by commit; accept the findings of those commits in a baseline instead (tokenward git --range C^..C --format json -o c.json && tokenward baseline update --from c.json)"
	if a.And {
		if len(a.Commits) > 0 {
			cv.note(Dropped, a.Where, "condition = AND with commits %q: %s; the allowlist was left out, as without its commit condition it would suppress more than gitleaks does", a.Commits, commitHint)
			return nil
		}
		return []rules.Allow{{Description: a.Description, Regexes: a.Regexes, Target: a.RegexTarget, Paths: a.Paths, Stopwords: a.StopWords}}
	}
	if len(a.Commits) > 0 {
		cv.note(Dropped, a.Where, "commits %q: %s", a.Commits, commitHint)
	}
	var out []rules.Allow
	if len(a.Regexes) > 0 {
		out = append(out, rules.Allow{Description: a.Description, Regexes: a.Regexes, Target: a.RegexTarget})
	}
	if len(a.Paths) > 0 {
		out = append(out, rules.Allow{Description: a.Description, Paths: a.Paths})
	}
	if len(a.StopWords) > 0 {
		out = append(out, rules.Allow{Description: a.Description, Stopwords: a.StopWords})
	}
	return out
}

// mergeBuiltin applies a gitleaks rule to the tokenward built-in rule of the same
// id, as gitleaks merges a rule into the default rule it extends: non-empty
// description, entropy, secretGroup, regex and path override; tags, keywords and
// allowlists append. The result replaces the built-in rule.
func (cv *converter) mergeBuiltin(w *bytes.Buffer, r *glRule, b *rules.Rule) {
	m := *b
	m.Tags = slices.Clone(b.Tags)
	m.Allow = cloneAllows(b.Allow)
	m.Examples, m.NegativeExamples = nil, nil
	if r.Description != "" {
		m.Description = r.Description
	}
	if r.Entropy > 0 && r.Entropy <= 8 {
		m.Entropy = r.Entropy
	}
	if r.SecretGroup > 0 {
		m.SecretGroup = r.SecretGroup
	}
	if r.Path != "" {
		m.Path = r.Path
	}
	replaced := r.Regex != "" && r.Regex != b.Regex
	if replaced {
		m.Regex = r.Regex
		if m.Validate != "" {
			cv.note(Changed, r.Where, "the regex replaces the built-in rule's, so its %q check of the secret was dropped", m.Validate)
			m.Validate = ""
		}
		if r.SecretGroup == 0 {
			m.SecretGroup = 0 // the new regex's first group, as in gitleaks
		}
	}
	for _, t := range r.Tags {
		if !slices.Contains(m.Tags, t) {
			m.Tags = append(m.Tags, t)
		}
	}
	if len(r.Keywords) > 0 {
		old := b.Keywords
		if len(old) == 0 && !replaced {
			old = b.Anchors // keep what the built-in rule anchored on
		}
		gr := *r
		gr.Keywords = append(slices.Clone(old), r.Keywords...)
		kws, ok := cv.keywords(&gr, m)
		if !ok {
			return
		}
		m.Keywords = kws
	} else if replaced {
		m.Keywords = slices.Clone(b.Keywords)
	}
	for _, a := range r.Allowlists {
		m.Allow = append(m.Allow, cv.allow(a)...)
	}
	probe := m
	probe.Allow = cloneAllows(m.Allow)
	if err := probe.Compile(); err != nil {
		cv.note(Dropped, r.Where, "merged into tokenward's built-in rule %q, tokenward rejects it: %v", b.ID, err)
		return
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(struct {
		Rule []rules.Rule `toml:"rule"`
	}{[]rules.Rule{m}}); err != nil {
		cv.note(Dropped, r.Where, "cannot write the merged built-in rule %q: %v", b.ID, err)
		return
	}
	cv.used[m.ID] = true
	cv.ids[r.ID] = m.ID
	cv.rules++
	fmt.Fprintf(w, "\n# from gitleaks %s, merged into tokenward's built-in rule %q (gitleaks [extend] useDefault)\n", comment(r.Where), b.ID)
	w.Write(buf.Bytes())
}

func cloneAllows(as []rules.Allow) []rules.Allow {
	out := make([]rules.Allow, len(as))
	for i, a := range as {
		out[i] = rules.Allow{Description: a.Description, Regexes: slices.Clone(a.Regexes), Target: a.Target,
			Paths: slices.Clone(a.Paths), Stopwords: slices.Clone(a.Stopwords)}
	}
	return out
}

func dedupe(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func writeRule(w *bytes.Buffer, r *rules.Rule) {
	kv(w, "id", r.ID)
	if r.Description != "" {
		kv(w, "description", r.Description)
	}
	kv(w, "regex", r.Regex)
	if r.SecretGroup > 0 {
		fmt.Fprintf(w, "secret_group = %d\n", r.SecretGroup)
	}
	if len(r.Keywords) > 0 {
		w.WriteString("keywords = ")
		writeList(w, r.Keywords)
		w.WriteString("\n")
	}
	if r.Entropy > 0 {
		fmt.Fprintf(w, "entropy = %s\n", strconv.FormatFloat(r.Entropy, 'f', -1, 64))
	}
	if r.Path != "" {
		kv(w, "path", r.Path)
	}
	if len(r.Tags) > 0 {
		w.WriteString("tags = ")
		writeList(w, r.Tags)
		w.WriteString("\n")
	}
	if r.Companion {
		w.WriteString("companion = true\n")
	}
	for _, a := range r.Allow {
		w.WriteString("[[rule.allow]]\n")
		writeAllow(w, a)
	}
}

func writeAllow(w *bytes.Buffer, a rules.Allow) {
	if a.Description != "" {
		kv(w, "description", a.Description)
	}
	for _, l := range []struct {
		key  string
		list []string
	}{{"regexes", a.Regexes}, {"paths", a.Paths}, {"stopwords", a.Stopwords}} {
		if len(l.list) == 0 {
			continue
		}
		w.WriteString(l.key + " = ")
		writeList(w, l.list)
		w.WriteString("\n")
		if l.key == "regexes" && a.Target != "" {
			kv(w, "target", a.Target)
		}
	}
}

func kv(w *bytes.Buffer, key, value string) {
	w.WriteString(key + " = " + quote(value) + "\n")
}

func writeList(w *bytes.Buffer, list []string) {
	if len(list) == 1 {
		w.WriteString("[" + quote(list[0]) + "]")
		return
	}
	w.WriteString("[\n")
	for _, s := range list {
		w.WriteString("  " + quote(s) + ",\n")
	}
	w.WriteString("]")
}

// quote writes s as a TOML string: a literal string where it can (regexes stay
// readable), else a basic string with escapes.
func quote(s string) string {
	control := strings.ContainsFunc(s, func(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f })
	switch {
	case !control && !strings.Contains(s, "'"):
		return "'" + s + "'"
	case !control && !strings.Contains(s, "'''") && !strings.HasSuffix(s, "'''") && !strings.HasPrefix(s, "\n"):
		return "'''" + s + "'''"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// comment makes s safe for a one-line TOML comment.
func comment(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func writeNotes(w *bytes.Buffer, title string, notes []Note, kind NoteKind) {
	first := true
	for _, n := range notes {
		if n.Kind != kind {
			continue
		}
		if first {
			fmt.Fprintf(w, "#\n# %s:\n", title)
			first = false
		}
		fmt.Fprintf(w, "#   - %s\n", comment(n.String()))
	}
}

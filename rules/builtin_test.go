package rules

import (
	"bufio"
	"bytes"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// refComment is the reference every built-in rule carries in the comment block
// directly above its [[rule]] header.
var refComment = regexp.MustCompile(`^#\s*ref:\s*https?://\S+$`)

// TestBuiltinRuleStructure checks what the catalogue promises for every rule: an id,
// a description, a severity, tags, a reference URL, two examples and a negative one.
// Whether the examples match is run through the engine by `tokenward rules test`.
func TestBuiltinRuleStructure(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatalf("built-in rules do not load: %v", err)
	}
	if n := len(set.Rules); n < 200 {
		t.Errorf("built-in catalogue has %d rules, want at least 200", n)
	}
	for _, r := range set.Rules {
		where := r.Origin.File + ": rule " + r.ID
		switch {
		case r.ID == "":
			t.Errorf("%s: no id", where)
		case strings.TrimSpace(r.Description) == "":
			t.Errorf("%s: no description", where)
		case !slices.Contains(Severities, r.Severity):
			t.Errorf("%s: severity %q", where, r.Severity)
		case len(r.Tags) == 0:
			t.Errorf("%s: no tags", where)
		case len(r.Examples) < 2:
			t.Errorf("%s: %d examples, want >= 2", where, len(r.Examples))
		case len(r.NegativeExamples) < 1:
			t.Errorf("%s: no negative example", where)
		}
		for _, tag := range r.Tags {
			if tag == "" || strings.ToLower(tag) != tag || strings.ContainsAny(tag, " \t") {
				t.Errorf("%s: tag %q is not a lower-case word", where, tag)
			}
		}
	}
}

// TestBuiltinRuleReferences requires a `# ref: URL` comment above each [[rule]].
func TestBuiltinRuleReferences(t *testing.T) {
	names, err := fs.Glob(builtinFS, "builtin/*.toml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no embedded rule files: %v", err)
	}
	rules := 0
	for _, name := range names {
		data, err := builtinFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var block []string // comment lines directly above the current line
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for line := 1; sc.Scan(); line++ {
			text := strings.TrimSpace(sc.Text())
			switch {
			case strings.HasPrefix(text, "#"):
				block = append(block, text)
			case text == "[[rule]]":
				rules++
				if !slices.ContainsFunc(block, refComment.MatchString) {
					t.Errorf("%s:%d: [[rule]] has no `# ref: https://...` comment above it", name, line)
				}
				block = nil
			default:
				block = nil
			}
		}
	}
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if rules != len(set.Rules) {
		t.Errorf("counted %d [[rule]] headers, loaded %d rules", rules, len(set.Rules))
	}
}

// TestBuiltinIDsAndAnchors: ids are unique across files, and no rule anchors on a
// literal so common that it would open a window on most lines of code.
func TestBuiltinIDsAndAnchors(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, r := range set.Rules {
		if prev, ok := seen[r.ID]; ok {
			t.Errorf("rule %s defined in %s and %s", r.ID, prev, r.Origin.File)
		}
		seen[r.ID] = r.Origin.File
		for _, a := range r.Anchors {
			if len(a) < 3 {
				t.Errorf("rule %s: anchor %q shorter than 3 bytes", r.ID, a)
			}
		}
	}
}

// TestBuiltinValidatorsExist: every validator a rule names exists, and every
// registered validator is used by some built-in rule (no dead checks).
func TestBuiltinValidatorsExist(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, r := range set.Rules {
		if r.Validate == "" {
			continue
		}
		if _, ok := Validators[r.Validate]; !ok {
			t.Errorf("rule %s: unknown validator %q", r.ID, r.Validate)
		}
		used[r.Validate] = true
	}
	for name := range Validators {
		if !used[name] {
			t.Errorf("validator %q is used by no built-in rule", name)
		}
	}
}

// TestBuiltinExamplesDistinct: an example that is also a negative example of the
// same rule can never pass, and copy-pasted examples test nothing new.
func TestBuiltinExamplesDistinct(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range set.Rules {
		seen := map[string]bool{}
		for _, ex := range r.Examples {
			if seen[ex] {
				t.Errorf("rule %s: duplicate example %q", r.ID, ex)
			}
			seen[ex] = true
		}
		for _, ex := range r.NegativeExamples {
			if seen[ex] {
				t.Errorf("rule %s: %q is both an example and a negative example", r.ID, ex)
			}
		}
	}
}

package rules

import (
	"fmt"
	"slices"
)

// RunExamples checks the examples of every rule that only selects (all when nil) against a matcher built by newMatcher
// (the engine, which rules cannot import). It returns one line per failure, in the
// form file:line: rule "id": what failed.
func RunExamples(set *Set, only func(*Rule) bool, newMatcher func(*Set) (func(path, text string) []string, error)) ([]string, error) {
	match, err := newMatcher(set)
	if err != nil {
		return nil, err
	}
	var failures []string
	for _, r := range set.Rules {
		if only != nil && !only(r) {
			continue
		}
		path := examplePath(r)
		for _, ex := range r.Examples {
			if !slices.Contains(match(path, ex), r.ID) {
				failures = append(failures, (&Error{Pos: r.Origin, RuleID: r.ID,
					Msg: fmt.Sprintf("example does not match: %q", ex)}).Error())
			}
		}
		for _, ex := range r.NegativeExamples {
			if slices.Contains(match(path, ex), r.ID) {
				failures = append(failures, (&Error{Pos: r.Origin, RuleID: r.ID,
					Msg: fmt.Sprintf("negative example matches: %q", ex)}).Error())
			}
		}
	}
	return failures, nil
}

// examplePath is a path the rule applies to, for rules limited by `path`.
func examplePath(r *Rule) string {
	if r.PathRe == nil {
		return "example.txt"
	}
	for _, p := range []string{".npmrc", ".pypirc", "config.json", ".env", "id_rsa", ".netrc", "settings.xml", ".git-credentials", "credentials", ".dockercfg", "kubeconfig", "config.yaml", "config.php"} {
		if r.PathRe.MatchString(p) {
			return p
		}
	}
	return "example.txt"
}

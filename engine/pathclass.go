package engine

import (
	"regexp"

	"github.com/tokenward/tokenward/rules"
)

// PathClassFor returns an a path-class option of a source for a rule set: the key of a path is
// which of the set's path regexes (rule paths, rule and global allow paths) match
// it, so two paths with the same key get the same engine result for a blob. It
// returns nil when no rule depends on the path.
func PathClassFor(set *rules.Set) func(string) string {
	if set == nil {
		return nil
	}
	var res []*regexp.Regexp
	seen := map[string]bool{}
	add := func(re *regexp.Regexp) { // the same pattern often guards many rules
		if re != nil && !seen[re.String()] {
			seen[re.String()] = true
			res = append(res, re)
		}
	}
	for _, a := range set.Allow {
		for _, re := range a.PathRegexps() {
			add(re)
		}
	}
	for _, r := range set.Rules {
		add(r.PathRe)
		for _, a := range r.Allow {
			for _, re := range a.PathRegexps() {
				add(re)
			}
		}
	}
	if len(res) == 0 {
		return nil
	}
	return func(path string) string {
		key := make([]byte, (len(res)+7)/8)
		for i, re := range res {
			if re.MatchString(path) {
				key[i/8] |= 1 << (i % 8)
			}
		}
		return string(key)
	}
}

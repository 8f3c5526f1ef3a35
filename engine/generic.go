package engine

import (
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

// dedupeGeneric reports a span matched by several generic rules once: of the generic
// findings with the same span (start and end of the reported secret, or of the
// encoded text holding it), it keeps the one of the highest severity and, among
// equals, the one with the smallest rule id. Specific findings are left alone (a
// generic finding overlapping one is dropped by suppressGeneric). The order of the
// findings kept is unchanged.
func dedupeGeneric(rs []raw) []raw {
	type span struct{ start, end int }
	var best map[span]int // span -> index in rs of the finding kept so far
	dup := false
	for i := range rs {
		if !rs[i].generic {
			continue
		}
		if best == nil {
			best = make(map[span]int)
		}
		k := span{rs[i].start, rs[i].end}
		j, ok := best[k]
		if !ok {
			best[k] = i
			continue
		}
		dup = true
		if genericBefore(rs[i].rule, rs[j].rule) {
			best[k] = i
		}
	}
	if !dup {
		return rs
	}
	out := rs[:0]
	for i, r := range rs {
		if !r.generic || best[span{r.start, r.end}] == i {
			out = append(out, r)
		}
	}
	return out
}

// genericBefore reports whether a wins over b for the same span: higher severity,
// then the smaller id.
func genericBefore(a, b *rules.Rule) bool {
	if sa, sb := finding.SeverityRank(a.Severity), finding.SeverityRank(b.Severity); sa != sb {
		return sa < sb
	}
	return a.ID < b.ID
}

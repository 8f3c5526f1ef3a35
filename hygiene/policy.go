package hygiene

import (
	"fmt"
	"sort"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

// Policy judges [hygiene] tables for the rules loader's trust model: a
// configuration found in the scanned tree may tighten the checks, not loosen
// them.
type Policy struct{}

var _ rules.HygienePolicy = Policy{}

// IsCheck reports whether id names a hygiene check.
func (Policy) IsCheck(id string) bool {
	_, ok := CheckByID(id)
	return ok
}

// Weakenings lists what raw loosens compared with the defaults. A table that
// does not decode gives none: ConfigOf reports it.
func (Policy) Weakenings(raw map[string]any) []rules.Weakening {
	if raw == nil {
		return nil
	}
	c, err := DecodeConfig(raw)
	if err != nil {
		return nil
	}
	d := DefaultConfig()
	var errs []rules.Weakening
	add := func(line string, key, msg string) {
		errs = append(errs, rules.Weakening{Line: line, Key: key, Msg: msg})
	}
	if !c.Enabled {
		add("enabled", "hygiene.enabled", "= false switches every hygiene check off")
	}
	off := make([]string, 0, len(c.Disabled))
	for id := range c.Disabled {
		off = append(off, id)
	}
	sort.Strings(off)
	for _, id := range off {
		if b, ok := raw[id].(bool); ok && !b {
			add(id, "hygiene."+id, "= false switches that hygiene check off")
		} else {
			add("disable", "hygiene.disable", fmt.Sprintf("switches the hygiene check %q off", id))
		}
	}
	if c.MaxJWTLifetime > d.MaxJWTLifetime {
		add("max_jwt_lifetime", "hygiene.max_jwt_lifetime", fmt.Sprintf("raises the JWT lifetime limit above the default %dd", int(d.MaxJWTLifetime/(24*time.Hour))))
	}
	if !c.ClientSideRaise && d.ClientSideRaise {
		add("client_side_raise", "hygiene.client_side_raise", "= false lowers the severity of secrets in browser-shipped code")
	}
	if c.MaxConfigBytes < d.MaxConfigBytes {
		add("max_config_size", "hygiene.max_config_size", "lowers the size up to which config files are checked")
	}
	ids := make([]string, 0, len(c.Severity))
	for id := range c.Severity {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if finding.SeverityRank(c.Severity[id]) > finding.SeverityRank(d.SeverityOf(id)) {
			add(id, "hygiene.severity."+id, fmt.Sprintf("lowers the severity below the default %q", d.SeverityOf(id)))
		}
	}
	return errs
}

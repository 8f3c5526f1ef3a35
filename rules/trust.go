package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// TrustFlag is the command-line opt-in that lifts the restrictions on a
// configuration found in the scanned tree.
const TrustFlag = "--trust-repo-config"

// UntrustedError is an attempt by a configuration found in the scanned tree (not
// named by the operator) to do what only a trusted configuration may: replace a
// built-in rule, name a verify or revoke host, or switch built-in rules or
// hygiene checks off.
type UntrustedError struct {
	Pos    Position
	RuleID string
	Key    string // the TOML key, e.g. "rule.verify", "disabled", "hygiene.enabled"
	Msg    string // what the key tries to do
}

func (e *UntrustedError) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.File)
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Pos.Line)
	}
	b.WriteString(": ")
	if e.RuleID != "" {
		fmt.Fprintf(&b, "rule %q: ", e.RuleID)
	}
	fmt.Fprintf(&b, "%s %s; a configuration found in the scanned tree may only add rules and allow entries "+
		"and tighten checks. If you trust this file, pass %s, or name it with --config FILE",
		e.Key, e.Msg, TrustFlag)
	return b.String()
}

// checkUntrusted returns every restricted thing the configuration f (the file
// name with content data) does, joined.
func checkUntrusted(name string, data []byte, f *Parsed, pol HygienePolicy) error {
	var errs []error
	at := func(key string) Position { return Position{File: name, Line: keyLine(data, key)} }
	if !f.extendBuiltin {
		errs = append(errs, &UntrustedError{Pos: at("builtin"), Key: "extend.builtin",
			Msg: "= false drops every built-in rule"})
	}
	builtin, err := Builtin()
	if err != nil {
		return err
	}
	isBuiltin := func(id string) bool {
		return slices.ContainsFunc(builtin.Rules, func(r *Rule) bool { return r.ID == id })
	}
	for _, r := range f.rules {
		if isBuiltin(r.ID) {
			errs = append(errs, &UntrustedError{Pos: r.Origin, RuleID: r.ID, Key: "rule.id",
				Msg: "replaces the built-in rule of that id (its regex, allow list and verification host); give the rule an id of its own"})
		}
		if r.Verify != nil {
			errs = append(errs, &UntrustedError{Pos: r.Origin, RuleID: r.ID, Key: "rule.verify",
				Msg: "names a host that found secrets would be sent to for verification"})
		}
		if r.Revoke != nil {
			errs = append(errs, &UntrustedError{Pos: r.Origin, RuleID: r.ID, Key: "rule.revoke",
				Msg: "names a host that found secrets would be sent to for revocation"})
		}
	}
	for _, id := range f.disabled {
		hygiene := pol != nil && pol.IsCheck(id)
		if isBuiltin(id) || hygiene {
			what := "built-in rule"
			if hygiene {
				what = "hygiene check"
			}
			errs = append(errs, &UntrustedError{Pos: at("disabled"), Key: "disabled",
				Msg: fmt.Sprintf("switches the %s %q off", what, id)})
		}
	}
	errs = append(errs, hygieneWeakening(name, data, f.hygiene, pol)...)
	return errors.Join(errs...)
}

// HygienePolicy judges a [hygiene] table for the trust model: the hygiene
// package owns the catalogue and the table's meaning (hygiene.Policy implements
// it), so the loader asks rather than decoding the table itself.
type HygienePolicy interface {
	// IsCheck reports whether id names a hygiene check.
	IsCheck(id string) bool
	// Weakenings lists what raw loosens compared with the defaults. A table that
	// does not decode gives none: decoding it later reports the error.
	Weakenings(raw map[string]any) []Weakening
}

// Weakening is one setting that loosens the hygiene checks.
type Weakening struct {
	Line string // the key as written in the table, to locate its line
	Key  string // the full key, e.g. "hygiene.enabled"
	Msg  string // what it does
}

// hygieneWeakening lists what a [hygiene] table loosens, as UntrustedErrors.
// Without a policy any [hygiene] table is refused: it cannot be judged.
func hygieneWeakening(name string, data []byte, raw map[string]any, pol HygienePolicy) []error {
	if raw == nil {
		return nil
	}
	if pol == nil {
		return []error{&UntrustedError{Pos: Position{File: name, Line: keyLine(data, "hygiene")}, Key: "hygiene",
			Msg: "cannot be judged by this loader (no hygiene policy)"}}
	}
	var errs []error
	for _, w := range pol.Weakenings(raw) {
		errs = append(errs, &UntrustedError{Pos: Position{File: name, Line: keyLine(data, w.Line)}, Key: w.Key, Msg: w.Msg})
	}
	return errs
}

// ConfigRoot returns the directory whose .tokenward.toml and .tokenwardignore
// apply to a scan of path: the top of the git work tree holding path (the nearest
// directory, path's own included, with a .git directory or file), else path itself
// (its directory when path is a file). The result is path's form (relative stays
// relative) when no work tree is found.
func ConfigRoot(path string) string {
	dir := path
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		dir = filepath.Dir(path)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	for d := abs; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			if d == abs {
				return dir
			}
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// Package scannertest provides engines for tests of packages that consume
// findings (reports, baselines, hygiene reviews).
package enginetest

import (
	"testing"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/rules"
)

// Builtin returns an engine over the built-in rules with default options.
func Builtin(t testing.TB) *engine.Engine {
	t.Helper()
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(set, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// Package scannertest provides engines for tests of packages that consume
// findings (reports, baselines, hygiene reviews).
package scannertest

import (
	"testing"

	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/scanner"
)

// Builtin returns an engine over the built-in rules with default options.
func Builtin(t testing.TB) *scanner.Engine {
	t.Helper()
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := scanner.New(set, scanner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

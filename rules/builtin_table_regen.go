//go:build tokenward_regen

package rules

// Built with -tags tokenward_regen (by go generate), the package has no generated
// table, so the generator can run even when the old table no longer compiles.
var builtinTable []Rule

const builtinHash = ""

package rules

// Set is a compiled, validated rule set ready for the engine.
type Set struct {
	Rules    []*Rule
	Allow    []Allow  // global allow list, applied to every rule
	Disabled []string // rule ids switched off by the user config
	// Raw hygiene table from the config, decoded by the hygiene package.
	Hygiene map[string]any
	// Hash identifies the rule set's content (for caches keyed by ruleset).
	Hash string
}

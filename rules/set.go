package rules

// Set is a compiled, validated rule set ready for the engine.
type Set struct {
	Rules    []*Rule
	Allow    []Allow  // global allow list, applied to every rule
	Disabled []string // rule ids switched off by the user config
	// GitleaksAllow: the config's gitleaks_allow = true honours inline
	// gitleaks:allow comments, as --gitleaks-allow does.
	GitleaksAllow bool
	// Raw hygiene table from the config, decoded by the hygiene package.
	Hygiene map[string]any
	// Hash identifies the rule set's content (for caches keyed by ruleset).
	Hash string
}

package rules

// VerifySpec describes how to check whether a secret is live: HTTP steps and
// response matchers. Owned by the verify package's schema (see issue 6).
type VerifySpec struct {
	Steps []HTTPStep `toml:"step"`
}

// RevokeSpec describes how to revoke a secret.
type RevokeSpec struct {
	Steps []HTTPStep `toml:"step"`
}

// HTTPStep is one templated request and the matchers that classify its response.
type HTTPStep struct {
	Method  string            `toml:"method"`
	URL     string            `toml:"url"`
	Headers map[string]string `toml:"headers"`
	Body    string            `toml:"body"`
}

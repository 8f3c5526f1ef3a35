package rules

// Validators are format checks a rule can name in `validate`. Each reports whether
// a candidate secret has the structure its format promises (checksums, decodable
// headers...). A rule naming an unknown validator fails to load.
var Validators = map[string]func(secret string) bool{}

// Valid reports whether secret passes the rule's validator, if it has one.
func (r *Rule) Valid(secret string) bool {
	if r.Validate == "" {
		return true
	}
	v, ok := Validators[r.Validate]
	return ok && v(secret)
}

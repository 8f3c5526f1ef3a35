// Package jwt decodes JSON Web Tokens found in content and judges their hygiene:
// unsigned (alg none), no expiry, lifetime over policy, expired. It never verifies
// signatures and never calls out.
package jwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tokenward/tokenward/finding"
)

// Token is a decoded (unverified) JWS compact token.
type Token struct {
	Header map[string]any
	Claims map[string]any
	Alg    string
	// Times from the claims; the Has* fields say whether the claim was present and numeric.
	Exp, Iat, Nbf          time.Time
	HasExp, HasIat, HasNbf bool
}

// Looks reports whether s has the shape of a JWS compact token: three base64url
// segments, the first two starting with the encoding of `{"`.
func Looks(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "eyJ") || !strings.HasPrefix(parts[1], "eyJ") && !strings.HasPrefix(parts[1], "e30") {
		return false
	}
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=') {
				return false
			}
		}
	}
	return true
}

// Parse decodes the header and claims of s. A string that has the shape of a JWT
// but does not decode to JSON objects with an "alg" header is an error.
func Parse(s string) (*Token, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("a JWS compact token has 3 dot-separated parts, this has %d", len(parts))
	}
	var t Token
	if err := decodeSegment(parts[0], &t.Header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if err := decodeSegment(parts[1], &t.Claims); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	alg, ok := t.Header["alg"].(string)
	if !ok {
		return nil, errors.New(`header has no "alg"`)
	}
	t.Alg = alg
	t.Exp, t.HasExp = numericDate(t.Claims["exp"])
	t.Iat, t.HasIat = numericDate(t.Claims["iat"])
	t.Nbf, t.HasNbf = numericDate(t.Claims["nbf"])
	return &t, nil
}

func decodeSegment(seg string, into *map[string]any) error {
	seg = strings.TrimRight(seg, "=")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("not base64url: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	if *into == nil {
		return errors.New("not a JSON object")
	}
	return nil
}

// numericDate reads a NumericDate claim (seconds since the epoch, possibly
// fractional or, leniently, a numeric string).
func numericDate(v any) (time.Time, bool) {
	var f float64
	switch x := v.(type) {
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return time.Time{}, false
		}
	case string:
		var err error
		if f, err = strconv.ParseFloat(x, 64); err != nil {
			return time.Time{}, false
		}
	default:
		return time.Time{}, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e13 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// Lifetime is exp - iat (or exp - nbf without iat); ok is false when it cannot be computed.
func (t *Token) Lifetime() (time.Duration, bool) {
	switch {
	case t.HasExp && t.HasIat:
		return t.Exp.Sub(t.Iat), true
	case t.HasExp && t.HasNbf:
		return t.Exp.Sub(t.Nbf), true
	}
	return 0, false
}

// Issue is one hygiene problem of a token.
type Issue struct {
	RuleID  string
	Message string
}

// Analyze judges t at time now against the lifetime policy max.
func Analyze(t *Token, now time.Time, max time.Duration) []Issue {
	var out []Issue
	if strings.EqualFold(t.Alg, "none") {
		out = append(out, Issue{"jwt-alg-none", `JWT header has alg "none": the token is unsigned and anyone can forge one; ` +
			`make the server reject alg none and issue signed tokens`})
	}
	switch {
	case !t.HasExp:
		out = append(out, Issue{"jwt-no-expiry", "JWT has no exp claim, so it never expires; " +
			"issue it with the shortest practical expiry, rotate this one and keep it out of source"})
	case !t.Exp.After(now):
		out = append(out, Issue{"jwt-expired", fmt.Sprintf("JWT expired %s (%s ago); it no longer grants access "+
			"but still exposes its claims and shows tokens being committed: remove it and keep tokens out of source",
			t.Exp.Format(time.RFC3339), Human(now.Sub(t.Exp)))})
	default:
		if life, ok := t.Lifetime(); ok && life > max {
			out = append(out, Issue{"jwt-long-lived", fmt.Sprintf("JWT lifetime is %s (iat/nbf to exp %s), over the %s policy "+
				"(max_jwt_lifetime); issue shorter-lived tokens and rotate this one", Human(life), t.Exp.Format(time.RFC3339), Human(max))})
		} else if !ok && t.Exp.Sub(now) > max {
			out = append(out, Issue{"jwt-long-lived", fmt.Sprintf("JWT is valid for another %s (exp %s), over the %s policy "+
				"(max_jwt_lifetime); issue shorter-lived tokens and rotate this one", Human(t.Exp.Sub(now)), t.Exp.Format(time.RFC3339), Human(max))})
		}
	}
	return out
}

// Human renders a duration in the largest sensible unit: "6.3y", "90d", "36h", "15m".
func Human(d time.Duration) string {
	day := 24 * time.Hour
	trim := func(f float64, unit string) string {
		s := strconv.FormatFloat(f, 'f', 1, 64)
		return strings.TrimSuffix(s, ".0") + unit
	}
	switch {
	case d >= 365*day:
		return trim(float64(d)/float64(365*day), "y")
	case d >= 2*day:
		return trim(float64(d)/float64(day), "d")
	case d >= time.Hour:
		return trim(d.Hours(), "h")
	case d >= time.Minute:
		return trim(d.Minutes(), "m")
	}
	return trim(d.Seconds(), "s")
}

// shown are claims and header fields printed as they are; everything else is redacted.
var shown = map[string]bool{"iss": true, "aud": true, "exp": true, "iat": true, "nbf": true, "alg": true, "typ": true}

// scopeLike reports claims that name permissions rather than identities.
func scopeLike(k string) bool {
	l := strings.ToLower(k)
	switch l {
	case "scp", "roles", "role", "permissions", "perms", "grants", "entitlements", "token_use", "token_type", "azp_scope":
		return true
	}
	return strings.Contains(l, "scope")
}

// Summary renders the header alg/typ and the claims, redacting every value except
// iss, aud, exp, iat, nbf, alg, typ and scope-like claims. Times are shown as RFC 3339.
func (t *Token) Summary() string {
	var parts []string
	if t.Alg != "" {
		parts = append(parts, "alg="+strconv.Quote(t.Alg))
	}
	if typ, ok := t.Header["typ"].(string); ok {
		parts = append(parts, "typ="+strconv.Quote(typ))
	}
	keys := make([]string, 0, len(t.Claims))
	for k := range t.Claims {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		// shown claims first, in a fixed order; then the rest alphabetically
		oi, oj := claimOrder(keys[i]), claimOrder(keys[j])
		if oi != oj {
			return oi < oj
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		v := t.Claims[k]
		var s string
		switch {
		case k == "exp" || k == "iat" || k == "nbf":
			if tm, ok := numericDate(v); ok {
				s = tm.Format(time.RFC3339)
			} else {
				s = compact(v)
			}
		case shown[k] || scopeLike(k):
			s = compact(v)
		default:
			s = redactValue(v)
		}
		parts = append(parts, k+"="+s)
	}
	out := strings.Join(parts, " ")
	if len(out) > 400 {
		out = out[:400] + "…"
	}
	return out
}

func claimOrder(k string) int {
	for i, c := range []string{"iss", "aud", "iat", "nbf", "exp"} {
		if k == c {
			return i
		}
	}
	if scopeLike(k) {
		return 5
	}
	return 6
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}

func redactValue(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "{…}"
	case []any:
		return "[…]"
	case string:
		return strconv.Quote(finding.Redact(x))
	case nil:
		return "null"
	default:
		return finding.Redact(fmt.Sprint(x))
	}
}

package jwt

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// make3 builds an unsigned-looking compact token from a header and claims.
func make3(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(header) + "." + enc(claims) + ".c2lnbmF0dXJlLWJ5dGVz"
}

var now = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func TestAnalyze(t *testing.T) {
	hs := map[string]any{"alg": "HS256", "typ": "JWT"}
	day := int64(24 * 3600)
	n := now.Unix()
	tests := []struct {
		name   string
		header map[string]any
		claims map[string]any
		want   []string
	}{
		{"good", hs, map[string]any{"iat": n - 3600, "exp": n + 3600}, nil},
		{"alg none", map[string]any{"alg": "none"}, map[string]any{"iat": n, "exp": n + 60}, []string{"jwt-alg-none"}},
		{"alg None case", map[string]any{"alg": "None"}, map[string]any{"exp": n + 60}, []string{"jwt-alg-none"}},
		{"no exp", hs, map[string]any{"sub": "x", "iat": n}, []string{"jwt-no-expiry"}},
		{"none and no exp", map[string]any{"alg": "none"}, map[string]any{}, []string{"jwt-alg-none", "jwt-no-expiry"}},
		{"long lived", hs, map[string]any{"iat": n - day, "exp": n + 365*day}, []string{"jwt-long-lived"}},
		{"exactly policy", hs, map[string]any{"iat": n - day, "exp": n + 89*day}, nil},
		{"long via nbf", hs, map[string]any{"nbf": n, "exp": n + 100*day}, []string{"jwt-long-lived"}},
		{"long without iat", hs, map[string]any{"exp": n + 100*day}, []string{"jwt-long-lived"}},
		{"short without iat", hs, map[string]any{"exp": n + 10*day}, nil},
		{"expired", hs, map[string]any{"iat": n - 400*day, "exp": n - 10}, []string{"jwt-expired"}},
		{"string exp", hs, map[string]any{"exp": "1500000000"}, []string{"jwt-expired"}},
		{"non-numeric exp counts as missing", hs, map[string]any{"exp": "soon"}, []string{"jwt-no-expiry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Parse(make3(t, tt.header, tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, is := range Analyze(tok, now, 90*24*time.Hour) {
				got = append(got, is.RuleID)
				if is.Message == "" {
					t.Errorf("%s: empty message", is.RuleID)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	good := make3(t, map[string]any{"alg": "HS256"}, map[string]any{"sub": "1"})
	parts := strings.Split(good, ".")
	bad := []string{
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIi",                     // two parts
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx.c2ln",            // truncated claims JSON
		"eyJ!!!.eyJzdWIiOiIxIn0.c2ln",                       // not base64url
		parts[1] + "." + parts[1] + ".c2ln",                 // header without alg
		"eyJhbGciOiJIUzI1NiJ9.WzEsMl0.c2ln",                 // claims are an array
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln.extra.x", // JWE-like 5 parts
	}
	for _, s := range bad {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded", s)
		}
	}
	if _, err := Parse(good); err != nil {
		t.Errorf("Parse(good): %v", err)
	}
}

func TestLooks(t *testing.T) {
	yes := []string{make3(t, map[string]any{"alg": "none"}, map[string]any{}), "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."}
	no := []string{"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0", "abc.def.ghi", "eyJ.eyJ.sig!", "eyJhbGciOiJub25lIn0..x"}
	for _, s := range yes {
		if !Looks(s) {
			t.Errorf("Looks(%q) = false", s)
		}
	}
	for _, s := range no {
		if Looks(s) {
			t.Errorf("Looks(%q) = true", s)
		}
	}
}

func TestSummaryRedacts(t *testing.T) {
	tok, err := Parse(make3(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": "key-1"}, map[string]any{
		"iss": "https://auth.example.io", "aud": []string{"api"}, "sub": "user-8f3kq0d9s8a7f6g5",
		"email": "alice@corp.example", "scope": "read:items write:items", "exp": 1767225600, "iat": 1767222000,
		"org": map[string]any{"id": 7}, "n": 123456789012,
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := tok.Summary()
	for _, want := range []string{`alg="RS256"`, `typ="JWT"`, `iss="https://auth.example.io"`, `aud=["api"]`,
		`exp=2026-01-01T00:00:00Z`, `iat=2025-12-31T23:00:00Z`, `scope="read:items write:items"`, `org={…}`} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
	for _, secret := range []string{"user-8f3kq0d9s8a7f6g5", "alice@corp.example", "123456789012"} {
		if strings.Contains(s, secret) {
			t.Errorf("summary %q shows %q", s, secret)
		}
	}
	if !strings.HasPrefix(s, `alg="RS256" typ="JWT" iss=`) {
		t.Errorf("summary order: %q", s)
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		90 * 24 * time.Hour: "90d", 36 * time.Hour: "36h", 2300 * 24 * time.Hour: "6.3y", 15 * time.Minute: "15m", 3 * time.Second: "3s",
	} {
		if got := Human(d); got != want {
			t.Errorf("Human(%v) = %q, want %q", d, got, want)
		}
	}
}

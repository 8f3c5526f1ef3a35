package engine

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// TestContextCutBeforeRedaction is the regression test for contexts that were
// cut after redaction: on a long line the cut kept part of a base64 or hex
// encoded token, and what was left still decoded to most of the token.
func TestContextCutBeforeRedaction(t *testing.T) {
	secret := "ghp_R8x2Kq9LmN4pV7sT1wY5zA3bC6dE0fG8hJ2k"
	b64 := base64.StdEncoding.EncodeToString([]byte("token " + secret + " end"))
	hx := hex.EncodeToString([]byte("token " + secret))
	cases := []struct {
		name, line string
		decoded    bool
		span       string
	}{
		{"base64 span past the old cut", strings.Repeat("a=1 ", 55) + "blob=" + b64 + strings.Repeat(" b=2", 40), true, b64},
		{"raw secret with a hex blob after it", strings.Repeat("k=v ", 50) + "tok=" + secret + " " + hx + strings.Repeat(" q", 80), false, secret},
		{"raw secret with base64 before it", b64 + " " + strings.Repeat("w ", 40) + "tok=" + secret, false, secret},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			buf := []byte(c.line)
			s := strings.Index(c.line, c.span)
			ctx := context(buf, s, s+len(c.span), secret, c.decoded)
			if strings.Contains(ctx, secret) || strings.Contains(ctx, c.span) && c.decoded {
				t.Fatalf("context shows the secret: %q", ctx)
			}
			for _, word := range strings.FieldsFunc(ctx, func(r rune) bool { return r == ' ' || r == '=' || r == '…' }) {
				for _, dec := range []func(string) ([]byte, error){base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString, hex.DecodeString} {
					if b, err := dec(word); err == nil && strings.Contains(string(b), secret[:12]) {
						t.Fatalf("context %q keeps %q, which decodes to part of the secret: %q", ctx, word, b)
					}
				}
			}
			if len(ctx) > contextLimit+2*len("…") {
				t.Errorf("context is %d bytes, want at most %d", len(ctx), contextLimit)
			}
		})
	}
}

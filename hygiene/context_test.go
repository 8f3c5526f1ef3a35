package hygiene

import (
	"strings"
	"testing"
)

// TestContextLineCutBeforeRedaction is the regression test for a hygiene
// context cut after the secret was located but before it was hidden: a 200
// character password in a long line was cut by the 240-byte window, and the
// 160 characters left inside it were shown, because only the whole secret was
// replaced.
func TestContextLineCutBeforeRedaction(t *testing.T) {
	pw := strings.Repeat("Zq8Rk3Lm9X", 20)
	line := []byte(strings.Repeat("x ", 150) + `url = "https://deploy:` + pw + `@db.internal/app"`)
	start := strings.Index(string(line), pw)
	ctx := contextLine(line, start, start+len(pw), pw)
	for i := 0; i+12 <= len(pw); i++ {
		if strings.Contains(ctx, pw[i:i+12]) {
			t.Fatalf("context %q shows part of the password (%q)", ctx, pw[i:i+12])
		}
	}
	if !strings.Contains(ctx, "https://deploy:") || !strings.Contains(ctx, "@db.internal") {
		t.Errorf("context lost its surroundings: %q", ctx)
	}
}

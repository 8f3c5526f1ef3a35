package engine_test

import (
	"strings"
	"testing"

	"github.com/tokenward/tokenward/engine/enginetest"
)

// TestMultilineSecretContextRedacted: the context of a PEM key finding must not
// show any line of the key body.
func TestMultilineSecretContextRedacted(t *testing.T) {
	eng := enginetest.Builtin(t)
	body := []string{
		"MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB",
		"aFDrBz9vFqU4yQCBbRJbvEnNvMXC8gXFb2ZQ6BrEFZ4ZyqXTv8eE1Ph4QaVtVSWz",
		"ZGhHDnYyjGLGd3PwZ4mT1qfJ6VRTtv4v3wHnHgZzBzEvvt/cBF8rjbYALrTo4vzr",
	}
	in := "key = \"-----BEGIN RSA PRIVATE KEY-----\n" + strings.Join(body, "\n") + "\n-----END RSA PRIVATE KEY-----\"\n"
	fs := eng.ScanBytes("k.py", []byte(in))
	if len(fs) == 0 {
		t.Fatal("PEM key not found")
	}
	for _, f := range fs {
		for _, b := range body {
			if strings.Contains(f.Context, b[:20]) {
				t.Errorf("%s: context shows key material: %q", f.RuleID, f.Context)
			}
		}
	}
}

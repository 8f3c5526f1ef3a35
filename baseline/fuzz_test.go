package baseline

import (
	"bytes"
	"maps"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

// FuzzParse: any input either fails with an error or gives a baseline whose
// written form parses back to the same entries and key id.
func FuzzParse(f *testing.F) {
	fp := finding.Fingerprint("r", "secret-value-1234")
	f.Add([]byte(`{"version":1,"findings":{"` + fp + `":{"reason":"x","expires":"2026-01-02"}},"fingerprint_key_id":"abc"}`))
	f.Add([]byte(`{"version":1,"findings":{"` + finding.LegacyFingerprint("r", "s") + `":{}}}`))
	f.Add([]byte(`{"version":1,"findings":{"tw1:zz":{}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data)
		if err != nil {
			return
		}
		for fp := range b.Entries {
			if !finding.ValidFingerprint(fp) {
				t.Fatalf("accepted key %q", fp)
			}
		}
		var buf bytes.Buffer
		if err := b.Write(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("written baseline does not parse: %v\n%s", err, buf.Bytes())
		}
		if !maps.Equal(back.Entries, b.Entries) || back.KeyID != b.KeyID {
			t.Fatalf("round trip changed the baseline")
		}
	})
}

// FuzzParseIgnoreList: fingerprint lines are accepted only in a valid form;
// every other non-comment line is a pattern.
func FuzzParseIgnoreList(f *testing.F) {
	f.Add(finding.Fingerprint("r", "s") + " # why\nvendor/**\n" + finding.LegacyFingerprint("r", "s") + "\n")
	f.Add("tw1:abc\n")
	f.Add("\uFEFF# c\r\n*.min.js\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		l, err := ParseIgnoreList(strings.NewReader(text), "ignore")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ignore:") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for fp := range l.Fingerprints {
			if !finding.ValidFingerprint(fp) {
				t.Fatalf("accepted fingerprint %q", fp)
			}
		}
		for _, p := range l.Patterns {
			if IsFingerprintLine(p) || strings.HasPrefix(p, "#") {
				t.Fatalf("pattern %q is a fingerprint line or comment", p)
			}
		}
	})
}

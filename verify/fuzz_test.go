package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzAuditLoad: any log content loads without panicking, and without the key
// no record is ever believed: a forger who cannot read the key cannot make a
// fingerprint count as revoked.
func FuzzAuditLoad(f *testing.F) {
	f.Add([]byte(`{"time":"t","fingerprint":"sha256:a","result":"revoked","seq":1,"mac":"00"}` + "\n"))
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"fingerprint":"sha256:a","result":"revoked"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "audit.jsonl")
		os.WriteFile(path, data, 0o600)
		os.WriteFile(AuditKeyPath(path), []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
		a, err := LoadAudit(path)
		if err != nil {
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		for fp := range a.revoked {
			// Only a record whose MAC verifies under the key counts; a random
			// input matching a 256-bit HMAC does not happen.
			t.Errorf("fingerprint %q believed revoked from unsigned input", fp)
		}
	})
}

// FuzzParseEndpoints: no panic; an accepted URL is https or loopback http.
func FuzzParseEndpoints(f *testing.F) {
	f.Add("github=https://ghe.example.com/api/v3")
	f.Add("x=http://127.0.0.1:1")
	f.Add("=")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseEndpoints([]string{s})
		if err != nil {
			return
		}
		for k, u := range m {
			if k == "" || !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
				t.Errorf("accepted %q -> %q=%q", s, k, u)
			}
		}
	})
}

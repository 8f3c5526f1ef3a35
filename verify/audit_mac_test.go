package verify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

// TestForgedAuditLineDoesNotSkipLiveToken: one line claiming a live token was
// revoked must not make revoke skip it: the token is verified first, found
// live, and revoked.
func TestForgedAuditLineDoesNotSkipLiveToken(t *testing.T) {
	p := newFake(t)
	p.set(tokLive, stLive)
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	forged := fmt.Sprintf(`{"time":"2026-01-01T00:00:00Z","fingerprint":%q,"rule":"fake-token","action":"revoke","result":"revoked","operator":"mallory"}`+"\n",
		finding.Fingerprint("fake-token", tokLive))
	if err := os.WriteFile(path, []byte(forged), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := New(testRules(t, fakeRule("fake-token", "/user")), fastOpts(p.srv.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	audit, err := OpenAudit(path)
	if err != nil {
		t.Fatal(err)
	}
	defer audit.Close()
	res, err := v.Revoke(context.Background(), secretFinding("fake-token", tokLive), RevokeOptions{Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != ActionRevoke || res.Status != finding.StatusRevoked || p.state(tokLive) != stRevoked {
		t.Errorf("got %+v; provider state %s; want the live token revoked", res, p.state(tokLive))
	}
}

// TestAuditMAC: every record carries a keyed MAC and a sequence number; the key
// lives 0600 beside the log; an edited, forged, removed or replayed line is
// reported by file and line and not believed.
func TestAuditMAC(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	a, err := OpenAudit(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, fp := range []string{"sha256:a", "sha256:b", "sha256:c"} {
		if err := a.Append(AuditEntry{Fingerprint: fp, Rule: "r", Action: ActionRevoke, Result: "revoked", Time: fmt.Sprintf("t%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	key := path + ".key"
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key %s: %v %v; want mode 0600", key, st, err)
	}
	orig, _ := os.ReadFile(path)
	lines := strings.SplitAfter(strings.TrimSuffix(string(orig), "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"mac":"`) || !strings.Contains(lines[0], `"seq":1`) {
		t.Fatalf("records:\n%s", orig)
	}
	ok, err := LoadAudit(path)
	if err != nil || len(ok.Problems()) != 0 {
		t.Fatalf("intact log: %v %v", err, ok.Problems())
	}
	if _, rev := ok.RevokedAt("sha256:b"); !rev {
		t.Error("intact record not believed")
	}
	forged := `{"time":"x","fingerprint":"sha256:z","rule":"r","action":"revoke","result":"revoked","operator":"mallory","seq":4,"mac":"` + strings.Repeat("0", 64) + `"}` + "\n"
	for _, c := range []struct {
		name, content string
		wantLine      int
		want          string
		unbelieved    string // a fingerprint that must not count as revoked
	}{
		{"edited", lines[0] + strings.Replace(lines[1], "sha256:b", "sha256:q", 1) + lines[2], 2, "MAC does not match", "sha256:q"},
		{"forged", string(orig) + forged, 4, "MAC does not match", "sha256:z"},
		{"unsigned", string(orig) + `{"fingerprint":"sha256:u","result":"revoked"}` + "\n", 4, "no MAC", "sha256:u"},
		{"removed", lines[0] + lines[2], 2, "record 2 is missing", ""},
		{"replayed", string(orig) + lines[1], 4, "repeats record 2", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name+".jsonl")
			os.WriteFile(p, []byte(c.content), 0o600)
			kb, _ := os.ReadFile(key)
			os.WriteFile(p+".key", kb, 0o600)
			for _, open := range []func(string) (*AuditLog, error){OpenAudit, LoadAudit} {
				l, err := open(p)
				if err != nil {
					t.Fatal(err)
				}
				probs := strings.Join(l.Problems(), "\n")
				if !strings.Contains(probs, fmt.Sprintf("%s:%d: ", p, c.wantLine)) || !strings.Contains(probs, c.want) {
					t.Errorf("problems %q, want %s:%d: …%s", probs, p, c.wantLine, c.want)
				}
				if c.unbelieved != "" {
					if _, rev := l.RevokedAt(c.unbelieved); rev {
						t.Errorf("%s believed revoked", c.unbelieved)
					}
				}
				l.Close()
			}
		})
	}
	// Appending after a reopen continues the sequence, and stays verifiable.
	a, _ = OpenAudit(path)
	a.Append(AuditEntry{Fingerprint: "sha256:d", Result: "revoked"})
	a.Close()
	if l, _ := LoadAudit(path); len(l.Problems()) != 0 {
		t.Errorf("after a reopen: %v", l.Problems())
	}
	// A signed log whose key is gone: a real run refuses; a group-readable key is refused.
	os.Rename(key, key+".bak")
	if _, err := OpenAudit(path); err == nil || !strings.Contains(err.Error(), key) {
		t.Errorf("missing key: %v", err)
	}
	os.Rename(key+".bak", key)
	os.Chmod(key, 0o644)
	if _, err := OpenAudit(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("readable key: %v", err)
	}
}

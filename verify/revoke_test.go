package verify

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

func readAudit(t *testing.T, path string) ([]AuditEntry, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []AuditEntry
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		var e AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out, string(b)
}

func TestRevokeFlow(t *testing.T) {
	t.Setenv("USER", "alice")
	p := newFake(t)
	p.set(tokLive, stLive)
	log, logs := logBuffer()
	v, err := New(testRules(t, fakeRule("fake-token", "/user")), fastOpts(p.srv.URL, log))
	if err != nil {
		t.Fatal(err)
	}
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
	audit, err := OpenAudit(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	f := secretFinding("fake-token", tokLive)
	ctx := context.Background()

	// Dry run: verifies, shows the redacted request, sends nothing destructive.
	res, err := v.Revoke(ctx, f, RevokeOptions{DryRun: true, Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != ActionDryRun || res.Status != finding.StatusLive || len(res.Requests) != 1 {
		t.Fatalf("dry run: %+v", res)
	}
	wantReq := "POST " + p.srv.URL + "/credentials/revoke\n  Accept: application/vnd.github+json\n  Content-Type: application/json\n  body: {\"credentials\":[\"" + finding.Redact(tokLive) + "\"]}"
	if res.Requests[0] != wantReq {
		t.Errorf("dry run request:\n%s\nwant:\n%s", res.Requests[0], wantReq)
	}
	if p.count("/credentials/revoke") != 0 || p.state(tokLive) != stLive {
		t.Fatal("dry run revoked")
	}

	// --yes: revoke, re-verify, confirmed dead.
	res, err = v.Revoke(ctx, f, RevokeOptions{Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != ActionRevoke || res.Status != finding.StatusRevoked || !res.Dead || res.HTTPStatus != 202 {
		t.Fatalf("revoke: %+v", res)
	}
	if p.state(tokLive) != stRevoked || p.count("/credentials/revoke") != 1 {
		t.Fatalf("provider state %s, %d revocations", p.state(tokLive), p.count("/credentials/revoke"))
	}
	if !strings.Contains(res.Detail, "confirmed dead") {
		t.Errorf("detail %q", res.Detail)
	}

	// Again, with the audit log reopened: nothing is sent.
	audit.Close()
	audit, err = OpenAudit(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	before := p.count("/user") + p.count("/credentials/revoke")
	res, err = v.Revoke(ctx, f, RevokeOptions{Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != ActionAlreadyRevoked || res.Status != finding.StatusRevoked || !res.Dead {
		t.Errorf("second revoke: %+v", res)
	}
	// The audit log is believed only after a re-verification: one check, no revocation.
	if after := p.count("/user") + p.count("/credentials/revoke"); after != before+1 || p.count("/credentials/revoke") != 1 {
		t.Errorf("second revoke sent %d requests, want 1 verification", after-before)
	}
	audit.Close()

	entries, raw := readAudit(t, auditPath)
	if len(entries) != 2 {
		t.Fatalf("%d audit entries, want 2 (the dry run is not recorded):\n%s", len(entries), raw)
	}
	host := strings.TrimPrefix(p.srv.URL, "http://")
	want := []AuditEntry{
		{Fingerprint: f.Fingerprint, Rule: "fake-token", EndpointHost: host, Action: ActionRevoke, Result: finding.StatusRevoked, HTTPStatus: 202, Operator: "alice"},
		{Fingerprint: f.Fingerprint, Rule: "fake-token", EndpointHost: host, Action: ActionAlreadyRevoked, Result: finding.StatusRevoked, Operator: "alice"},
	}
	for i, w := range want {
		e := entries[i]
		if e.Time == "" {
			t.Errorf("entry %d has no time", i)
		}
		if e.Seq != i+1 || len(e.MAC) != 64 {
			t.Errorf("entry %d: seq %d, mac %q", i, e.Seq, e.MAC)
		}
		e.Time, e.Detail, e.Seq, e.MAC = "", "", 0, ""
		if e != w {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, e, w)
		}
	}
	assertNoSecret(t, "audit log", raw, tokLive)
	assertNoSecret(t, "logs", logs.String(), tokLive)
}

func TestRevokeOutcomes(t *testing.T) {
	cases := []struct {
		name       string
		path       string
		token      string
		ignore     bool // the provider accepts revocations but does not act on them
		wantAction string
		wantStatus string
		wantDead   bool
		revokes    int
	}{
		{name: "revocation accepted but ignored", path: "/user", token: tokLive, ignore: true,
			wantAction: ActionRevoke, wantStatus: finding.StatusRevokeUnconfirmed, revokes: 1},
		{name: "already invalid", path: "/user", token: tokDead,
			wantAction: ActionSkipped, wantStatus: finding.StatusInvalid, wantDead: true},
		{name: "verification unknown", path: "/error", token: tokLive,
			wantAction: ActionSkipped, wantStatus: finding.StatusUnknown},
		{name: "out of scope is still live", path: "/user", token: tokScoped,
			wantAction: ActionRevoke, wantStatus: finding.StatusRevoked, wantDead: true, revokes: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newFake(t)
			p.set(tokLive, stLive)
			p.set(tokScoped, stOutOfScope)
			p.revokeOK = !c.ignore
			log, logs := logBuffer()
			v, err := New(testRules(t, fakeRule("fake-token", c.path)), fastOpts(p.srv.URL, log))
			if err != nil {
				t.Fatal(err)
			}
			auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
			audit, err := OpenAudit(auditPath)
			if err != nil {
				t.Fatal(err)
			}
			defer audit.Close()
			res, err := v.Revoke(context.Background(), secretFinding("fake-token", c.token), RevokeOptions{Audit: audit})
			if err != nil {
				t.Fatal(err)
			}
			if res.Action != c.wantAction || res.Status != c.wantStatus || res.Dead != c.wantDead {
				t.Errorf("got %+v", res)
			}
			if n := p.count("/credentials/revoke"); n != c.revokes {
				t.Errorf("%d revocation requests, want %d", n, c.revokes)
			}
			entries, raw := readAudit(t, auditPath)
			if len(entries) != 1 || entries[0].Result != c.wantStatus || entries[0].Action != c.wantAction {
				t.Errorf("audit:\n%s", raw)
			}
			if c.ignore {
				if n := p.count("/user"); n != 1+2 {
					t.Errorf("%d verifications, want 1 before and 2 confirmation attempts", n)
				}
				// Not recorded as revoked: a later run tries again.
				if _, ok := audit.RevokedAt(res.Fingerprint); ok {
					t.Error("unconfirmed revocation recorded as revoked")
				}
			}
			assertNoSecret(t, "audit log", raw, c.token)
			assertNoSecret(t, "logs", logs.String(), c.token)
			assertNoSecret(t, "detail", res.Detail, c.token)
		})
	}
}

func TestRevokeUnsupportedAndErrors(t *testing.T) {
	p := newFake(t)
	src := fakeRule("fake-token", "/user") + `
[[rule]]
id = "verify-only"
description = "no revoke spec"
regex = '''vo_[a-z]{10}'''
[rule.verify]
base_url = "https://example.com"
[[rule.verify.step]]
url = "{{base}}/x"
[[rule.verify.step.match]]
status = [200]
result = "live"
`
	v, err := New(testRules(t, src), fastOpts(p.srv.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Revoke(context.Background(), secretFinding("verify-only", "vo_abcdefghij"), RevokeOptions{})
	if err != nil || res.Action != ActionUnsupported || res.Dead {
		t.Errorf("got %+v, %v", res, err)
	}
	f := secretFinding("fake-token", tokLive)
	f.Secret = ""
	if _, err := v.Revoke(context.Background(), f, RevokeOptions{}); err == nil || !strings.Contains(err.Error(), "--fingerprint") {
		t.Errorf("no secret: %v", err)
	}
	if len(p.received()) != 0 {
		t.Errorf("requests sent:\n%s", p.received())
	}
}

func TestAuditLogCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	os.WriteFile(path, []byte(`{"time":"t","fingerprint":"sha256:1","result":"revoked"}`+"\nnot json\n"), 0o600)
	_, err := OpenAudit(path)
	if err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Errorf("got %v, want an error at line 2", err)
	}
	os.WriteFile(path, []byte(`{"time":"t1","fingerprint":"sha256:1","result":"revoked"}`+"\n\n"), 0o600)
	a, err := OpenAudit(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// An unsigned record (hand-written, or from before audit MACs) is reported
	// and not believed.
	if at, ok := a.RevokedAt("sha256:1"); ok {
		t.Errorf("unsigned record believed: RevokedAt = %q", at)
	}
	if p := a.Problems(); len(p) != 1 || !strings.Contains(p[0], path+":1: no MAC") {
		t.Errorf("problems %q", p)
	}
	fresh := filepath.Join(t.TempDir(), "new.jsonl")
	b, err := OpenAudit(fresh)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("new audit log: %v, %v; want mode 0600", st, err)
	}
}

package verify

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/verify/check/awscheck/awsfake"
)

const (
	awsLiveID     = "AKIAHGSNHTUMTLKOEQCN"
	awsLiveSecret = "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"
	awsLockedID   = "AKIAN7JQJLQ5R6EFB3IK" // live, but may not deactivate itself
	awsOtherID    = "AKIAXQ5R6EFB3IKN7JQJ" // unknown to AWS
	awsARN        = "arn:aws:iam::123456789012:user/alice"
	awsTempID     = "ASIASXVDVCW2HTVW6X4G"
	awsSession    = "IQoJb3JpZ2luX2VjEoUsjPmh5L59+4BewUnnxm4wsbQ08o15Z7yK7/L2PYNTQvKn6ShMPinuu7hJ1NAULl/lTccsimosh+xWf0P7cH+yenP7ylxVetHrEHUzBdd"
)

func awsPair(id, secret string) finding.Finding {
	f := secretFinding("aws-access-key-id", id)
	f.Parts = []finding.Part{{RuleID: "aws-secret-access-key", Secret: secret, Redacted: finding.Redact(secret), Line: 2, Column: 23}}
	f.Fingerprint = finding.CompositeFingerprint(f.RuleID, f.Secret, f.Parts)
	return f
}

func awsTemp(session string) finding.Finding {
	f := awsPair(awsTempID, awsLiveSecret)
	f.Parts = append(f.Parts, finding.Part{RuleID: "aws-session-token", Secret: session, Line: 3, Column: 19})
	f.Fingerprint = finding.CompositeFingerprint(f.RuleID, f.Secret, f.Parts)
	return f
}

func newAWSFake() *awsfake.Server {
	return awsfake.New(map[string]*awsfake.Key{
		awsLiveID:   {Secret: awsLiveSecret, ARN: awsARN, UserID: "AIDAJQABLZS4A3QDU576Q", Account: "123456789012", Active: true, CanDeactivate: true},
		awsTempID:   {Secret: awsLiveSecret, ARN: "arn:aws:sts::123456789012:assumed-role/deploy/ci", UserID: "AROAEXAMPLE:ci", Account: "123456789012", Active: true, SessionToken: awsSession},
		awsLockedID: {Secret: awsLiveSecret, ARN: "arn:aws:iam::123456789012:user/bob", UserID: "AIDABOB", Account: "123456789012", Active: true},
	})
}

func awsVerifier(t *testing.T, url string, logs *bytes.Buffer) *Verifier {
	t.Helper()
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	o := fastOpts("", slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	o.Endpoints = map[string]string{"aws": url, "aws-iam": url}
	v, err := New(set, o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAWSSTS runs the aws-sts check against a fake STS that recomputes each
// request's SigV4 signature: live (with the access map), invalid (unknown key
// id, wrong secret key), throttled (unknown), a key id without its secret key
// (not_checked), then verify → revoke (IAM deactivation) → re-verify.
func TestAWSSTS(t *testing.T) {
	fake := newAWSFake()
	ts := httptest.NewServer(fake)
	defer ts.Close()
	var logs bytes.Buffer
	v := awsVerifier(t, ts.URL, &logs)
	if !v.CanVerify("aws-access-key-id") || !v.CanRevoke("aws-access-key-id") {
		t.Fatal("aws-access-key-id is not verifiable and revocable")
	}
	lone := secretFinding("aws-access-key-id", awsLiveID)
	cases := []struct {
		name   string
		f      finding.Finding
		status string
		detail string
	}{
		{"live", awsPair(awsLiveID, awsLiveSecret), finding.StatusLive, "AWS identity " + awsARN},
		{"unknown key id", awsPair(awsOtherID, awsLiveSecret), finding.StatusInvalid, "InvalidClientTokenId"},
		{"wrong secret key", awsPair(awsLiveID, strings.Repeat("x", 40)), finding.StatusInvalid, "SignatureDoesNotMatch"},
		{"key id alone", lone, finding.StatusNotChecked, "companion aws-secret-access-key not found within 5 lines"},
		{"temporary key without its session token", awsPair(awsTempID, awsLiveSecret), finding.StatusUnknown, "session token"},
		{"temporary key with its session token", awsTemp(awsSession), finding.StatusLive, "assumed-role/deploy/ci"},
		{"temporary key with another session token", awsTemp(awsSession + "x"), finding.StatusInvalid, "InvalidClientTokenId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := v.Verify(context.Background(), []finding.Finding{c.f})[0].Verification
			if got.Status != c.status || !strings.Contains(got.Detail, c.detail) {
				t.Fatalf("%+v, want %s with %q", got, c.status, c.detail)
			}
			if c.name == "live" {
				a := got.Access
				if a == nil || a.Identity != awsARN || a.Account != "123456789012" || a.Properties["user_id"] != "AIDAJQABLZS4A3QDU576Q" {
					t.Fatalf("access %+v", a)
				}
			}
		})
	}

	fake.Mu.Lock()
	fake.Throttle = true
	fake.Mu.Unlock()
	if got := v.Verify(context.Background(), []finding.Finding{awsPair(awsLiveID, awsLiveSecret)})[0].Verification; got.Status != finding.StatusUnknown || !strings.Contains(got.Detail, "Throttling") {
		t.Errorf("throttled: %+v, want unknown", got)
	}
	fake.Mu.Lock()
	fake.Throttle = false
	fake.Mu.Unlock()

	audit, err := OpenAudit(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer audit.Close()
	// A key that may not deactivate itself: rejected, still live.
	res, err := v.Revoke(context.Background(), awsPair(awsLockedID, awsLiveSecret), RevokeOptions{Audit: audit})
	if err != nil || res.Status == finding.StatusRevoked || !strings.Contains(res.Detail, "AccessDenied") {
		t.Errorf("revoke without iam:UpdateAccessKey: %+v %v", res, err)
	}
	dry, err := v.Revoke(context.Background(), awsPair(awsLiveID, awsLiveSecret), RevokeOptions{DryRun: true})
	if err != nil || dry.Action != ActionDryRun || len(dry.Requests) == 0 || !strings.Contains(dry.Requests[0], "UpdateAccessKey") {
		t.Errorf("dry run: %+v %v", dry, err)
	}
	res, err = v.Revoke(context.Background(), awsPair(awsLiveID, awsLiveSecret), RevokeOptions{Audit: audit})
	if err != nil || res.Status != finding.StatusRevoked || !res.Dead {
		t.Fatalf("revoke: %+v %v, want revoked and confirmed dead", res, err)
	}
	if got := v.Verify(context.Background(), []finding.Finding{awsPair(awsLiveID, awsLiveSecret)})[0].Verification; got.Status != finding.StatusInvalid {
		t.Errorf("after revocation: %+v, want invalid", got)
	}
	fake.Mu.Lock()
	defer fake.Mu.Unlock()
	if len(fake.Bad) > 0 {
		t.Errorf("requests AWS does not document: %v", fake.Bad)
	}
	if !strings.Contains(strings.Join(fake.Log, "\n"), "iam UpdateAccessKey "+awsLiveID) {
		t.Errorf("no signed UpdateAccessKey: %v", fake.Log)
	}
	for _, s := range []string{awsLiveSecret, awsSession} {
		assertNoSecret(t, "logs", logs.String(), s)
	}
}

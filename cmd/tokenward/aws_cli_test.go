package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check/awscheck/awsfake"
)

const (
	awsKeyID  = "AKIAHGSNHTUMTLKOEQCN"
	awsSecret = "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"
	awsARN    = "arn:aws:iam::123456789012:user/alice"
)

// TestScanVerifyAWSPair is issue #15's done-when: an AWS key pair on two lines
// of a .env is one composite finding that verifies live against a fake STS
// checking the SigV4 signature, with the ARN and account, in JSON and text.
// The environment names other AWS credentials and endpoints: the check must
// use only the pair it found (no shared config, no environment, no IMDS).
func TestScanVerifyAWSPair(t *testing.T) {
	fake := awsfake.New(map[string]*awsfake.Key{
		awsKeyID: {Secret: awsSecret, ARN: awsARN, UserID: "AIDAJQABLZS4A3QDU576Q", Account: "123456789012", Active: true, CanDeactivate: true},
	})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAN7JQJLQ5R6EFB3IK")
	t.Setenv("AWS_SECRET_ACCESS_KEY", strings.Repeat("z", 40))
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "missing"))
	dir := tree(t, map[string]string{
		".env": "AWS_ACCESS_KEY_ID=" + awsKeyID + "\nAWS_SECRET_ACCESS_KEY=" + awsSecret + "\n",
	})
	args := []string{"scan", "--verify", "--endpoint", "aws=" + srv.URL, "."}

	r := tokenward(t, dir, "", append([]string{"--format", "json"}, args...)...)
	if r.code != 1 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var fs []finding.Finding
	if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(fs) != 1 {
		t.Fatalf("%d findings, want one composite finding:\n%s", len(fs), r.stdout)
	}
	f := fs[0]
	switch {
	case f.RuleID != "aws-access-key-id" || f.Line != 1:
		t.Errorf("finding %s at line %d", f.RuleID, f.Line)
	case len(f.Parts) != 1 || f.Parts[0].RuleID != "aws-secret-access-key" || f.Parts[0].Line != 2 || f.Parts[0].Column != 23:
		t.Errorf("parts %+v", f.Parts)
	case f.Parts[0].Secret != "" || f.Parts[0].Redacted != finding.Redact(awsSecret):
		t.Errorf("the part is not redacted: %+v", f.Parts[0])
	case f.Verification == nil || f.Verification.Status != finding.StatusLive:
		t.Errorf("verification %+v, want live", f.Verification)
	case f.Verification.Access == nil || f.Verification.Access.Identity != awsARN || f.Verification.Access.Account != "123456789012":
		t.Errorf("access %+v", f.Verification.Access)
	}
	if strings.Contains(r.stdout, awsSecret) || strings.Contains(r.stderr, awsSecret) {
		t.Errorf("the secret key is in the output:\n%s\n%s", r.stdout, r.stderr)
	}

	r = tokenward(t, dir, "", args...)
	if r.code != 1 {
		t.Fatalf("text: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"aws-access-key-id", "with aws-secret-access-key " + finding.Redact(awsSecret) + " at line 2", "live", "identity " + awsARN, "account 123456789012", "1 finding"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, awsSecret) {
		t.Errorf("the secret key is in the text output:\n%s", r.stdout)
	}

	for _, format := range []string{"sarif", "jsonl"} {
		r = tokenward(t, dir, "", append([]string{"--format", format}, args...)...)
		if !strings.Contains(r.stdout, `"aws-secret-access-key"`) || !strings.Contains(r.stdout, finding.Redact(awsSecret)) || strings.Contains(r.stdout, awsSecret) {
			t.Errorf("%s: the part is missing or not redacted:\n%s", format, r.stdout)
		}
	}

	r = tokenward(t, dir, "", append([]string{"--format", "json"}, append(args[:1:1], append([]string{"--show-secrets"}, args[1:]...)...)...)...)
	if !strings.Contains(r.stdout, `"secret": "`+awsSecret+`"`) && !strings.Contains(r.stdout, `"secret":"`+awsSecret+`"`) {
		t.Errorf("--show-secrets does not show the part's secret:\n%s", r.stdout)
	}

	fake.Mu.Lock()
	defer fake.Mu.Unlock()
	if len(fake.Bad) > 0 || len(fake.Log) < 2 {
		t.Errorf("fake STS: bad %v, log %v", fake.Bad, fake.Log)
	}
}

// TestGitCompositeHistory: in git history each blob version is composed on its
// own before commits are attributed, so a changed secret key makes a new
// composite at the commit that changed it (not a lone secret key), and parts
// never pair across versions. The pre-commit hook (--staged) gets the same.
func TestGitCompositeHistory(t *testing.T) {
	const secretB, secretC = "OzwQu2j0nHCblsnxaHOFB4glANhvDZFLXkl0V6Js", "ue6unVIHz+B+iOwsrG9Dl26zUrAtzgKCc0NDg3vu"
	dir := newGitRepo(t)
	env := func(secret string) string {
		return "AWS_ACCESS_KEY_ID=" + awsKeyID + "\nAWS_SECRET_ACCESS_KEY=" + secret + "\n"
	}
	writeGitFile(t, filepath.Join(dir, ".env"), env(awsSecret))
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "pair A")
	c1 := gitIn(t, dir, "rev-parse", "HEAD")
	writeGitFile(t, filepath.Join(dir, ".env"), env(secretB))
	gitIn(t, dir, "commit", "-q", "-am", "rotate the secret key only")
	c2 := gitIn(t, dir, "rev-parse", "HEAD")
	writeGitFile(t, filepath.Join(dir, "README"), "nothing\n")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "unrelated")

	parts := func(args ...string) []string {
		t.Helper()
		r := tokenward(t, dir, "", append([]string{"--format", "json"}, args...)...)
		if r.code != 1 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
		var fs []finding.Finding
		if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		var out []string
		for _, f := range fs {
			s := f.RuleID + "@" + f.Commit
			for _, p := range f.Parts {
				s += "+" + p.Secret
			}
			out = append(out, s)
		}
		slices.Sort(out)
		return out
	}
	got := strings.Join(parts("git", "--show-secrets"), " ")
	w := []string{"aws-access-key-id@" + c1 + "+" + awsSecret, "aws-access-key-id@" + c2 + "+" + secretB}
	slices.Sort(w)
	want := strings.Join(w, " ")
	if got != want {
		t.Errorf("history:\n got %s\nwant %s", got, want)
	}

	writeGitFile(t, filepath.Join(dir, ".env"), env(secretC))
	gitIn(t, dir, "add", "-A")
	if got, want := strings.Join(parts("git", "--staged", "--show-secrets"), " "), "aws-access-key-id@+"+secretC; got != want {
		t.Errorf("staged:\n got %s\nwant %s", got, want)
	}
}

// TestRangeComposite: git --range scans a large changed file only around its
// changed lines, but a composite's parts may lie outside them. A pull request
// that rotates only the secret key reports the same composite (same parts,
// same fingerprint) as the full history does at that commit.
func TestRangeComposite(t *testing.T) {
	const secretB = "OzwQu2j0nHCblsnxaHOFB4glANhvDZFLXkl0V6Js"
	var pad strings.Builder
	for i := range 800 {
		fmt.Fprintf(&pad, "SETTING_%04d=value number %d of the padding\n", i, i)
	}
	dir := newGitRepo(t)
	env := func(secret string) string {
		return pad.String() + "AWS_ACCESS_KEY_ID=" + awsKeyID + "\n\nAWS_SECRET_ACCESS_KEY=" + secret + "\n" + pad.String()
	}
	writeGitFile(t, filepath.Join(dir, ".env"), env(awsSecret))
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "pair A")
	base := gitIn(t, dir, "rev-parse", "HEAD")
	writeGitFile(t, filepath.Join(dir, ".env"), env(secretB))
	gitIn(t, dir, "commit", "-q", "-am", "rotate the secret key only")
	head := gitIn(t, dir, "rev-parse", "HEAD")

	run := func(args ...string) []finding.Finding {
		t.Helper()
		r := tokenward(t, dir, "", append([]string{"git", "--format", "json", "--show-secrets"}, args...)...)
		var fs []finding.Finding
		if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil || r.code != 1 {
			t.Fatalf("%v: exit %d %v\n%s\n%s", args, r.code, err, r.stdout, r.stderr)
		}
		return fs
	}
	rng := run("--range", base+".."+head)
	if len(rng) != 1 || rng[0].RuleID != "aws-access-key-id" || len(rng[0].Parts) != 1 || rng[0].Parts[0].Secret != secretB {
		t.Fatalf("--range: want one composite with the new secret key, got %+v", rng)
	}
	var full *finding.Finding
	for _, f := range run() {
		if f.Commit == head {
			full = &f
		}
	}
	if full == nil || full.Fingerprint != rng[0].Fingerprint || full.Line != rng[0].Line {
		t.Errorf("--range finding %s at line %d; full history's at %s: %+v", rng[0].Fingerprint, rng[0].Line, head, full)
	}
}

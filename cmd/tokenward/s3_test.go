package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/internal/s3fake"
)

// s3Env keeps the SDK in a test off the network and away from this user's AWS
// files: static credentials (so the chain never asks the instance metadata
// service, which is disabled too), empty config and credentials files, a fixed
// region and no endpoint from the environment; every request goes to the
// loopback fake named by --endpoint-url.
func s3Env(t *testing.T) []string {
	dir := t.TempDir()
	cfg, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	os.WriteFile(cfg, nil, 0o600)
	os.WriteFile(creds, nil, 0o600)
	return []string{
		"AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY=fake-secret-for-loopback-tests",
		"AWS_SESSION_TOKEN=", "AWS_PROFILE=", "AWS_DEFAULT_PROFILE=", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + cfg, "AWS_SHARED_CREDENTIALS_FILE=" + creds, "AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL=", "AWS_ENDPOINT_URL_S3=", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=", "AWS_CONTAINER_CREDENTIALS_FULL_URI=",
		"AWS_WEB_IDENTITY_TOKEN_FILE=", "AWS_ROLE_ARN=", "HTTPS_PROXY=", "HTTP_PROXY=", "NO_PROXY=*",
	}
}

// s3Run runs `tokenward s3` against the fake.
func s3Run(t *testing.T, fake *s3fake.Server, dir string, args ...string) result {
	t.Helper()
	args = append([]string{"s3", "--endpoint-url", fake.URL(), "--path-style", "--progress", "none"}, args...)
	return twEnv(t, dir, s3Env(t), args...)
}

func zipBytes(t *testing.T, name, body string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	fw, err := w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte(body))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func locations(t *testing.T, stdout string) []string {
	t.Helper()
	var out []string
	for _, f := range decodeFindings(t, stdout) {
		out = append(out, f.File)
	}
	sort.Strings(out)
	return out
}

func s3Fixture(t *testing.T) *s3fake.Server {
	fake := s3fake.New()
	t.Cleanup(fake.Close)
	fake.Put("acme", "config/deploy.sh", []byte("#!/bin/sh\n"+leaked))
	fake.Put("acme", "readme.txt", []byte("nothing to see\n"))
	fake.Put("acme", "dist/bundle.zip", zipBytes(t, "conf/run.sh", "echo\n"+leaked))
	fake.Put("acme", "odd\n\x1b[2Jname.sh", []byte(leaked))
	fake.Put("logs", "2026/app.log", []byte(leaked))
	return fake
}

func TestS3(t *testing.T) {
	fake := s3Fixture(t)
	work := t.TempDir()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"bucket", []string{"s3://acme"}, []string{"s3://acme/config/deploy.sh", "s3://acme/dist/bundle.zip!conf/run.sh", "s3://acme/odd%0A%1B[2Jname.sh"}},
		{"prefix", []string{"s3://acme/dist/"}, []string{"s3://acme/dist/bundle.zip!conf/run.sh"}},
		{"several", []string{"s3://logs", "s3://acme/config"}, []string{"s3://acme/config/deploy.sh", "s3://logs/2026/app.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s3Run(t, fake, work, append(tt.args, "-f", "jsonl")...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			if got := locations(t, r.stdout); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("locations %q, want %q", got, tt.want)
			}
			if strings.Contains(r.stdout+r.stderr, token) {
				t.Error("the secret is printed unredacted")
			}
		})
	}
	// Every format, through the same report writers.
	r := s3Run(t, fake, work, "s3://acme/config", "-f", "sarif")
	if r.code != 1 || !strings.Contains(r.stdout, `"uri": "s3://acme/config/deploy.sh"`) {
		t.Errorf("sarif: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = s3Run(t, fake, work, "s3://acme/readme.txt")
	if r.code != 0 {
		t.Errorf("a clean object: exit %d\n%s", r.code, r.stderr)
	}
	// No escape sequence from a key reaches the terminal.
	r = s3Run(t, fake, work, "s3://acme/odd")
	if r.code != 1 || strings.Contains(r.stdout+r.stderr, "\x1b") || !strings.Contains(r.stdout, "odd%0A%1B[2Jname.sh") {
		t.Errorf("hostile key: exit %d\n%q", r.code, r.stdout)
	}
	// The location given back scans that object.
	r = s3Run(t, fake, work, "s3://acme/odd%0A%1B[2Jname.sh", "-f", "jsonl")
	if got := locations(t, r.stdout); len(got) != 1 {
		t.Errorf("rescanning a reported location: %v\n%s", got, r.stderr)
	}
}

func TestS3ErrorsExit2AndKeepFindings(t *testing.T) {
	fake := s3Fixture(t)
	fake.Put("acme", "secret/denied.sh", []byte(leaked))
	fake.Put("acme", "secret/cut.sh", []byte(strings.Repeat("# filler\n", 500)+leaked))
	fake.Deny("acme", "secret/denied.sh")
	fake.Truncate("acme", "secret/cut.sh")
	r := s3Run(t, fake, t.TempDir(), "s3://acme", "s3://missing", "-f", "jsonl")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
	}
	for _, w := range []string{"s3://acme/secret/denied.sh: cannot read", "AccessDenied", "s3://acme/secret/cut.sh: read failed", "truncated body", "s3://missing: listing", "NoSuchBucket"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	if got := locations(t, r.stdout); len(got) != 3 {
		t.Errorf("findings of the readable objects: %v", got)
	}
}

func TestS3Incremental(t *testing.T) {
	fake := s3Fixture(t)
	work := t.TempDir()
	run := func(args ...string) result {
		t.Helper()
		return s3Run(t, fake, work, append([]string{"s3://acme", "--db", "s3.db", "-f", "jsonl"}, args...)...)
	}
	r := run()
	first := locations(t, r.stdout)
	if r.code != 1 || len(first) != 3 || fake.TotalGets() != 4 {
		t.Fatalf("first run: exit %d, %v, %d gets\n%s", r.code, first, fake.TotalGets(), r.stderr)
	}
	// Unchanged: nothing is read, the stored findings are reported.
	r = run()
	if got := locations(t, r.stdout); r.code != 1 || strings.Join(got, " ") != strings.Join(first, " ") || fake.TotalGets() != 4 {
		t.Errorf("unchanged re-run: exit %d, %v, %d gets (want 4)\n%s", r.code, got, fake.TotalGets(), r.stderr)
	}
	if !strings.Contains(r.stderr, "0 read, 4 unchanged") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, token) {
		t.Error("a stored finding is printed unredacted")
	}
	// The stored results keep the secrets (verification and --show-secrets need them).
	if r = run("--show-secrets"); fake.TotalGets() != 4 || !strings.Contains(r.stdout, `"secret":"`+token+`"`) {
		t.Errorf("--show-secrets from the store: %d gets\n%s", fake.TotalGets(), r.stdout)
	}
	// A changed object (new ETag) is read again; its secret gone, so is its finding.
	fake.Put("acme", "config/deploy.sh", []byte("#!/bin/sh\necho clean\n"))
	r = run()
	if got := locations(t, r.stdout); len(got) != 2 || fake.Gets("acme", "config/deploy.sh") != 2 || fake.TotalGets() != 5 {
		t.Errorf("after a change: %v, %d gets\n%s", got, fake.TotalGets(), r.stderr)
	}
	rep := twEnv(t, work, nil, "report", "--db", "s3.db", "-f", "jsonl")
	if got := locations(t, rep.stdout); len(got) != 2 || got[0] != "s3://acme/dist/bundle.zip!conf/run.sh" {
		t.Errorf("report --db: %v\n%s", got, rep.stderr)
	}
	// A deleted object leaves the store with its findings once a listing no
	// longer names it; a prefix run prunes only under its prefix.
	fake.Delete("acme", "odd\n\x1b[2Jname.sh")
	if r = run("--rescan"); !strings.Contains(r.stderr, "1 object no longer in the bucket") {
		t.Errorf("deleted object: %s", r.stderr)
	}
	rep = twEnv(t, work, nil, "report", "--db", "s3.db", "-f", "jsonl")
	if got := locations(t, rep.stdout); len(got) != 1 || got[0] != "s3://acme/dist/bundle.zip!conf/run.sh" {
		t.Errorf("report --db after the delete: %v", got)
	}
	fake.Put("acme", "odd\n\x1b[2Jname.sh", []byte(leaked))
	r = run()
	if got := locations(t, r.stdout); len(got) != 2 || fake.TotalGets() != 9 {
		t.Fatalf("the object back: %v, %d gets", got, fake.TotalGets())
	}
	// --rescan reads everything again.
	r = run("--rescan")
	if fake.TotalGets() != 13 || len(locations(t, r.stdout)) != 2 {
		t.Errorf("--rescan: %d gets, want 13\n%s", fake.TotalGets(), r.stderr)
	}
	// A secret triaged in the store is not reported, as in sweeps (both
	// objects hold the same secret: one fingerprint).
	fs := decodeFindings(t, r.stdout)
	tr := twEnv(t, work, nil, "triage", "--db", "s3.db", fs[0].Fingerprint, "--status", "false-positive")
	if tr.code != 0 {
		t.Fatalf("triage command: exit %d %s", tr.code, tr.stderr)
	}
	r = run()
	if got := locations(t, r.stdout); len(got) != 0 || r.code != 0 {
		t.Errorf("after triage: exit %d, %v\n%s", r.code, got, r.stderr)
	}
}

// s3 goes through the stages scan has: the hygiene checks, .tokenwardignore
// (fingerprints and path patterns, matched against s3://bucket/key), the
// baseline and verification, whose results the store keeps.
func TestS3PipelineStages(t *testing.T) {
	fake := s3fake.New()
	t.Cleanup(fake.Close)
	for name, content := range hygieneTree {
		fake.Put("hyg", "home/"+name, []byte(content))
	}
	fake.Put("app", "deploy.sh", []byte(leaked))
	fake.Put("app", "vendor/lib.sh", []byte(strings.Replace(leaked, token, "Zq9"+token[3:], 1)))
	work := t.TempDir()

	r := s3Run(t, fake, work, "s3://hyg", "-f", "jsonl")
	for _, id := range []string{"netrc-password", "url-credential-query", "auth-header-bad-scheme"} {
		if r.code != 1 || !strings.Contains(r.stdout, `"rule_id":"`+id+`"`) {
			t.Errorf("hygiene: exit %d, no %s finding:\n%s%s", r.code, id, r.stdout, r.stderr)
		}
	}

	os.WriteFile(filepath.Join(work, ".tokenwardignore"), []byte("vendor/\n"), 0o644)
	r = s3Run(t, fake, work, "s3://app", "-f", "jsonl")
	if got := locations(t, r.stdout); len(got) != 1 || got[0] != "s3://app/deploy.sh" {
		t.Errorf("ignored path: %v\n%s", got, r.stderr)
	}
	os.WriteFile(filepath.Join(work, ".tokenwardignore"), []byte(finding.Fingerprint("authorization-token-header", token)+"\n"), 0o644)
	r = s3Run(t, fake, work, "s3://app", "-f", "jsonl")
	if got := locations(t, r.stdout); len(got) != 1 || got[0] != "s3://app/vendor/lib.sh" {
		t.Errorf("ignored fingerprint: %v\n%s", got, r.stderr)
	}
	os.Remove(filepath.Join(work, ".tokenwardignore"))

	// A baseline of today's findings: the next run reports nothing.
	r = s3Run(t, fake, work, "s3://app", "-f", "json", "-o", "report.json")
	if r.code != 1 {
		t.Fatalf("report: exit %d\n%s", r.code, r.stderr)
	}
	if b := tokenward(t, work, "", "baseline", "create", "--from", "report.json", "-o", "bl.json"); b.code != 0 {
		t.Fatalf("baseline create --from: exit %d\n%s", b.code, b.stderr)
	}
	for _, db := range [][]string{nil, {"--db", "bl.db"}} {
		if r = s3Run(t, fake, work, append([]string{"s3://app", "--baseline", "bl.json"}, db...)...); r.code != 0 {
			t.Errorf("--baseline %v: exit %d\n%s%s", db, r.code, r.stdout, r.stderr)
		}
	}

	// Verification: each secret checked once; with --db the results are kept,
	// so a re-run checks nothing again.
	var calls atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		calls.Add(1)
		if req.Header.Get("Authorization") == "Token "+token {
			fmt.Fprint(w, `{"ok":true}`)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(api.Close)
	args := []string{"s3://app", "--db", "v.db", "--verify", "--endpoint", "seed=" + api.URL + "/me", "-f", "jsonl"}
	r = s3Run(t, fake, work, args...)
	if r.code != 1 || calls.Load() != 2 || strings.Count(r.stdout, `"status":"live"`) != 1 || strings.Count(r.stdout, `"status":"invalid"`) != 1 {
		t.Fatalf("--verify: exit %d, %d checks\n%s%s", r.code, calls.Load(), r.stdout, r.stderr)
	}
	r = s3Run(t, fake, work, append(args, "--only-live")...)
	if calls.Load() != 2 || findingLines(t, r.stdout) != 1 {
		t.Errorf("re-run: %d checks (want the stored results), %d findings\n%s", calls.Load(), findingLines(t, r.stdout), r.stderr)
	}
}

// Without --region, each bucket's region is asked for (HeadBucket) and used; an
// explicit --region is kept, and a bucket elsewhere then fails with a hint.
func TestS3BucketRegion(t *testing.T) {
	fake := s3Fixture(t)
	fake.SetRegion("logs", "eu-west-3")
	r := s3Run(t, fake, t.TempDir(), "s3://logs", "s3://acme/config", "-f", "jsonl")
	if got := locations(t, r.stdout); r.code != 1 || len(got) != 2 || !strings.Contains(r.stderr, "s3://logs is in eu-west-3") {
		t.Errorf("region found: exit %d, %v\n%s", r.code, got, r.stderr)
	}
	r = s3Run(t, fake, t.TempDir(), "s3://logs", "--region", "us-east-1")
	if r.code != 2 || !strings.Contains(r.stderr, "PermanentRedirect") || !strings.Contains(r.stderr, "give --region") {
		t.Errorf("explicit wrong region: exit %d\n%s", r.code, r.stderr)
	}
}

// Credentials: the shared config files' profile (--profile), and none at all
// with --no-sign-request.
func TestS3Credentials(t *testing.T) {
	fake := s3Fixture(t)
	dir := t.TempDir()
	cfg, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	os.WriteFile(cfg, []byte("[profile audit]\nregion = us-east-1\n"), 0o600)
	os.WriteFile(creds, []byte("[audit]\naws_access_key_id = AKIAPROFILEPROFILE01\naws_secret_access_key = fake-profile-secret\n"), 0o600)
	env := append(s3Env(t), "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE="+creds)
	base := []string{"s3", "s3://logs", "--endpoint-url", fake.URL(), "--path-style", "--progress", "none"}
	r := twEnv(t, dir, env, append(base, "--profile", "audit")...)
	if keys := fake.AccessKeys(); r.code != 1 || len(keys) != 1 || keys["AKIAPROFILEPROFILE01"] == 0 {
		t.Fatalf("--profile: exit %d, keys %v\n%s", r.code, keys, r.stderr)
	}
	r = twEnv(t, dir, env, append(base, "--no-sign-request")...)
	if keys := fake.AccessKeys(); r.code != 1 || keys[""] == 0 || len(keys) != 2 {
		t.Errorf("--no-sign-request: exit %d, keys %v\n%s", r.code, keys, r.stderr)
	}
}

// The endpoint may come from the SDK's own configuration (AWS_ENDPOINT_URL_S3).
func TestS3EndpointFromEnvironment(t *testing.T) {
	fake := s3Fixture(t)
	env := append(s3Env(t), "AWS_ENDPOINT_URL_S3="+fake.URL())
	r := twEnv(t, t.TempDir(), env, "s3", "s3://logs", "--path-style", "--progress", "none", "-f", "jsonl")
	if got := locations(t, r.stdout); r.code != 1 || len(got) != 1 || got[0] != "s3://logs/2026/app.log" {
		t.Errorf("exit %d, %v\n%s", r.code, got, r.stderr)
	}
}

func TestS3UsageErrors(t *testing.T) {
	fake := s3Fixture(t)
	for _, args := range [][]string{
		{"https://acme/x"},
		{"s3://bad bucket"},
		{"s3://acme/100%"},
		{"s3://acme", "--rescan"},
		{"s3://acme", "--endpoint-url", "http://user:pass@127.0.0.1:1"},
		{"s3://acme", "--parallel", "0"},
	} {
		r := s3Run(t, fake, t.TempDir(), args...)
		if r.code != 2 || r.stderr == "" {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
	if fake.TotalGets()+fake.Lists() != 0 {
		t.Errorf("usage errors reached the store: %d requests", fake.TotalGets()+fake.Lists())
	}
}

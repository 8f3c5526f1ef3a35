package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	baselineBinOnce sync.Once
	baselineBin     string
	baselineBinErr  error
)

// tokenwardBinary builds the command once per test process.
func tokenwardBinary(t *testing.T) string {
	t.Helper()
	baselineBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tokenward-baseline-test-")
		if err != nil {
			baselineBinErr = err
			return
		}
		baselineBin = filepath.Join(dir, "tokenward")
		out, err := exec.Command("go", "build", "-o", baselineBin, ".").CombinedOutput()
		if err != nil {
			baselineBinErr = errors.New(string(out))
		}
	})
	if baselineBinErr != nil {
		t.Fatalf("building tokenward: %v", baselineBinErr)
	}
	return baselineBin
}

type cliResult struct {
	code           int
	stdout, stderr string
}

func tw(t *testing.T, dir string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(tokenwardBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{code, so.String(), se.String()}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const (
	cliTokA = "4339639a695572816c9ba1a1bd39abfbe316f484"
	cliTokB = "58e8f220d45a26d74b3f73c22069cf0d9b8801d9"
)

func curl(tok string) string {
	return "curl -H 'Authorization: Token " + tok + "' https://api.example.com/v1/items\n"
}

func TestBaselineCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "src/deploy.sh"), "#!/bin/sh\n"+curl(cliTokA))

	// A finding fails the scan until it is baselined.
	if r := tw(t, dir, "scan", "src"); r.code != 1 {
		t.Fatalf("scan before baseline: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := tw(t, dir, "baseline", "create", "src")
	if r.code != 0 || !strings.Contains(r.stderr, "1 entries (1 added, 0 removed)") {
		t.Fatalf("baseline create: exit %d\n%s", r.code, r.stderr)
	}
	path := filepath.Join(dir, ".tokenward-baseline.json")
	first := readFile(t, path)
	if strings.Contains(first, cliTokA) || !strings.Contains(first, `"file": "src/deploy.sh"`) {
		t.Fatalf("baseline content:\n%s", first)
	}
	if r := tw(t, dir, "baseline", "create", "src"); r.code != 0 || readFile(t, path) != first {
		t.Fatalf("second create not byte-identical (exit %d):\n%s\n---\n%s", r.code, first, readFile(t, path))
	}

	// Moved to another line of another file: still suppressed, exit 0.
	os.Remove(filepath.Join(dir, "src/deploy.sh"))
	writeFile(t, filepath.Join(dir, "src/scripts/run.sh"), "set -e\n\n\n    "+curl(cliTokA))
	r = tw(t, dir, "scan", "--baseline", path, "src")
	if r.code != 0 || !strings.Contains(r.stdout, "1 suppressed") {
		t.Fatalf("moved secret: exit %d, want 0 with 1 suppressed\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A new secret fails.
	writeFile(t, filepath.Join(dir, "src/new.sh"), curl(cliTokB))
	r = tw(t, dir, "scan", "--baseline", path, "src")
	if r.code != 1 || !strings.Contains(r.stdout, "src/new.sh:1:") || strings.Contains(r.stdout, "run.sh:") {
		t.Fatalf("new secret: exit %d, want 1 reporting only new.sh\n%s%s", r.code, r.stdout, r.stderr)
	}

	// update keeps old entries and adds the new one with --reason/--added-by.
	r = tw(t, dir, "baseline", "update", "src", "--reason", "rotated, test data", "--added-by", "alice")
	if r.code != 0 || !strings.Contains(r.stderr, "2 entries (1 added, 0 removed)") {
		t.Fatalf("update: exit %d\n%s", r.code, r.stderr)
	}
	updated := readFile(t, path)
	if strings.Count(updated, `"reason": "rotated, test data"`) != 1 || !strings.Contains(updated, `"file": "src/scripts/run.sh"`) {
		t.Fatalf("update content:\n%s", updated)
	}
	if r := tw(t, dir, "scan", "--baseline", path, "src"); r.code != 0 {
		t.Fatalf("after update: exit %d\n%s", r.code, r.stdout)
	}

	// prune drops the entry of a removed secret and keeps the other's reason.
	os.Remove(filepath.Join(dir, "src/scripts/run.sh"))
	r = tw(t, dir, "baseline", "prune", "src")
	if r.code != 0 || !strings.Contains(r.stderr, "1 entries (0 added, 1 removed)") {
		t.Fatalf("prune: exit %d\n%s", r.code, r.stderr)
	}
	pruned := readFile(t, path)
	if !strings.Contains(pruned, `"reason": "rotated, test data"`) || strings.Contains(pruned, "run.sh") {
		t.Fatalf("prune content:\n%s", pruned)
	}
}

func TestBaselineExpiresAndFrom(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "src/a.sh"), curl(cliTokA))

	// --from a json report gives the same baseline as scanning.
	if r := tw(t, dir, "scan", "src", "--format", "json", "--output", "report.json"); r.code != 1 {
		t.Fatalf("scan to json: exit %d\n%s", r.code, r.stderr)
	}
	if r := tw(t, dir, "scan", "src", "--format", "jsonl", "--output", "report.jsonl"); r.code != 1 {
		t.Fatalf("scan to jsonl: exit %d\n%s", r.code, r.stderr)
	}
	for _, args := range [][]string{
		{"baseline", "create", "src", "--output", "scanned.json"},
		{"baseline", "create", "--from", "report.json", "--output", "from.json"},
		{"baseline", "create", "--from", "report.jsonl", "--output", "fromjsonl.json"},
	} {
		if r := tw(t, dir, args...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	scanned := readFile(t, filepath.Join(dir, "scanned.json"))
	for _, f := range []string{"from.json", "fromjsonl.json"} {
		if got := readFile(t, filepath.Join(dir, f)); got != scanned {
			t.Errorf("%s differs from the scanned baseline:\n%s\n---\n%s", f, got, scanned)
		}
	}

	// An entry past its expiry date fails again, with a warning.
	r := tw(t, dir, "baseline", "create", "src", "--expires", "2020-01-01", "--output", "old.json")
	if r.code != 0 {
		t.Fatalf("create --expires: exit %d\n%s", r.code, r.stderr)
	}
	r = tw(t, dir, "scan", "src", "--baseline", "old.json")
	if r.code != 1 || !strings.Contains(r.stderr, "expired") {
		t.Fatalf("expired entry: exit %d, want 1 with a warning\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := tw(t, dir, "baseline", "create", "src", "--expires", "2999-12-31", "--output", "future.json"); r.code != 0 {
		t.Fatalf("create --expires 2999-12-31: exit %d\n%s", r.code, r.stderr)
	}
	if r := tw(t, dir, "scan", "src", "--baseline", "future.json"); r.code != 0 {
		t.Fatalf("unexpired entry: exit %d\n%s", r.code, r.stdout)
	}
}

func TestBaselineErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "src/a.sh"), curl(cliTokA))
	writeFile(t, filepath.Join(dir, "bad.json"), "{\n  \"version\": 1,\n  \"findings\": [\n")
	writeFile(t, filepath.Join(dir, "notreport.json"), `[{"rule_id":"x"}]`)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown action", []string{"baseline", "refresh"}, `baseline "refresh": want create, update or prune`},
		{"no action", []string{"baseline"}, "requires at least 1 arg"},
		{"bad expires", []string{"baseline", "create", "src", "--expires", "tomorrow"}, `--expires "tomorrow"`},
		{"malformed baseline on scan", []string{"scan", "src", "--baseline", "bad.json"}, "bad.json:"},
		{"missing baseline on scan", []string{"scan", "src", "--baseline", "nope.json"}, "nope.json"},
		{"malformed baseline on update", []string{"baseline", "update", "src", "--output", "bad.json"}, "bad.json:4:1: not a valid baseline"},
		{"prune without a baseline", []string{"baseline", "prune", "src", "--output", "nope.json"}, "baseline create"},
		{"incomplete scan", []string{"baseline", "create", "src", "does-not-exist", "--output", "inc.json"}, "baseline not written"},
		{"not a report", []string{"baseline", "create", "--from", "notreport.json", "--output", "x.json"}, "no valid fingerprint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tw(t, dir, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 mentioning %q", r.code, r.stderr, tt.want)
			}
		})
	}
	for _, f := range []string{"inc.json", "x.json", "nope.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s was written by a failed command", f)
		}
	}
}

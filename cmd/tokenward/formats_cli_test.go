package main

import (
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportFormats runs a real scan in every new format from the command line.
func TestReportFormats(t *testing.T) {
	dir := tree(t, map[string]string{"deploy/call.sh": leaked})
	tmpl := filepath.Join(t.TempDir(), "list.tmpl")
	if err := os.WriteFile(tmpl, []byte(`{{range .}}{{.RuleID}} {{.File}}:{{.Line}} {{shown .}}{{"\n"}}{{end}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		check func(t *testing.T, out string)
	}{
		{[]string{"--format", "gitleaks"}, func(t *testing.T, out string) {
			var rep []map[string]any
			if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep) == 0 {
				t.Fatalf("not a gitleaks report (%v):\n%s", err, out)
			}
			if rep[0]["File"] != "deploy/call.sh" || rep[0]["Secret"] != "REDACTED" || rep[0]["StartLine"] != 1.0 {
				t.Errorf("entry %v", rep[0])
			}
		}},
		{[]string{"-f", "csv"}, func(t *testing.T, out string) {
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(rows) < 2 || rows[0][0] != "rule_id" {
				t.Fatalf("csv (%v):\n%s", err, out)
			}
		}},
		{[]string{"-f", "junit"}, func(t *testing.T, out string) {
			var doc struct {
				Failures int `xml:"failures,attr"`
			}
			if err := xml.Unmarshal([]byte(out), &doc); err != nil || doc.Failures == 0 {
				t.Fatalf("junit (%v):\n%s", err, out)
			}
		}},
		{[]string{"-f", "html"}, func(t *testing.T, out string) {
			if !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, "deploy/call.sh") {
				t.Fatalf("html:\n%.300s", out)
			}
		}},
		{[]string{"-f", "template", "--template", tmpl}, func(t *testing.T, out string) {
			if !strings.Contains(out, " deploy/call.sh:1 ") {
				t.Fatalf("template output %q", out)
			}
		}},
		{[]string{"-f", "template=" + tmpl}, func(t *testing.T, out string) {
			if !strings.Contains(out, " deploy/call.sh:1 ") {
				t.Fatalf("template output %q", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := tokenward(t, dir, "", append([]string{"scan", "."}, tt.args...)...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1; stderr %s", r.code, r.stderr)
			}
			if strings.Contains(r.stdout, token) {
				t.Fatalf("output leaks the secret")
			}
			tt.check(t, r.stdout)
		})
	}

	r := tokenward(t, dir, "", "scan", ".", "-f", "template")
	if r.code != 2 || !strings.Contains(r.stderr, "--template FILE") {
		t.Errorf("template without a file: exit %d, stderr %q", r.code, r.stderr)
	}
	r = tokenward(t, dir, "", "scan", ".", "-f", "xml")
	if r.code != 2 || !strings.Contains(r.stderr, "gitleaks, csv, junit, html, template") {
		t.Errorf("unknown format: exit %d, stderr %q", r.code, r.stderr)
	}
}

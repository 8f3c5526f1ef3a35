package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/engine/enginetest"
	"github.com/tokenward/tokenward/report"
	"github.com/tokenward/tokenward/rules"
)

// TestEngineFindingsInSARIF feeds real engine findings through the SARIF and
// text writers: the region must select exactly the secret's characters in the
// source line (engine columns are rune-based and EndColumn is exclusive, as
// SARIF's unicodeCodePoints columnKind expects), and no format may leak it.
func TestEngineFindingsInSARIF(t *testing.T) {
	eng := enginetest.Builtin(t)
	const secret = "4339639a695572816c9ba1a1bd39abfbe316f484"
	src := "# ünïcödé header line\n" +
		"curl -H 'Authorization: Token " + secret + "' https://api.example.com/v1/items\n"
	fs := eng.ScanBytes("scripts/call api.sh", []byte(src))
	if len(fs) == 0 {
		t.Fatalf("engine found nothing in %q", src)
	}
	var infos []report.RuleInfo
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range set.Rules {
		infos = append(infos, report.RuleInfo{ID: r.ID, Description: r.Description, Severity: r.Severity, Tags: r.Tags})
	}
	for _, format := range report.Formats() {
		var buf bytes.Buffer
		if err := report.Write(&buf, fs, report.Options{Format: format, Rules: infos, Template: "testdata/markdown.tmpl"}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), secret) {
			t.Errorf("%s output leaks the secret:\n%s", format, buf.String())
		}
	}

	var buf bytes.Buffer
	if err := report.Write(&buf, fs, report.Options{Format: "sarif", Rules: infos}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			ColumnKind string `json:"columnKind"`
			Results    []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
						Region           struct {
							StartLine, StartColumn, EndLine, EndColumn int
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(src, "\n")
	found := false
	for _, res := range log.Runs[0].Results {
		loc := res.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI != "scripts/call%20api.sh" {
			t.Errorf("uri = %q", loc.ArtifactLocation.URI)
		}
		r := loc.Region
		if r.StartLine != r.EndLine {
			continue
		}
		line := []rune(lines[r.StartLine-1])
		if r.StartColumn < 1 || r.EndColumn-1 > len(line) || r.EndColumn <= r.StartColumn {
			t.Fatalf("region %+v outside line %q", r, string(line))
		}
		sel := string(line[r.StartColumn-1 : r.EndColumn-1])
		if strings.Contains(sel, secret) {
			found = true
		}
		t.Logf("%s selects %q", res.RuleID, sel)
	}
	if !found {
		t.Errorf("no SARIF region selects the secret")
	}
}

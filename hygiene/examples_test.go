package hygiene

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tokenward/tokenward/finding"
)

// TestCatalogueExamples runs every rule's documented example through the
// checker (and, for JWT rules, the engine and Review) and expects that rule.
func TestCatalogueExamples(t *testing.T) {
	e := testEngine(t)
	c := New(DefaultConfig())
	c.Now = func() time.Time { return fixedNow }
	for _, hc := range Catalogue {
		if hc.ExamplePath == "" {
			continue // file metadata (permissions): see TestHostConfig
		}
		t.Run(hc.ID, func(t *testing.T) {
			data := []byte(hc.Example + "\n")
			fs := c.Check(hc.ExamplePath, data)
			if strings.HasPrefix(hc.ID, "jwt-") {
				fs = c.Review(e.ScanBytes(hc.ExamplePath, data))
			}
			for _, f := range fs {
				if f.RuleID == hc.ID {
					return
				}
			}
			t.Errorf("example %q in %s does not trigger %s; got %v", hc.Example, hc.ExamplePath, hc.ID, ruleIDs(fs))
		})
	}
}

func ruleIDs(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID)
	}
	return out
}

// TestDocsListEveryRule keeps docs/hygiene.md in step with the catalogue: each
// rule id has a table row with its default severity and its example.
func TestDocsListEveryRule(t *testing.T) {
	doc, err := os.ReadFile("../docs/hygiene.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(doc), "\n")
	for _, hc := range Catalogue {
		prefix := "| `" + hc.ID + "` | " + hc.Severity
		example := "`" + strings.ReplaceAll(hc.Example, "\n\t", " ") + "`"
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				found = true
				if !strings.Contains(l, example) {
					t.Errorf("docs row of %s lacks the example %s", hc.ID, example)
				}
			}
		}
		if !found {
			t.Errorf("docs/hygiene.md has no row starting %q", prefix)
		}
	}
}

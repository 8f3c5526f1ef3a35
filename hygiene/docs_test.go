package hygiene

import (
	"os"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/rules"
)

// TestDocsListEveryRule keeps docs/hygiene.md in step with the catalogue: each
// rule id has a table row with its default severity.
func TestDocsListEveryRule(t *testing.T) {
	doc, err := os.ReadFile("../docs/hygiene.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rules.HygieneChecks {
		row := "| `" + c.ID + "` | " + c.Severity
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/hygiene.md has no row starting %q", row)
		}
	}
}

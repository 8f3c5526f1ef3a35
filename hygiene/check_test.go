package hygiene

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/tokenward/tokenward/finding"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/check/*.txtar")

// TestCheckFixtures runs Check on every file of each txtar archive in
// testdata/check and compares the findings, rendered as
// `file:line:col-endline:endcol rule severity`, with the archive's "want" file.
// Files that should yield nothing are simply absent from "want".
func TestCheckFixtures(t *testing.T) {
	archives, err := filepath.Glob("testdata/check/*.txtar")
	if err != nil || len(archives) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, name := range archives {
		t.Run(filepath.Base(name), func(t *testing.T) {
			ar, err := txtar.ParseFile(name)
			if err != nil {
				t.Fatal(err)
			}
			c := New(DefaultConfig())
			var notes []string
			c.Logf = func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }
			var all []finding.Finding
			wantIdx := -1
			for i, f := range ar.Files {
				if f.Name == "want" {
					wantIdx = i
					continue
				}
				for _, fd := range c.Check(f.Name, f.Data) {
					checkInvariants(t, fd, f.Data)
					all = append(all, fd)
				}
			}
			sort.SliceStable(all, func(i, j int) bool { return all[i].File < all[j].File })
			var got []string
			for _, fd := range all {
				got = append(got, fmt.Sprintf("%s:%d:%d-%d:%d %s %s", fd.File, fd.Line, fd.Column, fd.EndLine, fd.EndColumn, fd.RuleID, fd.Severity))
			}
			if wantIdx < 0 {
				t.Fatal("archive has no want file")
			}
			gotText := strings.Join(got, "\n")
			if gotText != "" {
				gotText += "\n"
			}
			if *update {
				ar.Files[wantIdx].Data = []byte(gotText)
				if err := os.WriteFile(name, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := string(ar.Files[wantIdx].Data); gotText != want {
				t.Errorf("findings differ\n--- got\n%s--- want\n%s--- notes\n%s", gotText, want, strings.Join(notes, "\n"))
			}
		})
	}
}

// checkInvariants holds for every hygiene finding: the schema is filled, the
// span is where the finding says, and the secret is never shown.
func checkInvariants(t *testing.T, f finding.Finding, data []byte) {
	t.Helper()
	where := fmt.Sprintf("%s:%d:%d %s", f.File, f.Line, f.Column, f.RuleID)
	if f.Kind != finding.KindHygiene || f.Message == "" || f.Description == "" || !finding.ValidFingerprint(f.Fingerprint) {
		t.Errorf("%s: incomplete finding %+v", where, f)
	}
	if _, ok := CheckByID(f.RuleID); !ok {
		t.Errorf("%s: rule id not in the catalogue", where)
	}
	if f.Line < 1 || f.Column < 1 || f.EndLine < f.Line || f.EndLine == f.Line && f.EndColumn <= f.Column {
		t.Errorf("%s: bad span %d:%d-%d:%d", where, f.Line, f.Column, f.EndLine, f.EndColumn)
	}
	if f.Secret != "" {
		if strings.Contains(f.Message, f.Secret) || strings.Contains(f.Context, f.Secret) {
			t.Errorf("%s: secret shown in message or context", where)
		}
		if f.Redacted != finding.Redact(f.Secret) || f.Fingerprint != finding.Fingerprint(f.RuleID, f.Secret) {
			t.Errorf("%s: redaction or fingerprint not derived from the secret", where)
		}
		// The span covers the secret exactly when it is on one line.
		if f.Line == f.EndLine {
			if got := spanText(data, f); got != f.Secret && !strings.Contains(got, f.Secret) {
				t.Errorf("%s: span %q does not hold the secret", where, got)
			}
		}
	}
}

// spanText returns the text between (Line, Column) and (EndLine, EndColumn), in runes.
func spanText(data []byte, f finding.Finding) string {
	lines := strings.Split(string(data), "\n")
	if f.Line > len(lines) {
		return ""
	}
	r := []rune(lines[f.Line-1])
	if f.EndColumn-1 > len(r) {
		return ""
	}
	return string(r[f.Column-1 : f.EndColumn-1])
}

var fixedNow = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func TestDumpSpans(t *testing.T) {
	if os.Getenv("DUMP") == "" {
		t.Skip()
	}
	for _, name := range []string{"urls", "headers", "files", "config"} {
		ar, _ := txtar.ParseFile("testdata/check/" + name + ".txtar")
		c := New(DefaultConfig())
		c.Logf = t.Logf
		for _, f := range ar.Files {
			for _, fd := range c.Check(f.Name, f.Data) {
				fmt.Printf("%s:%d:%d %s %s [%s] secret=%q\n", fd.File, fd.Line, fd.Column, fd.RuleID, fd.Severity, spanText(f.Data, fd), fd.Redacted)
			}
		}
	}
}

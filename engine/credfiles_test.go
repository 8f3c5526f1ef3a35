package engine

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCredentialFileFixtures scans realistic credential files (testdata/credfiles/leak)
// and their safe counterparts (testdata/credfiles/clean): each leak file yields its
// rule on the given line, and no clean file yields any finding.
func TestCredentialFileFixtures(t *testing.T) {
	e := builtinEngine(t)
	tests := []struct {
		file, rule string
		line       int
	}{
		{"wp-config.php", "php-define-credential", 7},
		{"wp-config.php", "wordpress-auth-salt", 9},
		{"web.config", "dotnet-appsettings-credential", 5},
		{"applicationContext.xml", "spring-bean-password", 6},
		{"sitemanager.xml", "ftp-client-saved-password", 9},
		{"settings.xml", "xml-secret-element", 6},
		{"settings.py", "django-secret-key", 3},
	}
	for _, tt := range tests {
		p := filepath.Join("testdata", "credfiles", "leak", tt.file)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		found := false
		for _, f := range e.ScanBytes(p, data) {
			got = append(got, f.RuleID)
			found = found || f.RuleID == tt.rule && f.Line == tt.line
		}
		if !found {
			t.Errorf("%s: no %s finding on line %d (got %v)", p, tt.rule, tt.line, got)
		}
	}
	clean, err := filepath.Glob(filepath.Join("testdata", "credfiles", "clean", "*"))
	if err != nil || len(clean) == 0 {
		t.Fatalf("no clean fixtures: %v", err)
	}
	for _, p := range clean {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range e.ScanBytes(p, data) {
			t.Errorf("%s:%d: %s reported in a file that holds no credential", p, f.Line, f.RuleID)
		}
		if !slices.ContainsFunc(tests, func(tt struct {
			file, rule string
			line       int
		}) bool {
			return tt.file == filepath.Base(p)
		}) {
			t.Errorf("%s has no leaking counterpart in the table", p)
		}
	}
}

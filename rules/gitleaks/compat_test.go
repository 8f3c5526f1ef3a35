package gitleaks

import (
	"encoding/json"
	"go/build"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/finding"
)

// compatConfig exercises the allowlist forms whose meaning gitleaks' directory
// and git modes agree on.
const compatConfig = `
[[rules]]
id = "acme-api-key"
regex = '''(?i)\b(acme_[a-z0-9]{32})\b'''
secretGroup = 1
entropy = 3
keywords = ["acme_"]
  [[rules.allowlists]]
  paths = ['''(^|/)testdata/''']
  regexes = ['''^acme_test''']
  [[rules.allowlists]]
  condition = "AND"
  regexTarget = "line"
  regexes = ['''EXAMPLE''']
  paths = ['''\.md$''']

[[rules]]
id = "Internal_Token"
regex = '''itk-[0-9a-f]{40}'''
keywords = ["itk-"]
  [rules.allowlist]
  stopwords = ["c0ffee"]

[[allowlists]]
paths = ['''(^|/)vendor/''']

[[allowlists]]
targetRules = ["acme-api-key"]
regexTarget = "match"
regexes = ['''acme_0{8}''']
`

var compatFiles = map[string]string{
	"src/app.go":        "key := \"" + acmeKey + "\"\nother := \"" + acmeKey2 + "\"\n",
	"src/zero.go":       "key := \"" + acmeZero + "\"\n",
	"testdata/keys.txt": "key=" + acmeKey2 + "\n",
	"src/test.go":       "key=acme_testq8z1m3x7r5w1y6n4h0j3k2l9p8o\n",
	"README.md":         "EXAMPLE key=" + acmeKey + "\nreal key=" + acmeKey2 + "\n",
	"notes/EXAMPLE.txt": "EXAMPLE key=" + acmeKey + "\n",
	"svc/conf.ini":      "a = " + itk + "\nb = " + itkStage + "\n",
	"vendor/lib/x.go":   "key=" + acmeKey + "\n",
}

func gitleaksBinary(t *testing.T) string {
	if p, err := exec.LookPath("gitleaks"); err == nil {
		return p
	}
	p := filepath.Join(build.Default.GOPATH, "bin", "gitleaks")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	t.Skip("gitleaks is not installed; the cross-check against it is skipped")
	return ""
}

type glFinding struct {
	File, RuleID, Secret, Fingerprint string
	StartLine                         int
}

func runGitleaks(t *testing.T, bin, dir string, args ...string) []glFinding {
	t.Helper()
	report := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(bin, append(args, "--no-banner", "--report-format", "json", "--report-path", report, ".")...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("gitleaks %v: %v\n%s", args, err, out)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var fs []glFinding
	if err := json.Unmarshal(data, &fs); err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestAgreesWithGitleaks scans the same files with gitleaks and with the
// converted configuration and expects the same secrets, and turns the
// fingerprints gitleaks reports in git mode into baseline findings.
func TestAgreesWithGitleaks(t *testing.T) {
	bin := gitleaksBinary(t)
	dir := t.TempDir()
	cfgPath := writeTemp(t, t.TempDir(), "gitleaks.toml", compatConfig)
	for name, content := range compatFiles {
		writeTemp(t, dir, name, content)
	}

	set, res := loadConverted(t, cfgPath)
	eng, err := engine.New(set, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	toGitleaks := map[string]string{}
	for gl, tw := range res.RuleIDs {
		toGitleaks[tw] = gl
	}
	var ours []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.Name() == ".git" {
				return filepath.SkipDir
			}
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		for _, f := range eng.ScanBytes(filepath.ToSlash(rel), data) {
			ours = append(ours, f.File+" "+toGitleaks[f.RuleID]+" "+f.Secret)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var theirs []string
	for _, f := range runGitleaks(t, bin, dir, "dir", "-c", cfgPath) {
		theirs = append(theirs, f.File+" "+f.RuleID+" "+f.Secret)
	}
	slices.Sort(ours)
	slices.Sort(theirs)
	if len(theirs) < 4 || !slices.Equal(ours, theirs) {
		t.Errorf("findings differ\n tokenward: %q\n gitleaks:  %q", ours, theirs)
	}

	// git mode: every fingerprint gitleaks reports can be recovered.
	runGit(t, dir, "init", "-q", "-b", "main")
	runGit(t, dir, "add", ".")
	runGit(t, dir, "commit", "-q", "-m", "one")
	found := runGitleaks(t, bin, dir, "git", "-c", cfgPath)
	if len(found) != len(theirs) {
		t.Fatalf("gitleaks git found %d, dir %d", len(found), len(theirs))
	}
	var ignore strings.Builder
	for _, f := range found {
		ignore.WriteString(f.Fingerprint + "\n")
	}
	// A directory-mode fingerprint as well.
	ignore.WriteString(theirsFingerprint(t, bin, dir, cfgPath) + "\n")
	entries, bad, err := ParseIgnore(strings.NewReader(ignore.String()))
	if err != nil || len(bad) > 0 {
		t.Fatal(err, bad)
	}
	src := &Source{Root: dir}
	rec, unrec := Recover(entries, src.Read, res.RuleIDs, func(path string, data []byte) []finding.Finding { return eng.ScanBytes(path, data) })
	if len(unrec) > 0 {
		t.Errorf("not recovered: %v", unrec)
	}
	for i, r := range rec {
		if i >= len(found) {
			break
		}
		if len(r.Findings) != 1 || r.Findings[0].Secret != found[i].Secret {
			t.Errorf("%s recovered %v, want the secret gitleaks reported", r.Entry.Text, r.Findings)
		}
	}
}

func theirsFingerprint(t *testing.T, bin, dir, cfg string) string {
	fs := runGitleaks(t, bin, dir, "dir", "-c", cfg)
	slices.SortFunc(fs, func(a, b glFinding) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
	return fs[0].Fingerprint
}

// TestConvertGitleaksDefaultConfig converts gitleaks' own default configuration
// (222 rules with allowlists of every form) when a copy is in the module cache.
func TestConvertGitleaksDefaultConfig(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(build.Default.GOPATH, "pkg", "mod", "github.com", "zricethezav", "gitleaks", "v8@*", "config", "gitleaks.toml"))
	if len(paths) == 0 {
		t.Skip("gitleaks' default configuration is not in the module cache")
	}
	path := paths[len(paths)-1]
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Convert(path, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	total := strings.Count(string(data), "[[rules]]")
	if res.Rules < total*95/100 {
		t.Errorf("only %d of %d rules converted:\n%s", res.Rules, total, notesText(res.Notes))
	}
	for _, n := range res.Dropped() {
		if !strings.Contains(n.What, "path-only rule") && !strings.Contains(n.What, "shorter than the 3 bytes") {
			t.Errorf("unexpected: %s", n)
		}
	}
	set, _ := loadConverted(t, path)
	eng, err := engine.New(set, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range eng.ScanBytes("config/app.env", []byte("GITHUB_TOKEN=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\n")) {
		ids = append(ids, f.RuleID)
	}
	if !slices.Contains(ids, "github-pat") {
		t.Errorf("the converted github-pat rule did not find a PAT: %v", ids)
	}
}

package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// gitleaksFields are the keys of an entry in gitleaks v8's JSON report, in the
// order gitleaks writes them (report.Finding; Line is not serialised, Link only
// when set).
var gitleaksFields = []string{"RuleID", "Description", "StartLine", "EndLine", "StartColumn", "EndColumn",
	"Match", "Secret", "File", "SymlinkFile", "Commit", "Entropy", "Author", "Email", "Date", "Message",
	"Tags", "Fingerprint"}

// objectKeys returns the keys of each object of a JSON array, in document order.
func objectKeys(t *testing.T, data []byte) [][]string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	var out [][]string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				depth++
				if depth == 1 {
					out = append(out, nil)
				}
			case '}':
				depth--
			}
		case string:
			// Keys of top-level objects: the decoder alternates key and value.
			if depth == 1 && dec.More() {
				out[len(out)-1] = append(out[len(out)-1], v)
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return out
}

func TestGitleaksReport(t *testing.T) {
	out := write(t, sample(), Options{Format: FormatGitleaks})
	keys := objectKeys(t, []byte(out))
	if len(keys) != 4 {
		t.Fatalf("%d entries, want 4:\n%s", len(keys), out)
	}
	for i, k := range keys {
		if !slices.Equal(k, gitleaksFields) {
			t.Errorf("entry %d keys\n got %v\nwant %v", i, k, gitleaksFields)
		}
	}
	if !strings.HasPrefix(out, "[\n {\n  \"RuleID\"") {
		t.Errorf("not indented as gitleaks does (one space):\n%.60s", out)
	}
	type entry struct {
		RuleID, Description, Match, Secret, File, Commit, Author, Email, Date, Message, Fingerprint string
		StartLine, EndLine, StartColumn, EndColumn                                                  int
		Entropy                                                                                     float32
		Tags                                                                                        []string
	}
	var got []entry
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	byFile := map[string]entry{}
	for _, e := range got {
		byFile[e.File] = e
		if e.Secret != "REDACTED" || e.Match != "REDACTED" {
			t.Errorf("%s: Secret %q Match %q, want REDACTED", e.File, e.Secret, e.Match)
		}
		if e.Tags == nil {
			t.Errorf("%s: Tags null, want an array", e.File)
		}
	}
	aws := byFile["deploy/env.sh"]
	want := entry{RuleID: "aws-secret-key", Description: "AWS secret access key: key REDACTED was live", Match: "REDACTED", Secret: "REDACTED",
		File: "deploy/env.sh", Commit: "0123456789abcdef0123456789abcdef01234567", Author: "Alice Example", Email: "alice@example.com",
		Date: "2026-01-02T03:04:05Z", Fingerprint: "0123456789abcdef0123456789abcdef01234567:deploy/env.sh:aws-secret-key:3",
		StartLine: 3, EndLine: 3, StartColumn: 23, EndColumn: 61, Tags: []string{}}
	// The sample's message holds the raw secret; Prepare redacted it to the short form.
	want.Description = "AWS secret access key: key " + finding.Redact(awsSecret) + " was live"
	if !equalJSON(aws, want) {
		t.Errorf("aws entry\n got %+v\nwant %+v", aws, want)
	}
	if e := byFile["config/app.yaml"]; e.Fingerprint != "config/app.yaml:github-pat:12" || e.Entropy != 4.7 || !slices.Equal(e.Tags, []string{"github"}) {
		t.Errorf("github entry: %+v", e)
	}
	if e := byFile["README.md"]; e.Description != "Credential in a URL: move the credential out of the URL" || e.Message != "" {
		t.Errorf("hygiene entry: Description %q Message %q", e.Description, e.Message)
	}

	shown := write(t, sample(), Options{Format: FormatGitleaks, ShowSecrets: true})
	if err := json.Unmarshal([]byte(shown), &got); err != nil {
		t.Fatal(err)
	}
	for _, e := range got {
		if e.File == "deploy/env.sh" && (e.Secret != awsSecret || e.Match != awsSecret) {
			t.Errorf("--show-secrets: Secret %q Match %q, want the secret", e.Secret, e.Match)
		}
	}
	for _, fs := range [][]finding.Finding{nil, {}} {
		if out := write(t, fs, Options{Format: FormatGitleaks}); out != "[]\n" {
			t.Errorf("empty gitleaks report = %q, want []", out)
		}
	}
}

func TestGitleaksLink(t *testing.T) {
	const c = "0123456789abcdef0123456789abcdef01234567"
	f := finding.Finding{RuleID: "r", File: "dir with space/a#b.go", Line: 3, EndLine: 3, Commit: c}
	md := f
	md.File, md.EndLine = "docs/README.md", 5
	tests := []struct {
		repo string
		f    finding.Finding
		want string
	}{
		{"https://github.com/acme/app", f, "https://github.com/acme/app/blob/" + c + "/dir%20with%20space/a%23b.go#L3"},
		{"https://x-access-token:tok@github.com/acme/app.git", f, "https://github.com/acme/app/blob/" + c + "/dir%20with%20space/a%23b.go#L3"},
		{"git@github.com:acme/app.git", md, "https://github.com/acme/app/blob/" + c + "/docs/README.md?plain=1#L3-L5"},
		{"ssh://git@gitlab.com/group/sub/app.git", md, "https://gitlab.com/group/sub/app/blob/" + c + "/docs/README.md#L3-5"},
		{"https://git.example.com/acme/app", f, ""},
		{"https://github.com/acme", f, ""},
		{"", f, ""},
		{"https://github.com/acme/app", finding.Finding{File: "a", Line: 1}, ""},
	}
	for _, tt := range tests {
		if got := scmLink(tt.repo, tt.f); got != tt.want {
			t.Errorf("scmLink(%q, %s) = %q, want %q", tt.repo, tt.f.File, got, tt.want)
		}
	}
	// In the report the Link key sits after Commit, as gitleaks writes it.
	out := write(t, sample(), Options{Format: FormatGitleaks, RepositoryURI: "https://github.com/acme/app"})
	for _, keys := range objectKeys(t, []byte(out)) {
		if slices.Contains(keys, "Link") {
			want := slices.Insert(slices.Clone(gitleaksFields), slices.Index(gitleaksFields, "Commit")+1, "Link")
			if !slices.Equal(keys, want) {
				t.Errorf("keys %v, want %v", keys, want)
			}
		}
	}
	if !strings.Contains(out, `"Link": "https://github.com/acme/app/blob/0123456789abcdef0123456789abcdef01234567/deploy/env.sh#L3"`) {
		t.Errorf("no link for the history finding:\n%s", out)
	}
}

func TestGitleaksDate(t *testing.T) {
	for in, want := range map[string]string{
		"2026-01-02T05:04:05+02:00": "2026-01-02T03:04:05Z",
		"2026-01-02T03:04:05Z":      "2026-01-02T03:04:05Z",
		"":                          "",
		"yesterday":                 "yesterday",
	} {
		if got := gitleaksDate(in); got != want {
			t.Errorf("gitleaksDate(%q) = %q, want %q", in, got, want)
		}
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func readCSV(t *testing.T, out string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(out))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse: %v\n%s", err, out)
	}
	return rows
}

func TestCSV(t *testing.T) {
	rows := readCSV(t, write(t, sample(), Options{Format: FormatCSV}))
	wantHeader := []string{"rule_id", "description", "severity", "kind", "file", "line", "column", "end_line", "end_column",
		"secret", "redacted", "context", "fingerprint", "commit", "author", "email", "date", "message", "entropy", "encoding",
		"tags", "verification_status", "verification_http_status", "verification_checked_at", "verification_detail"}
	// The header follows the Finding schema: every JSON field of finding.Finding
	// is a column (a field added to the schema must show up here).
	var schema map[string]any
	b, _ := json.Marshal(finding.Finding{Verification: &finding.Verification{}})
	_ = json.Unmarshal(b, &schema)
	for k := range schema {
		if k != "verification" && !slices.Contains(rows[0], k) {
			t.Errorf("schema field %q has no csv column", k)
		}
	}
	for _, h := range wantHeader {
		if !slices.Contains(rows[0], h) {
			t.Errorf("header lacks %q: %v", h, rows[0])
		}
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows, want header + 4", len(rows))
	}
	col := func(row []string, name string) string { return row[slices.Index(rows[0], name)] }
	var aws, odd []string
	for _, r := range rows[1:] {
		if len(r) != len(rows[0]) {
			t.Fatalf("row has %d cells, header %d", len(r), len(rows[0]))
		}
		switch col(r, "file") {
		case "deploy/env.sh":
			aws = r
		case "dir with space/we,ird:na%me#1.env":
			odd = r
		}
	}
	if aws == nil || odd == nil {
		t.Fatalf("rows by file not found: %v", rows)
	}
	for name, want := range map[string]string{"line": "3", "end_column": "62", "secret": "", "redacted": finding.Redact(awsSecret),
		"verification_status": "live", "verification_http_status": "200", "commit": "0123456789abcdef0123456789abcdef01234567"} {
		if got := col(aws, name); got != want {
			t.Errorf("aws %s = %q, want %q", name, got, want)
		}
	}
	if got := col(odd, "tags"); got != "github" {
		t.Errorf("tags = %q", got)
	}

	// Quoting and formula injection, at the writer (Write's guard escapes
	// newlines in text fields before any format sees them).
	evil := finding.Finding{RuleID: "generic", Severity: "high", File: "=HYPERLINK(\"http://x.invalid\",\"a\")",
		Line: 1, Column: 1, EndLine: 1, EndColumn: 2, Context: "+cmd|' /C calc'!A0", Message: "-2+3",
		Author: "@SUM(1)", Description: "quote \" comma , newline \n end", Tags: []string{"=x", "y"}, Fingerprint: "sha256:1"}
	var buf bytes.Buffer
	if err := writeCSV(&buf, []finding.Finding{evil}); err != nil {
		t.Fatal(err)
	}
	rows = readCSV(t, buf.String())
	r := rows[1]
	for name, want := range map[string]string{
		"file":        "'=HYPERLINK(\"http://x.invalid\",\"a\")",
		"context":     "'+cmd|' /C calc'!A0",
		"message":     "'-2+3",
		"author":      "'@SUM(1)",
		"description": "quote \" comma , newline \n end",
		"tags":        "'=x;y",
		"line":        "1",
	} {
		if got := col(r, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// Through Write too, the formula guard holds.
	rows = readCSV(t, write(t, []finding.Finding{evil}, Options{Format: FormatCSV}))
	if got := col(rows[1], "file"); !strings.HasPrefix(got, "'=HYPERLINK(") {
		t.Errorf("file cell %q is a formula", got)
	}

	for _, fs := range [][]finding.Finding{nil, {}} {
		if rows := readCSV(t, write(t, fs, Options{Format: FormatCSV})); len(rows) != 1 {
			t.Errorf("empty csv: %d rows, want the header only", len(rows))
		}
	}
}

func TestGuardFormula(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""}, {"plain", "plain"}, {"=1+1", "'=1+1"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@x", "'@x"},
		{"\t=1", "'\t=1"}, {"\r=1", "'\r=1"}, {"a=1", "a=1"}, {"'=1", "'=1"},
	}
	for _, tt := range tests {
		if got := guardFormula(tt.in); got != tt.want {
			t.Errorf("guardFormula(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			File    string `xml:"file,attr"`
			Line    int    `xml:"line,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Body string `xml:",chardata"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, out string) junitDoc {
	t.Helper()
	var doc junitDoc
	dec := xml.NewDecoder(strings.NewReader(out))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("junit is not well-formed XML: %v\n%s", err, out)
	}
	return doc
}

func TestJUnit(t *testing.T) {
	out := write(t, sample(), Options{Format: FormatJUnit, Summary: &Summary{Problems: []string{"cannot read a <b>: denied"},
		Skipped: []source.Skip{{Path: "img/logo.png", Reason: "binary"}, {Path: "a.zip!big.bin", Reason: "larger than --max-file-size"}}}})
	if !strings.HasPrefix(out, xml.Header) {
		t.Errorf("no XML declaration")
	}
	doc := readJUnit(t, out)
	if doc.Tests != 7 || doc.Failures != 4 || doc.Errors != 1 || doc.Skipped != 2 {
		t.Errorf("totals tests=%d failures=%d errors=%d skipped=%d, want 7/4/1/2", doc.Tests, doc.Failures, doc.Errors, doc.Skipped)
	}
	var names []string
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	if want := []string{"aws-secret-key", "github-pat", "token-in-url", "tokenward", "tokenward: not scanned"}; !slices.Equal(names, want) {
		t.Errorf("suites %v, want %v", names, want)
	}
	gh := doc.Suites[1]
	if gh.Tests != 2 || gh.Failures != 2 || len(gh.Cases) != 2 {
		t.Fatalf("github-pat suite: %+v", gh)
	}
	c := gh.Cases[0]
	if c.Name != "config/app.yaml:12:9" || c.File != "config/app.yaml" || c.Line != 12 || c.Failure == nil || c.Failure.Type != "high" {
		t.Errorf("case %+v", c)
	}
	if !strings.Contains(c.Failure.Body, "context:   token: "+finding.Redact(ghSecret)) {
		t.Errorf("failure body lacks the redacted context:\n%s", c.Failure.Body)
	}
	if p := doc.Suites[3].Cases[0].Error; p == nil || p.Body != "cannot read a <b>: denied" {
		t.Errorf("problem not reported as an error: %+v", doc.Suites[3].Cases)
	}
	if sk := doc.Suites[4].Cases; len(sk) != 2 || sk[1].Name != "a.zip!big.bin" || sk[1].Skipped == nil || sk[1].Skipped.Message != "larger than --max-file-size" {
		t.Errorf("skipped files: %+v", sk)
	}

	// Markup, quotes and characters XML 1.0 cannot hold.
	evil := finding.Finding{RuleID: `r"<&>`, Severity: "high", File: "a<b>&\"c'\x01\x1b.txt", Line: 1, Column: 2,
		Context: "]]> </failure><x>", Fingerprint: "sha256:1"}
	var buf bytes.Buffer
	if err := writeJUnit(&buf, []finding.Finding{evil}, Options{}); err != nil {
		t.Fatal(err)
	}
	doc = readJUnit(t, buf.String())
	c = doc.Suites[0].Cases[0]
	if doc.Suites[0].Name != `r"<&>` || c.File != "a<b>&\"c'\uFFFD\uFFFD.txt" || !strings.Contains(c.Failure.Body, "]]> </failure><x>") {
		t.Errorf("escaping lost data: suite %q file %q body %q", doc.Suites[0].Name, c.File, c.Failure.Body)
	}
	// Through Write as well (whatever its guard does to control characters).
	doc = readJUnit(t, write(t, []finding.Finding{evil}, Options{Format: FormatJUnit}))
	if f := doc.Suites[0].Cases[0].File; !strings.HasPrefix(f, "a<b>&\"c'") || strings.ContainsAny(f, "\x01\x1b") {
		t.Errorf("file attribute %q", f)
	}

	doc = readJUnit(t, write(t, nil, Options{Format: FormatJUnit}))
	if doc.Tests != 0 || len(doc.Suites) != 0 {
		t.Errorf("empty junit: %+v", doc)
	}
}

func TestTemplate(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "t.tmpl")
	src := `{{range .}}{{.RuleID}} {{.File}}:{{.Line}} {{shown .}} {{upper .Severity}} {{join "," .Tags}} {{json .Verification}}
{{end}}{{len .}} {{version}}{{with summary}} {{.Files}}{{end}}`
	if err := os.WriteFile(tmpl, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "token-in-url README.md:40 **** MEDIUM  null\n" +
		"github-pat config/app.yaml:12 " + finding.Redact(ghSecret) + " HIGH github null\n" +
		"aws-secret-key deploy/env.sh:3 " + finding.Redact(awsSecret) + ` CRITICAL  {"status":"live","http_status":200,"detail":"accepted ` + finding.Redact(awsSecret) + `"}` + "\n" +
		"github-pat dir with space/we,ird:na%me#1.env:2 " + finding.Redact(ghSecret) + " LOW github null\n" +
		"4 9.9 7"
	for _, opts := range []Options{
		{Format: FormatTemplate, Template: tmpl},
		{Format: "template=" + tmpl},
		{Format: "TEMPLATE", Template: tmpl},
	} {
		opts.Version, opts.Summary = "9.9", &Summary{Files: 7}
		if got := write(t, sample(), opts); got != want {
			t.Errorf("%+v:\n got %q\nwant %q", opts.Format, got, want)
		}
	}
	shown := write(t, sample(), Options{Format: FormatTemplate, Template: tmpl, ShowSecrets: true})
	if !strings.Contains(shown, ghSecret) {
		t.Errorf("shown with ShowSecrets lacks the secret:\n%s", shown)
	}
	if got := write(t, nil, Options{Format: FormatTemplate, Template: tmpl}); got != "0 " {
		t.Errorf("empty = %q", got)
	}

	// A gitleaks template, with "range gitleaks" for "range .".
	gl := filepath.Join(dir, "gitleaks.tmpl")
	if err := os.WriteFile(gl, []byte(`{{range gitleaks}}{{.RuleID}} {{.File}}:{{.StartLine}}-{{.EndColumn}} {{.Secret}} {{.Fingerprint}}
{{end}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := write(t, sample()[:1], Options{Format: FormatTemplate, Template: gl}), "token-in-url README.md:40-29 REDACTED README.md:token-in-url:40\n"; got != want {
		t.Errorf("gitleaks template: got %q, want %q", got, want)
	}

	bad := filepath.Join(dir, "bad.tmpl")
	if err := os.WriteFile(bad, []byte("line one\n{{range .}}{{.Nope}}{{end}}\n{{if}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.tmpl")
	if err := os.WriteFile(broken, []byte("ok\n{{.Nope}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	errs := []struct {
		opts Options
		want []string
	}{
		{Options{Format: FormatTemplate}, []string{"--template FILE", "template=FILE"}},
		{Options{Format: FormatTemplate, Template: filepath.Join(dir, "missing.tmpl")}, []string{"missing.tmpl", "no such file"}},
		{Options{Format: FormatTemplate, Template: bad}, []string{bad + ":3", "missing value for if"}},
		{Options{Format: FormatTemplate, Template: broken}, []string{broken + ":2", "Nope"}},
	}
	for _, tt := range errs {
		err := Write(&bytes.Buffer{}, sample(), tt.opts)
		if err == nil {
			t.Errorf("%+v: no error", tt.opts)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %q lacks %q", tt.opts, err, w)
			}
		}
	}
}

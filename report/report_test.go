package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

const (
	ghSecret  = "ghp_R8x2Kq9LmN4pV7sT1wY5zA3bC6dE0fG8hJ2k"
	awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
)

// sample returns a realistic mix: a file finding, a history finding with a
// verified secret in its message and detail, a hygiene finding, and one in a
// path that needs escaping everywhere.
func sample() []finding.Finding {
	gh := finding.Finding{
		RuleID: "github-pat", Description: "GitHub personal access token", Severity: "high",
		Kind: finding.KindSecret, File: "config/app.yaml", Line: 12, Column: 9, EndLine: 12, EndColumn: 48,
		Secret: ghSecret, Redacted: finding.Redact(ghSecret),
		Context:     "  token: " + ghSecret + " # " + ghSecret,
		Fingerprint: finding.Fingerprint("github-pat", ghSecret), Entropy: 4.7, Tags: []string{"github"},
	}
	aws := finding.Finding{
		RuleID: "aws-secret-key", Description: "AWS secret access key", Severity: "critical",
		Kind: finding.KindSecret, File: "deploy/env.sh", Line: 3, Column: 23, EndLine: 3, EndColumn: 62,
		Secret: awsSecret, Redacted: finding.Redact(awsSecret),
		Context:     "AWS_SECRET_ACCESS_KEY=" + awsSecret,
		Message:     "key " + awsSecret + " was live",
		Fingerprint: finding.Fingerprint("aws-secret-key", awsSecret),
		Commit:      "0123456789abcdef0123456789abcdef01234567", Author: "Alice Example", Email: "alice@example.com",
		Date:         "2026-01-02T03:04:05Z",
		Verification: &finding.Verification{Status: finding.StatusLive, HTTPStatus: 200, Detail: "accepted " + awsSecret},
	}
	hyg := finding.Finding{
		RuleID: "token-in-url", Description: "Credential in a URL", Severity: "medium",
		Kind: finding.KindHygiene, File: "README.md", Line: 40, Column: 5, EndLine: 40, EndColumn: 30,
		Redacted: "****", Context: "see https://user:****@example.com/x", Message: "move the credential out of the URL",
		Fingerprint: finding.Fingerprint("token-in-url", "user:pw"),
	}
	odd := gh
	odd.File = "dir with space/we,ird:na%me#1.env"
	odd.Line, odd.EndLine = 2, 2
	odd.Context = "GITHUB_TOKEN=" + ghSecret
	odd.Severity = "low"
	return []finding.Finding{hyg, gh, aws, odd}
}

func write(t *testing.T, fs []finding.Finding, opts Options) string {
	t.Helper()
	if opts.Format == FormatTemplate && opts.Template == "" {
		opts.Template = "testdata/markdown.tmpl"
	}
	var buf bytes.Buffer
	if err := Write(&buf, fs, opts); err != nil {
		t.Fatalf("Write(%s): %v", opts.Format, err)
	}
	return buf.String()
}

func TestNoFindings(t *testing.T) {
	tests := []struct {
		format string
		check  func(t *testing.T, out string)
	}{
		{"text", func(t *testing.T, out string) {
			if !strings.HasPrefix(out, "0 findings") {
				t.Errorf("text = %q, want a line starting with \"0 findings\"", out)
			}
		}},
		{"json", func(t *testing.T, out string) {
			if out != "[]\n" {
				t.Errorf("json = %q, want %q", out, "[]\n")
			}
		}},
		{"jsonl", func(t *testing.T, out string) {
			if out != "" {
				t.Errorf("jsonl = %q, want empty", out)
			}
		}},
		{"sarif", func(t *testing.T, out string) {
			checkSARIF(t, out, nil)
			if !strings.Contains(out, `"results": []`) || !strings.Contains(out, `"rules": []`) {
				t.Errorf("sarif must hold empty results and rules arrays, not null:\n%s", out)
			}
		}},
		{"github", func(t *testing.T, out string) {
			if out != "" {
				t.Errorf("github = %q, want empty", out)
			}
		}},
		{"gitleaks", func(t *testing.T, out string) {
			if out != "[]\n" {
				t.Errorf("gitleaks = %q, want %q", out, "[]\n")
			}
		}},
		{"csv", func(t *testing.T, out string) {
			if !strings.HasPrefix(out, "rule_id,") || strings.Count(out, "\n") != 1 {
				t.Errorf("csv = %q, want the header row only", out)
			}
		}},
		{"junit", func(t *testing.T, out string) {
			if !strings.Contains(out, `<testsuites name="tokenward" tests="0" failures="0" errors="0" skipped="0"></testsuites>`) {
				t.Errorf("junit = %q, want an empty testsuites element", out)
			}
		}},
		{"html", func(t *testing.T, out string) {
			if !strings.Contains(out, "No findings.") || strings.Contains(out, `class="finding"`) {
				t.Errorf("html lacks \"No findings.\":\n%s", out)
			}
		}},
		{"template", func(t *testing.T, out string) {
			if !strings.HasSuffix(out, "\n0 findings\n") {
				t.Errorf("template = %q, want it to end with 0 findings", out)
			}
		}},
	}
	if len(tests) != len(Formats()) {
		t.Errorf("%d formats tested, %d formats exist", len(tests), len(Formats()))
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			for _, fs := range [][]finding.Finding{nil, {}} {
				tt.check(t, write(t, fs, Options{Format: tt.format, Version: "1.0.0"}))
			}
		})
	}
}

func TestSecretsRedactedUnlessShown(t *testing.T) {
	secrets := []string{ghSecret, awsSecret}
	for _, format := range Formats() {
		for _, color := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/color=%v", format, color), func(t *testing.T) {
				opts := Options{Format: format, Color: color, Version: "1.0.0",
					Summary: &Summary{Files: 4, Problems: []string{"cannot read x: permission denied"}}}
				out := write(t, sample(), opts)
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("output contains raw secret %q:\n%s", s, out)
					}
					// Even a long fragment of the secret must not leak.
					if strings.Contains(out, s[4:len(s)-4]) {
						t.Errorf("output contains the middle of secret %q", s)
					}
				}
				// gitleaks' report writes "REDACTED", as gitleaks --redact does.
				if format != FormatGitleaks && !strings.Contains(out, finding.Redact(ghSecret)) {
					t.Errorf("output lacks the redacted form %q", finding.Redact(ghSecret))
				}

				opts.ShowSecrets = true
				out = write(t, sample(), opts)
				for _, s := range secrets {
					if !strings.Contains(out, s) {
						t.Errorf("with ShowSecrets, output lacks secret %q:\n%s", s, out)
					}
				}
			})
		}
	}
}

func TestPrepareDoesNotModifyInput(t *testing.T) {
	in := sample()
	before, _ := json.Marshal(in)
	_ = Prepare(in, false)
	for _, format := range Formats() {
		write(t, in, Options{Format: format})
	}
	after, _ := json.Marshal(in)
	if !bytes.Equal(before, after) {
		t.Fatalf("Write modified its input:\nbefore %s\nafter  %s", before, after)
	}
	if in[1].Secret != ghSecret {
		t.Fatalf("input secret cleared")
	}
}

func TestDeterministicOutput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			opts := Options{Format: format, Version: "1.0.0", Summary: &Summary{Files: 10}}
			want := write(t, sample(), opts)
			for range 20 {
				fs := sample()
				rng.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
				if got := write(t, fs, opts); got != want {
					t.Fatalf("output depends on input order:\nwant\n%s\ngot\n%s", want, got)
				}
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	out := write(t, sample(), Options{Format: "json"})
	var got []finding.Finding
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("json output does not parse: %v\n%s", err, out)
	}
	if len(got) != 4 {
		t.Fatalf("got %d findings, want 4", len(got))
	}
	// Sorted by file: README.md, config/app.yaml, deploy/env.sh, dir with space/...
	wantFiles := []string{"README.md", "config/app.yaml", "deploy/env.sh", "dir with space/we,ird:na%me#1.env"}
	for i, f := range got {
		if f.File != wantFiles[i] {
			t.Errorf("finding %d file = %q, want %q", i, f.File, wantFiles[i])
		}
		if f.Secret != "" {
			t.Errorf("finding %d carries a secret", i)
		}
	}
	if got[1].Context != "  token: "+finding.Redact(ghSecret)+" # "+finding.Redact(ghSecret) {
		t.Errorf("context = %q: every occurrence must be redacted", got[1].Context)
	}
	if got[2].Verification == nil || got[2].Verification.Status != "live" {
		t.Errorf("verification lost: %+v", got[2].Verification)
	}

	lines := strings.Split(strings.TrimSuffix(write(t, sample(), Options{Format: "jsonl"}), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("jsonl: %d lines, want 4", len(lines))
	}
	for i, l := range lines {
		var f finding.Finding
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("jsonl line %d: %v", i+1, err)
		}
		if f.File != wantFiles[i] {
			t.Errorf("jsonl line %d file = %q, want %q", i+1, f.File, wantFiles[i])
		}
	}
}

func TestText(t *testing.T) {
	sum := &Summary{Files: 120, BytesScanned: 3 << 20, Suppressed: 2,
		Skipped:  []source.Skip{{Path: "a.bin", Reason: "binary"}, {Path: "b.bin", Reason: "binary"}, {Path: "big.log", Reason: "too large"}},
		Problems: []string{"vendor/x: permission denied"}}
	plain := write(t, sample(), Options{Summary: sum})
	for _, want := range []string{
		"config/app.yaml:12:9  github-pat  high  " + finding.Redact(ghSecret) + "\n",
		"    | token: " + finding.Redact(ghSecret),
		"    commit 0123456789ab  Alice Example <alice@example.com>  2026-01-02T03:04:05Z\n",
		"    verification: live (HTTP 200; accepted " + finding.Redact(awsSecret) + ")\n",
		"    move the credential out of the URL\n",
		"4 findings (1 critical, 1 high, 1 medium, 1 low) in 120 files (3.0 MiB); 3 not scanned (binary: 2, too large: 1); 2 suppressed by baseline or ignore list; 1 problem (scan incomplete)\n",
		"problem: vendor/x: permission denied\n",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("text output lacks %q:\n%s", want, plain)
		}
	}
	if strings.Contains(plain, "\x1b") {
		t.Errorf("text without Color contains escape sequences:\n%q", plain)
	}
	colored := write(t, sample(), Options{Summary: sum, Color: true})
	if !strings.Contains(colored, "\x1b[") {
		t.Errorf("text with Color has no ANSI colour")
	}
	// Removing the escape sequences gives back the plain output.
	stripped := colored
	for _, c := range []string{ansiReset, ansiBold, ansiDim, ansiRed, ansiYellow, ansiCyan, ansiGreen} {
		stripped = strings.ReplaceAll(stripped, c, "")
	}
	if stripped != plain {
		t.Errorf("coloured text differs from plain text beyond colour:\n%s\n---\n%s", stripped, plain)
	}
}

func TestTextSanitizesAndTruncates(t *testing.T) {
	long := strings.Repeat("x;", 2500) + "key=" + ghSecret + ";" + strings.Repeat("y;", 2500)
	tests := []struct {
		name    string
		f       finding.Finding
		want    []string
		notWant []string
	}{
		{
			name: "escape sequences in the scanned file",
			f: finding.Finding{RuleID: "r", Severity: "high", File: "evil\x1b[2J.txt", Line: 1, Column: 1,
				Context: "tok=\x1b]0;pwned\x07 \u202eabc", Redacted: "****"},
			want:    []string{`evil\x1b[2J.txt:1:1`, `tok=\x1b]0;pwned\x07 \u202eabc`},
			notWant: []string{"\x1b", "\x07", "\u202e"},
		},
		{
			name:    "invalid utf-8",
			f:       finding.Finding{RuleID: "r", Severity: "low", File: "a.txt", Line: 1, Column: 1, Context: "k=\xff\xfe", Redacted: "****"},
			want:    []string{"k=\uFFFD\n"},
			notWant: []string{"\xff"},
		},
		{
			name: "minified line cut around the secret",
			f: finding.Finding{RuleID: "github-pat", Severity: "high", File: "app.min.js", Line: 1, Column: 5005,
				Secret: ghSecret, Context: long},
			want:    []string{"    | …x;x;", "x;key=" + finding.Redact(ghSecret) + ";y;", ";y;…\n"},
			notWant: []string{strings.Repeat("x;", 100), ghSecret},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := write(t, []finding.Finding{tt.f}, Options{})
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%q", w, out)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(out, nw) {
					t.Errorf("output contains %q:\n%q", nw, out)
				}
			}
		})
	}
}

func TestGitHubEscaping(t *testing.T) {
	tests := []struct {
		in, data, prop string
	}{
		{"plain", "plain", "plain"},
		{"100%", "100%25", "100%25"},
		{"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
		{"x:y,z", "x:y,z", "x%3Ay%2Cz"},
		{"%0A", "%250A", "%250A"}, // an already-escaped-looking value stays literal
	}
	for _, tt := range tests {
		if got := escapeData(tt.in); got != tt.data {
			t.Errorf("escapeData(%q) = %q, want %q", tt.in, got, tt.data)
		}
		if got := escapeProperty(tt.in); got != tt.prop {
			t.Errorf("escapeProperty(%q) = %q, want %q", tt.in, got, tt.prop)
		}
	}
}

func TestGitHubAnnotations(t *testing.T) {
	out := write(t, sample(), Options{Format: "github", Summary: &Summary{Problems: []string{"a: b,\nc"}}})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want 4 annotations + 1 problem:\n%s", len(lines), out)
	}
	want := []string{
		"::warning file=README.md,line=40,col=5,endLine=40,endColumn=30,title=token-in-url (medium)::Credential in a URL: **** — move the credential out of the URL%0Afingerprint: " + finding.Fingerprint("token-in-url", "user:pw"),
		"::error file=config/app.yaml,line=12,col=9,endLine=12,endColumn=48,title=github-pat (high)::GitHub personal access token: " + finding.Redact(ghSecret) + "%0Afingerprint: " + finding.Fingerprint("github-pat", ghSecret),
		"::error file=deploy/env.sh,line=3,col=23,endLine=3,endColumn=62,title=aws-secret-key (critical)::AWS secret access key: " + finding.Redact(awsSecret) + " — key " + finding.Redact(awsSecret) + " was live in commit 0123456789ab by Alice Example [live]%0Afingerprint: " + finding.Fingerprint("aws-secret-key", awsSecret),
		"::notice file=dir with space/we%2Cird%3Ana%25me#1.env,line=2,col=9,endLine=2,endColumn=48,title=github-pat (low)::",
		"::warning title=tokenward%3A scan incomplete::a: b,%0Ac",
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], want[i])
		}
	}
}

func TestLevels(t *testing.T) {
	tests := []struct{ sev, level, secsev string }{
		{"critical", "error", "9.5"},
		{"high", "error", "8.0"},
		{"HIGH", "error", "8.0"},
		{"medium", "warning", "5.5"},
		{"low", "note", "2.0"},
		{"info", "note", ""},
		{"", "note", ""},
	}
	for _, tt := range tests {
		if got := level(tt.sev); got != tt.level {
			t.Errorf("level(%q) = %q, want %q", tt.sev, got, tt.level)
		}
		if got := securitySeverity(tt.sev); got != tt.secsev {
			t.Errorf("securitySeverity(%q) = %q, want %q", tt.sev, got, tt.secsev)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	err := Write(&bytes.Buffer{}, nil, Options{Format: "xml"})
	if err == nil || !strings.Contains(err.Error(), "text, json, jsonl, sarif, github, gitleaks, csv, junit, html, template") {
		t.Fatalf("err = %v, want one listing the formats", err)
	}
	for _, f := range Formats() {
		if !ValidFormat(f) {
			t.Errorf("ValidFormat(%q) = false", f)
		}
	}
	for _, bad := range []string{"xml", "template=", "json=x", "html=out.html"} {
		if ValidFormat(bad) {
			t.Errorf("ValidFormat(%q) = true", bad)
		}
	}
	if !ValidFormat("template=report.tmpl") || !ValidFormat("Template=x") {
		t.Errorf("ValidFormat(template=FILE) = false")
	}
	if !slices.Equal(Formats(), []string{"text", "json", "jsonl", "sarif", "github", "gitleaks", "csv", "junit", "html", "template"}) {
		t.Errorf("Formats() = %v", Formats())
	}
}

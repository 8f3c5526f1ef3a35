package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// htmlFixture is sample() plus a finding whose every field is hostile markup.
func htmlFixture() []finding.Finding {
	fs := sample()
	evil := finding.Finding{
		RuleID: "generic-api-key", Description: "Generic <b>API</b> key", Severity: "high", Kind: finding.KindSecret,
		File: `web/<script>alert(1)</script>".js`, Line: 7, Column: 14, EndLine: 7, EndColumn: 40,
		Secret: "Zx81Qp0rT5vW2yB7nM4kL9jH", Redacted: finding.Redact("Zx81Qp0rT5vW2yB7nM4kL9jH"),
		Context: `const k = "Zx81Qp0rT5vW2yB7nM4kL9jH"; // "><img src=x onerror=alert(2)>`,
		Author:  "Mallory <script>", Email: "m@example.com", Commit: "feedface",
		Fingerprint: "sha256:2", Verification: &finding.Verification{Status: finding.StatusInvalid, HTTPStatus: 401},
	}
	return append(fs, evil)
}

var (
	externalRef = regexp.MustCompile(`(?i)\b(?:src|href|action|formaction|poster|srcset|xlink:href)\s*=\s*["']?\s*(?:https?:|//|ftp:|ws:|wss:)`)
	cssImport   = regexp.MustCompile(`(?i)@import|url\(\s*["']?\s*(?:https?:|//)`)
	scriptBody  = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	styleBody   = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
	cspMeta     = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`)
)

func TestHTMLSelfContained(t *testing.T) {
	out := write(t, htmlFixture(), Options{Format: FormatHTML, Version: "1.2.3", RepositoryURI: "https://github.com/acme/app",
		Summary: &Summary{Files: 9, Problems: []string{"cannot read <x>"}, Skipped: []source.Skip{{Path: "bin/<tool>", Reason: "binary"}}}})
	if m := externalRef.FindString(out); m != "" {
		t.Errorf("page references an external resource: %q", m)
	}
	if m := cssImport.FindString(out); m != "" {
		t.Errorf("page's CSS loads from outside: %q", m)
	}
	// Only the page's own script and style may run: the CSP allows them by hash.
	m := cspMeta.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no Content-Security-Policy meta")
	}
	csp := strings.ReplaceAll(m[1], "&#39;", "'")
	if !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q does not default to none", csp)
	}
	scripts := scriptBody.FindAllStringSubmatch(out, -1)
	if len(scripts) != 1 || strings.Count(out, "<script") != 1 {
		t.Fatalf("want exactly one script element, got %d (%d \"<script\")", len(scripts), strings.Count(out, "<script"))
	}
	styles := styleBody.FindAllStringSubmatch(out, -1)
	if len(styles) != 1 {
		t.Fatalf("want one style element, got %d", len(styles))
	}
	for what, body := range map[string]string{"script-src": scripts[0][1], "style-src": styles[0][1]} {
		h := sha256.Sum256([]byte(body))
		want := what + " 'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q: the inline %s would be blocked", csp, want, what)
		}
	}
	// Hostile values are text, never markup.
	for _, bad := range []string{"<img", "<b>API", "alert(1)</script>", "Mallory <script>", "<x>"} {
		if strings.Contains(out, bad) {
			t.Errorf("unescaped %q in page", bad)
		}
	}
	for _, want := range []string{"web/&lt;script&gt;alert(1)&lt;/script&gt;&#34;.js", "&lt;img src=x onerror=alert(2)&gt;",
		"https://github.com/acme/app", "cannot read &lt;x&gt;", "tokenward 1.2.3", "Not scanned: 1</summary>", "<code>bin/&lt;tool&gt;</code> binary"} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Grouped by severity (most severe first), then rule, then file.
	var order []string
	for _, m := range regexp.MustCompile(`<section class="severity" data-group="severity" data-sev="(\w+)">`).FindAllStringSubmatch(out, -1) {
		order = append(order, m[1])
	}
	if want := []string{"critical", "high", "medium", "low"}; !slices.Equal(order, want) {
		t.Errorf("severity sections %v, want %v", order, want)
	}
	high := out[strings.Index(out, `data-sev="high">`):strings.Index(out, `data-sev="medium">`)]
	gen, gh := strings.Index(high, "<code>generic-api-key</code>"), strings.Index(high, "<code>github-pat</code>")
	if gen < 0 || gh < 0 || gen > gh {
		t.Errorf("rules in the high section not both present in id order (generic %d, github %d)", gen, gh)
	}
}

func TestHTMLRedaction(t *testing.T) {
	out := write(t, htmlFixture(), Options{Format: FormatHTML})
	for _, s := range []string{ghSecret, awsSecret, "Zx81Qp0rT5vW2yB7nM4kL9jH"} {
		if strings.Contains(out, s) {
			t.Errorf("page holds secret %q", s)
		}
	}
	if !strings.Contains(out, `<mark>`+finding.Redact(awsSecret)+`</mark>`) {
		t.Errorf("context does not mark the redacted secret")
	}
	if !strings.Contains(out, "secrets redacted") {
		t.Errorf("page does not say secrets are redacted")
	}
	shown := write(t, htmlFixture(), Options{Format: FormatHTML, ShowSecrets: true})
	if !strings.Contains(shown, `<mark>`+awsSecret+`</mark>`) || !strings.Contains(shown, "secrets shown unredacted") {
		t.Errorf("--show-secrets page lacks the secret or the warning")
	}
}

func TestHTMLAccess(t *testing.T) {
	fields := accessFromJSON([]byte(`{"status":"live","access":{"identity":"octo","scopes":["repo","gist"],"resources":42,"admin":false,"orgs":[{"login":"acme"}]}}`))
	want := []htmlField{{"admin", "false"}, {"identity", "octo"}, {"orgs", `{"login":"acme"}`}, {"resources", "42"}, {"scopes", "repo, gist"}}
	if !slices.Equal(fields, want) {
		t.Errorf("access fields %v, want %v", fields, want)
	}
	if f := accessFromJSON([]byte(`{"status":"live"}`)); f != nil {
		t.Errorf("no access object: %v", f)
	}
	page := htmlPage{Total: 1, Groups: []htmlSeverity{{Name: "high", Count: 1, Rules: []htmlRule{{ID: "github-pat", Count: 1,
		Files: []htmlFile{{Path: "a", Findings: []htmlFinding{{Severity: "high", Location: "1:1", Fingerprint: "x",
			Verify: &htmlVerification{Status: "live", Class: "live", HTTP: 200, Access: []htmlField{{"identity", "<octo>"}, {"scopes", "repo"}}}}}}}}}}},
		Severities: []htmlCount{{"high", 1}}}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<dt>access</dt>`, `<b>identity</b> &lt;octo&gt;`, `<b>scopes</b> repo`, `<span class="verify live">live (HTTP 200)</span>`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestHTMLSkippedBounded(t *testing.T) {
	var sk []source.Skip
	for i := range maxHTMLSkipped + 5 {
		sk = append(sk, source.Skip{Path: "bin/f" + strconv.Itoa(i), Reason: "binary"})
	}
	out := write(t, sample(), Options{Format: FormatHTML, Summary: &Summary{Skipped: sk}})
	if n := strings.Count(out, "<li><code>bin/f"); n != maxHTMLSkipped {
		t.Errorf("%d skipped entries listed, want %d", n, maxHTMLSkipped)
	}
	if !strings.Contains(out, "Not scanned: 1000 of 1005</summary>") || !strings.Contains(out, "… and 5 more") {
		t.Errorf("page does not say how many were left out")
	}
}

// TestHTMLPlusSecretRedacted: html/template writes "+" as "&#43;", a form the
// output guard's redaction does not know; the page writes "+" as is, so a
// secret with "+" that reaches the page outside the redacted fields (here a
// tag) is still hidden.
func TestHTMLPlusSecretRedacted(t *testing.T) {
	const secret = "wJalrXUtnFEMI+K7MDENG+bPxRfiCYzEXAMPLEKEY"
	f := finding.Finding{RuleID: "aws-secret-key", Severity: "critical", File: "a+b.env", Line: 1, Column: 1, EndLine: 1, EndColumn: 2,
		Secret: secret, Context: "k=" + secret, Tags: []string{"leaked:" + secret}, Fingerprint: "sha256:3"}
	out := write(t, []finding.Finding{f}, Options{Format: FormatHTML})
	for _, form := range []string{secret, strings.ReplaceAll(secret, "+", "&#43;"), "MDENG"} {
		if strings.Contains(out, form) {
			t.Errorf("page holds the secret as %q", form)
		}
	}
	if strings.Contains(out, "&#43;") || !strings.Contains(out, "a+b.env") {
		t.Errorf("page does not write + as is")
	}
}

func TestPlusWriter(t *testing.T) {
	tests := []struct {
		writes []string
		want   string
	}{
		{[]string{"a&#43;b"}, "a+b"},
		{[]string{"a&", "#4", "3;b"}, "a+b"},
		{[]string{"x&#4"}, "x&#4"},
		{[]string{"&amp;#43;", "&#34;&#39;"}, "&amp;#43;&#34;&#39;"},
		{[]string{"&#43", ";&#43;", "&"}, "++&"},
		{nil, ""},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		p := &plusWriter{w: &buf}
		for _, w := range tt.writes {
			if n, err := p.Write([]byte(w)); err != nil || n != len(w) {
				t.Fatalf("Write(%q) = %d, %v", w, n, err)
			}
		}
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tt.want {
			t.Errorf("%q -> %q, want %q", tt.writes, buf.String(), tt.want)
		}
	}
}

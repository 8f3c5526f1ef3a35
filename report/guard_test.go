package report

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

const (
	awsID    = "AKIAQ3EGRT5ZKX7LM2NB"
	awsKey   = "q8Xr2mKv9LpT4zW7nB1cY6hJ3dF0sG5aE8uR2iOk"
	urlUser  = "deploy"
	urlPass  = "Xk9mQ2vL7pR4tW8z"
	urlParam = "Summer2024!Autumn"
)

// twoSecretLines are findings whose lines each hold a second secret, found by
// another finding.
func twoSecretLines() []finding.Finding {
	awsLine := "aws_access_key_id=" + awsID + " aws_secret_access_key=" + awsKey
	urlLine := "DB=https://" + urlUser + ":" + urlPass + "@db.internal:5432/app?sslmode=require&password=" + url.QueryEscape(urlParam)
	mk := func(rule, file, secret, line string, col int) finding.Finding {
		return finding.Finding{RuleID: rule, Severity: "high", Kind: finding.KindSecret, File: file, Line: 1, Column: col,
			Secret: secret, Redacted: finding.Redact(secret), Context: finding.RedactIn(line, secret),
			Fingerprint: finding.Fingerprint(rule, secret)}
	}
	return []finding.Finding{
		mk("aws-access-key-id", "env.sh", awsID, awsLine, 19),
		mk("aws-secret-access-key", "env.sh", awsKey, awsLine, 62),
		mk("url-password", "app.env", urlPass, urlLine, 20),
		mk("password-param", "app.env", urlParam, urlLine, 80),
	}
}

// TestOtherSecretsInContext is the regression test for a context that hid only
// its own finding's secret: the other secret on the same line (an AWS key id
// and its secret; a URL's userinfo and its ?password=) was printed whole.
func TestOtherSecretsInContext(t *testing.T) {
	secrets := []string{awsID, awsKey, urlPass, urlParam, url.QueryEscape(urlParam)}
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			out := write(t, twoSecretLines(), Options{Format: format, Version: "1"})
			for _, s := range secrets {
				if strings.Contains(strings.ToLower(out), strings.ToLower(s)) {
					t.Errorf("%s output shows %q:\n%s", format, s, out)
				}
			}
		})
	}
}

// TestSuppressedSecretsStayHidden: a secret of the run whose finding is not
// written (suppressed by a baseline) is still hidden where another finding's
// context or message shows it, in every encoding.
func TestSuppressedSecretsStayHidden(t *testing.T) {
	hidden := "glpat-Zq8Rk3Lm9Xv2Tn7Wp4Yb"
	forms := map[string]string{
		"raw":       hidden,
		"upper":     strings.ToUpper(hidden),
		"base64":    base64.StdEncoding.EncodeToString([]byte(hidden)),
		"base64url": base64.RawURLEncoding.EncodeToString([]byte(hidden)),
		"inside":    base64.StdEncoding.EncodeToString([]byte("x:" + hidden + ":y")),
		"hex":       hex.EncodeToString([]byte(hidden)),
		"HEX":       strings.ToUpper(hex.EncodeToString([]byte(hidden))),
		"percent":   strings.ToUpper(hex.EncodeToString([]byte(hidden))),
	}
	var pct strings.Builder
	for _, c := range []byte(hidden) {
		pct.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	forms["percent"] = pct.String()
	red := finding.NewRedactor(hidden)
	for name, form := range forms {
		for _, format := range Formats() {
			f := finding.Finding{RuleID: "r", Severity: "high", File: "f.txt", Line: 1, Column: 1,
				Secret: "unrelated-secret-0123456789", Context: "token " + form + " end", Message: "saw " + form,
				Fingerprint: finding.Fingerprint("r", "x")}
			out := write(t, []finding.Finding{f}, Options{Format: format, Redactor: red})
			core := form
			if name == "inside" {
				core = form[4 : len(form)-4]
			}
			if strings.Contains(out, core) {
				t.Errorf("%s form of a suppressed secret shown in %s:\n%s", name, format, out)
			}
			if bytes.Contains([]byte(out), []byte(hidden)) {
				t.Errorf("%s: raw secret in %s", name, format)
			}
		}
	}
}

// TestForgedAnnotationsAndEscapes is the regression test for a file name
// holding a newline and "::error …", and ANSI escapes in names and lines: no
// format may print a line the file chose, or an escape byte.
func TestForgedAnnotationsAndEscapes(t *testing.T) {
	f := finding.Finding{RuleID: "r\x1b[2J", Description: "d\x1b]0;title\x07", Severity: "high", Kind: finding.KindSecret,
		File: "a.txt\n::error file=/etc/passwd,line=1::forged\r\n\x1b[31mred\x1b[0m", Line: 1, Column: 1,
		Context: "x=\x1b[1A\x1b[2Kclean \u202etxt.exe", Message: "m\n::add-mask::x", Redacted: "r…d",
		Author: "evil\n::stop-commands::tok", Fingerprint: finding.Fingerprint("r", "s")}
	sum := &Summary{Files: 1, Problems: []string{"cannot read dir\n::error::forged problem\x1b[0m"}}
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			out := write(t, []finding.Finding{f}, Options{Format: format, Summary: sum})
			if strings.ContainsAny(out, "\x1b\x07\r\u202e") {
				t.Errorf("%s output holds a control character: %q", format, out)
			}
			if format == FormatGitHub {
				lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
				if len(lines) != 2 {
					t.Fatalf("github output has %d lines, want 2 (one annotation, one problem):\n%s", len(lines), out)
				}
				if !strings.HasPrefix(lines[0], "::error file=a.txt\\x0a%3A%3Aerror file=/etc/passwd%2Cline=1%3A%3Aforged") {
					t.Errorf("annotation: %s", lines[0])
				}
				if !strings.HasPrefix(lines[1], "::warning title=") {
					t.Errorf("problem: %s", lines[1])
				}
				return
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "::") {
					t.Errorf("%s output holds a forged workflow command line: %q", format, line)
				}
			}
		})
	}
}

// TestRedactWriterAcrossWrites: a secret, or an encoding of it, split across
// writes of any size is hidden just as in one write.
func TestRedactWriterAcrossWrites(t *testing.T) {
	secret := "ghp_R8x2Kq9LmN4pV7sT1wY5zA3bC6dE0fG8hJ2k"
	red := finding.NewRedactor(secret, awsKey)
	text := "a " + secret + " b " + base64.StdEncoding.EncodeToString([]byte(secret)) + " c " + strings.ToUpper(hex.EncodeToString([]byte(awsKey))) + secret + "\n"
	want := red.Redact(text)
	if strings.Contains(want, secret) || strings.Contains(want, "R8x2Kq9LmN4pV7sT") {
		t.Fatalf("Redact left the secret: %q", want)
	}
	for _, size := range []int{1, 2, 3, 7, 16, 41, 1000} {
		var buf bytes.Buffer
		rw := NewRedactWriter(&buf, red)
		for i := 0; i < len(text); i += size {
			rw.Write([]byte(text[i:min(i+size, len(text))]))
		}
		if err := rw.Flush(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want {
			t.Errorf("writes of %d bytes:\n got %q\nwant %q", size, buf.String(), want)
		}
	}
}

// FuzzRedactWriter: whatever the text and however it is cut into writes, the
// streamed output equals the one-shot redaction and never holds the secret.
func FuzzRedactWriter(f *testing.F) {
	f.Add("prefix ", "Zq8Rk3Lm9Xv2Tn7Wp4Yb", " suffix", uint64(1))
	f.Add("", "aaaaaaaab", "aaaaaaaaaab", uint64(7))
	f.Fuzz(func(t *testing.T, before, secret, after string, seed uint64) {
		if len(secret) < finding.MinRedactLen || len(before)+len(after) > 4096 || len(secret) > 256 {
			return
		}
		red := finding.NewRedactor(secret)
		text := before + secret + after + strings.ToUpper(secret) + base64.StdEncoding.EncodeToString([]byte(secret))
		want := red.Redact(text)
		var buf bytes.Buffer
		rw := NewRedactWriter(&buf, red)
		r := rand.New(rand.NewPCG(seed, seed))
		for i := 0; i < len(text); {
			n := 1 + r.IntN(32)
			rw.Write([]byte(text[i:min(i+n, len(text))]))
			i += n
		}
		rw.Flush()
		if buf.String() != want {
			t.Fatalf("streamed %q\n one-shot %q", buf.String(), want)
		}
		if strings.Contains(want, secret) {
			t.Fatalf("redaction left %q in %q", secret, want)
		}
	})
}

// FuzzClean: Clean's output holds no control character, no bidi override and
// only valid UTF-8, and cleaning twice changes nothing.
func FuzzClean(f *testing.F) {
	f.Add("a\x1b[31mb\n::error::x\r\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		c := Clean(s)
		if Clean(c) != c {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, c, Clean(c))
		}
		for _, r := range c {
			if r < 0x20 && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u2028' || r == '\u2029' || r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' {
				t.Fatalf("Clean(%q) = %q holds %U", s, c, r)
			}
		}
		m := CleanMessage(s)
		for _, line := range strings.Split(m, "\n") {
			if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") {
				t.Fatalf("CleanMessage(%q) keeps a workflow command line %q", s, line)
			}
		}
	})
}

// TestShownSecretsStayExact: with ShowSecrets a multi-line secret (a PEM key)
// reads back from json exactly, while text and github escape its control
// characters.
func TestShownSecretsStayExact(t *testing.T) {
	pem := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\x1b[2J\n-----END OPENSSH PRIVATE KEY-----"
	f := finding.Finding{RuleID: "private-key", Severity: "critical", Kind: finding.KindSecret, File: "id", Line: 1, Column: 1,
		Secret: pem, Redacted: finding.Redact(pem), Fingerprint: finding.Fingerprint("private-key", pem)}
	var got []finding.Finding
	if err := json.Unmarshal([]byte(write(t, []finding.Finding{f}, Options{Format: FormatJSON, ShowSecrets: true})), &got); err != nil || len(got) != 1 {
		t.Fatalf("json: %v", err)
	}
	if got[0].Secret != pem {
		t.Errorf("json secret %q, want %q", got[0].Secret, pem)
	}
	for _, format := range []string{FormatText, FormatGitHub} {
		out := write(t, []finding.Finding{f}, Options{Format: format, ShowSecrets: true})
		if strings.Contains(out, "\x1b") || !strings.Contains(out, "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ") {
			t.Errorf("%s: %q", format, out)
		}
	}
}

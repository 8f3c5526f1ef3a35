package hygiene

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/rules"
)

const cred = "Hs3Nc6Bv0Gf5Jy2Tu4Zq7L"

func TestCheckEdges(t *testing.T) {
	urlLine := "u = \"https://api.vendor.io/v1?access_token=" + cred + "\"\n"
	tests := []struct {
		name  string
		path  string
		data  string
		setup func(c *Checker)
		want  []string // "line:col-endline:endcol rule"
		note  string   // a Logf note that must appear
	}{
		{name: "baseline", path: "a.py", data: urlLine, want: []string{"1:44-1:66 url-credential-query"}},
		{name: "CRLF", path: "a.py", data: "x = 1\r\n" + strings.ReplaceAll(urlLine, "\n", "\r\n"), want: []string{"2:44-2:66 url-credential-query"}},
		{name: "rune columns", path: "a.py", data: "# ключ→\nu = \"ключ https://api.vendor.io/v1?access_token=" + cred + "\"\n",
			want: []string{"2:49-2:71 url-credential-query"}},
		{name: "inline allow", path: "a.py", data: strings.TrimSuffix(urlLine, "\n") + " # tokenward:allow\n"},
		{name: "binary", path: "a.bin", data: "\x00\x01" + urlLine},
		{name: "rule disabled", path: "a.py", data: urlLine, setup: func(c *Checker) { c.cfg.Disabled["url-credential-query"] = true }},
		{name: "all disabled", path: "a.py", data: urlLine, setup: func(c *Checker) { c.cfg.Enabled = false }},
		{name: "over file limit", path: "a.py", data: urlLine, setup: func(c *Checker) { c.MaxFileBytes = 10 },
			note: "over the 10-byte limit"},
		{name: "config over max_config_size", path: "c.yaml", data: "db:\n  password: " + cred + "\n",
			setup: func(c *Checker) { c.cfg.MaxConfigBytes = 8 }, note: "over max_config_size"},
		{name: "config within limit", path: "c.yaml", data: "db:\n  password: " + cred + "\n",
			want: []string{"2:13-2:35 config-credential-key"}},
		{name: "malformed yaml falls back", path: "c.yaml", data: "db:\n  password: " + cred + "\n bad: [\n",
			want: []string{"2:13-2:35 config-credential-key"}, note: "falling back to line rules"},
		{name: "severity override", path: "a.py", data: urlLine,
			setup: func(c *Checker) { c.cfg.Severity["url-credential-query"] = "critical" }, want: []string{"1:44-1:66 url-credential-query critical"}},
		{name: "jwt-looking text is not checked by Check", path: "a.txt", data: "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.\n"},
		{name: "empty", path: "a.py", data: ""},
		{name: "very long minified line", path: "web/app.min.js",
			data: strings.Repeat("var a=1;", 50000) + "fetch('https://api.vendor.io/x?api_key=" + cred + "');",
			want: []string{"1:400040-1:400062 url-credential-query"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(DefaultConfig())
			var notes []string
			c.Logf = func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }
			if tt.setup != nil {
				tt.setup(c)
			}
			var got []string
			for _, f := range c.Check(tt.path, []byte(tt.data)) {
				s := fmt.Sprintf("%d:%d-%d:%d %s", f.Line, f.Column, f.EndLine, f.EndColumn, f.RuleID)
				if f.Severity != c.cfg.SeverityOf(f.RuleID) || strings.Contains(tt.name, "severity") {
					s += " " + f.Severity
				}
				got = append(got, s)
				if strings.Contains(f.Context, cred) || strings.Contains(f.Message, cred) {
					t.Errorf("secret shown: %q", f.Context)
				}
			}
			if strings.Join(got, ";") != strings.Join(tt.want, ";") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if tt.note != "" && !strings.Contains(strings.Join(notes, "\n"), tt.note) {
				t.Errorf("notes %q lack %q", notes, tt.note)
			}
			for _, n := range notes {
				if strings.Contains(n, cred) {
					t.Errorf("note shows the secret: %s", n)
				}
			}
		})
	}
}

func TestFromSet(t *testing.T) {
	set := &rules.Set{
		Disabled: []string{"auth-header-spacing"},
		Hygiene:  map[string]any{"max_jwt_lifetime": "7d"},
		Allow: []rules.Allow{
			{Paths: []string{`(^|/)fixtures/`}},
			{Regexes: []string{`^Zq7`}},
		},
	}
	c, err := FromSet(set)
	if err != nil {
		t.Fatal(err)
	}
	if c.Config().MaxJWTLifetime.Hours() != 7*24 || c.Config().On("auth-header-spacing") {
		t.Errorf("config not decoded: %+v", c.Config())
	}
	line := func(v string) []byte { return []byte("u = 'https://api.vendor.io/?token=" + v + "'\n") }
	if fs := c.Check("fixtures/a.py", line(cred)); len(fs) != 0 {
		t.Errorf("allowed path reported: %v", fs)
	}
	if fs := c.Check("src/a.py", line("Zq7Lm2Xv9Rt4Wp1Kd8Hs3Nc6")); len(fs) != 0 {
		t.Errorf("allowed secret reported: %v", fs)
	}
	if fs := c.Check("src/a.py", line(cred)); len(fs) != 1 {
		t.Errorf("not allowed: got %d findings", len(fs))
	}
	if fs := c.Check("src/a.js", []byte(`h = {"Authorization": "Bearer  " + t}`)); len(fs) != 0 {
		t.Errorf("disabled via set.Disabled still reported: %v", fs)
	}

	if _, err := FromSet(&rules.Set{Hygiene: map[string]any{"max_jwt_lifetime": "soon"}}); err == nil {
		t.Error("bad [hygiene] accepted")
	}
	if _, err := FromSet(&rules.Set{Allow: []rules.Allow{{Regexes: []string{"("}}}}); err == nil {
		t.Error("bad allow regex accepted")
	}
}

// TestCheckConcurrent: the scan runs Check from many workers on one Checker.
func TestCheckConcurrent(t *testing.T) {
	c := New(DefaultConfig())
	files := map[string]string{
		"a.py":        "u = 'https://api.vendor.io/?access_token=" + cred + "'\n",
		"c.yaml":      "db:\n  password: " + cred + "\n",
		".netrc":      "machine h login u password " + cred + "\n",
		"x.js":        `h = {"Authorization": "Bearer" + token}` + "\n",
		"config.json": `{"auths": {"r.io": {"auth": "dXNlcjpIczNOYzZCdjBHZjVKeTJUdTRacTdM"}}}`,
	}
	want := map[string]int{}
	for p, d := range files {
		want[p] = len(c.Check(p, []byte(d)))
		if want[p] != 1 {
			t.Fatalf("%s: %d findings, want 1", p, want[p])
		}
	}
	done := make(chan string, 64)
	for i := 0; i < 8; i++ {
		go func() {
			for p, d := range files {
				if n := len(c.Check(p, []byte(d))); n != want[p] {
					done <- fmt.Sprintf("%s: %d findings", p, n)
					return
				}
			}
			done <- ""
		}()
	}
	for i := 0; i < 8; i++ {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}

package hygiene

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/engine/enginetest"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

func makeJWT(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(header) + "." + enc(claims) + ".Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3Hs3Nc6Bv0Gf5Jy2Tu4Wp1K"
}

// githubPAT builds a token that passes GitHub's CRC32 checksum.
func githubPAT(random30 string) string {
	return "ghp_" + random30 + rules.Base62(uint64(crc32.ChecksumIEEE([]byte(random30))), 6)
}

func testEngine(t *testing.T) *engine.Engine {
	t.Helper()
	e := enginetest.Builtin(t)
	return e
}

// scanAll runs the engine and the checker on each file, as `tokenward scan` does.
func scanAll(t *testing.T, e *engine.Engine, c *Checker, files map[string]string) []finding.Finding {
	t.Helper()
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []finding.Finding
	for _, n := range names {
		out = append(out, e.ScanBytes(n, []byte(files[n]))...)
		out = append(out, c.Check(n, []byte(files[n]))...)
	}
	return out
}

func byRule(fs []finding.Finding) map[string][]finding.Finding {
	m := map[string][]finding.Finding{}
	for _, f := range fs {
		m[f.RuleID] = append(m[f.RuleID], f)
	}
	return m
}

func TestReviewJWT(t *testing.T) {
	now := fixedNow
	n := now.Unix()
	day := int64(24 * 3600)
	hs := map[string]any{"alg": "HS256", "typ": "JWT"}
	none := makeJWT(t, map[string]any{"alg": "none"}, map[string]any{"sub": "svc-deployer-0042", "iss": "https://auth.vendor.io"})
	long := makeJWT(t, hs, map[string]any{"sub": "u-8f3kq0d9", "iat": n - day, "exp": n + 365*day, "scope": "repo:write"})
	expired := makeJWT(t, hs, map[string]any{"sub": "u-1", "iat": n - 30*day, "exp": n - day})
	fresh := makeJWT(t, hs, map[string]any{"sub": "u-2", "iat": n, "exp": n + 3600})
	broken := strings.Split(fresh, ".")[0] + ".eyJzdWIiOiJ1LTIiLCJpYXQ.Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3"

	file := fmt.Sprintf("none: %s\nlong: %s\nexpired: %s\nfresh: %s\nbroken: %s\n", none, long, expired, fresh, broken)
	e := testEngine(t)
	c := New(DefaultConfig())
	c.Now = func() time.Time { return now }
	in := scanAll(t, e, c, map[string]string{"deploy/tokens.txt": file})
	if got := len(byRule(in)["jwt"]); got != 5 {
		t.Fatalf("engine found %d JWTs, want 5 (the test needs the engine to report the broken one too): %v", got, in)
	}
	out := c.Review(in)
	rs := byRule(out)
	want := map[string]int{"jwt-alg-none": 1, "jwt-no-expiry": 1, "jwt-long-lived": 1, "jwt-expired": 1}
	for id, n := range want {
		if len(rs[id]) != n {
			t.Errorf("%s: %d findings, want %d", id, len(rs[id]), n)
		}
	}
	lines := map[string]int{"jwt-alg-none": 1, "jwt-no-expiry": 1, "jwt-long-lived": 2, "jwt-expired": 3}
	for id, line := range lines {
		for _, f := range rs[id] {
			if f.Line != line || f.Kind != finding.KindHygiene || f.Fingerprint == "" || f.Severity != c.cfg.SeverityOf(id) {
				t.Errorf("%s: %+v", id, f)
			}
			if strings.Contains(f.Message, f.Secret) || strings.Contains(f.Message, "svc-deployer-0042") || strings.Contains(f.Message, "u-8f3kq0d9") {
				t.Errorf("%s: message shows the token or a redacted claim: %s", id, f.Message)
			}
		}
	}
	if m := rs["jwt-alg-none"][0].Message; !strings.Contains(m, `iss="https://auth.vendor.io"`) {
		t.Errorf("claims summary lacks iss: %s", m)
	}
	if m := rs["jwt-long-lived"][0].Message; !strings.Contains(m, `scope="repo:write"`) || !strings.Contains(m, "1y") {
		t.Errorf("long-lived message: %s", m)
	}
	// Each JWT hygiene finding follows the secret it came from.
	for i, f := range out {
		if strings.HasPrefix(f.RuleID, "jwt-") && (i == 0 || out[i-1].Line != f.Line) {
			t.Errorf("%s at line %d does not follow its secret", f.RuleID, f.Line)
		}
	}
	// Idempotent.
	if again := c.Review(out); !reflect.DeepEqual(again, out) {
		t.Errorf("Review is not idempotent: %d -> %d findings", len(out), len(again))
	}

	// Policy: a longer max lifetime and a disabled check.
	cfg := DefaultConfig()
	cfg.MaxJWTLifetime = 400 * 24 * time.Hour
	cfg.Disabled["jwt-expired"] = true
	c2 := New(cfg)
	c2.Now = c.Now
	rs2 := byRule(c2.Review(in))
	if len(rs2["jwt-long-lived"]) != 0 || len(rs2["jwt-expired"]) != 0 || len(rs2["jwt-alg-none"]) != 1 {
		t.Errorf("policy not applied: %v", rs2)
	}
}

func TestReviewClientSideAndDedupe(t *testing.T) {
	pat := githubPAT("Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3Hs3Nc6")
	files := map[string]string{
		"web/src/api.js":       "const token = \"" + pat + "\";\n",
		"server/src/db.js":     "const token = \"" + pat + "\";\n",
		"public/index.html":    "<script>var t = '" + pat + "'</script>\n",
		"frontend/.env":        "VITE_GITHUB_TOKEN=" + pat + "\nGITHUB_TOKEN=" + pat + "\n",
		".git-credentials":     "https://deploy:" + pat + "@github.com\n",
		"config/settings.yaml": "github:\n  token: " + pat + "\n  credential: Tr0ub4dorXq9\n",
	}
	e := testEngine(t)
	c := New(DefaultConfig())
	in := scanAll(t, e, c, files)
	out := c.Review(in)

	sev := map[string]string{}
	for _, f := range in {
		if f.Kind == finding.KindSecret {
			sev[f.RuleID] = f.Severity
		}
	}
	raised := map[string]bool{}
	for _, f := range out {
		if f.Kind != finding.KindSecret {
			continue
		}
		cs := slices.Contains(f.Tags, "client-side")
		key := fmt.Sprintf("%s:%d", f.File, f.Line)
		raised[key] = cs
		if cs && (f.Severity != finding.RaiseSeverity(sev[f.RuleID]) || f.Message == "") {
			t.Errorf("%s: raised to %s, want %s with a message", key, f.Severity, finding.RaiseSeverity(sev[f.RuleID]))
		}
		if !cs && f.Severity != sev[f.RuleID] {
			t.Errorf("%s: severity changed without the client-side tag", key)
		}
	}
	for key, want := range map[string]bool{
		"web/src/api.js:1": true, "server/src/db.js:1": false, "public/index.html:1": true,
		"frontend/.env:1": true, "frontend/.env:2": false, ".git-credentials:1": false,
	} {
		got, ok := raised[key]
		if !ok {
			t.Errorf("%s: engine found no secret (test setup)", key)
		} else if got != want {
			t.Errorf("%s: client-side = %v, want %v", key, got, want)
		}
	}

	// Stored-credential hygiene findings covered by the engine's secret are dropped;
	// others stay.
	count := func(fs []finding.Finding, rule, file string) int {
		n := 0
		for _, f := range fs {
			if f.RuleID == rule && f.File == file {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		rule, file    string
		before, after int
	}{
		{"git-credentials-store", ".git-credentials", 1, 0},
		{"config-credential-key", "config/settings.yaml", 2, 1},
		{"dotenv-credential", "frontend/.env", 2, 0},
	} {
		if b, a := count(in, tc.rule, tc.file), count(out, tc.rule, tc.file); b != tc.before || a != tc.after {
			t.Errorf("%s in %s: %d before Review, %d after; want %d, %d", tc.rule, tc.file, b, a, tc.before, tc.after)
		}
	}
	// Input untouched.
	for _, f := range in {
		if slices.Contains(f.Tags, "client-side") {
			t.Fatal("Review modified its input")
		}
	}

	off := DefaultConfig()
	off.ClientSideRaise = false
	for _, f := range New(off).Review(in) {
		if slices.Contains(f.Tags, "client-side") {
			t.Errorf("client_side_raise = false still raised %s", f.File)
		}
	}
}

func TestClientSide(t *testing.T) {
	tests := map[string]bool{
		"web/app.js": true, "src/components/Login.tsx": true, "public/js/main.min.js": true,
		"static/app.vue": true, "app/src/App.svelte": true, "index.html": true, "dist/main.js.map": true,
		"vendor/lib.bundle.js": true, "android/app/google-services.json": true, "ios/App/GoogleService-Info.plist": true,
		"android/app/src/main/res/values/strings.xml": true, "app.json": true,
		"src/server/db.ts": false, "api/src/handler.js": false, "src/routes/+page.server.ts": false,
		"lib/util.js": false, "src/types.d.ts": false, "server.js": false, "src/main.go": false,
		"web/vite.config.ts": false, "node_modules/x/src/index.js": false, "backend/src/app.ts": false,
	}
	for p, want := range tests {
		if got := ClientSide(p); got != want {
			t.Errorf("ClientSide(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestRaise(t *testing.T) {
	for in, want := range map[string]string{"info": "low", "low": "medium", "medium": "high", "high": "critical", "critical": "critical", "odd": "odd"} {
		if got := finding.RaiseSeverity(in); got != want {
			t.Errorf("RaiseSeverity(%q) = %q, want %q", in, got, want)
		}
	}
}

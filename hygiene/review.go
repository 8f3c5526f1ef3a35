package hygiene

import (
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/hygiene/jwt"
)

// Review post-processes the findings of a scan (engine secrets, and hygiene
// findings from Check):
//
//   - every secret that is a JWT (rule "jwt" or any secret shaped like one) is
//     decoded — never verified, never sent anywhere — and jwt-alg-none,
//     jwt-no-expiry, jwt-long-lived or jwt-expired findings are inserted right
//     after it, at the same location and with the same provenance;
//   - a secret in browser-shipped code is raised one severity and tagged
//     "client-side" (see ClientSide);
//   - a hygiene "credential stored in a file" finding whose text an engine
//     secret already covers is dropped: the secret finding says it more precisely.
//
// It returns a new slice; the input is not modified. Review is idempotent:
// running it on its own output changes nothing.
func (c *Checker) Review(fs []finding.Finding) []finding.Finding {
	out := make([]finding.Finding, 0, len(fs))
	if !c.cfg.Enabled {
		return append(out, fs...)
	}
	type key struct{ file, commit string }
	secrets := map[key][]finding.Finding{}
	have := map[string]bool{} // hygiene findings already present: rule, file, commit, line, column
	for _, f := range fs {
		if f.Kind == finding.KindSecret {
			k := key{f.File, f.Commit}
			secrets[k] = append(secrets[k], f)
			// A composite credential's parts cover their lines too (git
			// composes each blob before the review).
			for _, p := range f.Parts {
				if n := utf8.RuneCountInString(p.Secret); n > 0 {
					secrets[k] = append(secrets[k], finding.Finding{Line: p.Line, Column: p.Column, EndLine: p.Line, EndColumn: p.Column + n})
				}
			}
		} else {
			have[reviewKey(f.RuleID, f)] = true
		}
	}
	analysed := map[string]bool{}
	now := c.now()
	for _, f := range fs {
		if f.Kind != finding.KindSecret {
			if slices.Contains(f.Tags, "credential-store") && coveredBy(f, secrets[key{f.File, f.Commit}]) {
				continue
			}
			out = append(out, f)
			continue
		}
		f.Tags = slices.Clone(f.Tags)
		if c.cfg.ClientSideRaise && !slices.Contains(f.Tags, "client-side") && (ClientSide(f.File) || publicEnvVar(f)) {
			f.Severity = finding.RaiseSeverity(f.Severity)
			f.Tags = append(f.Tags, "client-side")
			if f.Message == "" {
				f.Message = "this secret ships to browsers or app users (" + path.Base(f.File) + "): anyone can read it " +
					"from the page, bundle or app — move the call behind your server, use a publishable/restricted key, " +
					"and rotate this one"
			}
		}
		out = append(out, f)
		tok := strings.TrimSpace(f.Secret)
		if f.RuleID != "jwt" && !jwt.Looks(tok) {
			continue
		}
		ak := f.File + "\x00" + f.Commit + "\x00" + strconv.Itoa(f.Line) + "\x00" + tok
		if analysed[ak] {
			continue
		}
		analysed[ak] = true
		t, err := jwt.Parse(tok)
		if err != nil {
			continue // shaped like a JWT but does not decode: not a JWT finding
		}
		for _, is := range jwt.Analyze(t, now, c.cfg.MaxJWTLifetime) {
			if !c.cfg.On(is.RuleID) || have[reviewKey(is.RuleID, f)] {
				continue
			}
			h := c.newFinding(is.RuleID, "")
			h.File, h.Line, h.Column, h.EndLine, h.EndColumn = f.File, f.Line, f.Column, f.EndLine, f.EndColumn
			h.Commit, h.Author, h.Email, h.Date = f.Commit, f.Author, f.Email, f.Date
			h.Secret, h.Redacted, h.Context, h.Encoding = f.Secret, f.Redacted, f.Context, f.Encoding
			h.Fingerprint = finding.Fingerprint(is.RuleID, tok)
			h.Message = is.Message + "; claims: " + t.Summary()
			h.Tags = append(h.Tags, "jwt")
			out = append(out, h)
		}
	}
	return out
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func reviewKey(rule string, f finding.Finding) string {
	return rule + "\x00" + f.File + "\x00" + f.Commit + "\x00" + strconv.Itoa(f.Line) + "\x00" + strconv.Itoa(f.Column)
}

// coveredBy reports whether a secret finding overlaps f's span.
func coveredBy(f finding.Finding, secrets []finding.Finding) bool {
	for _, s := range secrets {
		if before(s.EndLine, s.EndColumn, f.Line, f.Column) || before(f.EndLine, f.EndColumn, s.Line, s.Column) {
			continue
		}
		if s.EndLine == f.Line && s.EndColumn == f.Column || f.EndLine == s.Line && f.EndColumn == s.Column {
			continue // touching, not overlapping
		}
		return true
	}
	return false
}

func before(l1, c1, l2, c2 int) bool { return l1 < l2 || l1 == l2 && c1 < c2 }

var (
	clientExt   = map[string]bool{".js": true, ".mjs": true, ".cjs": true, ".ts": true, ".jsx": true, ".tsx": true, ".vue": true, ".svelte": true}
	clientTrees = map[string]bool{"web": true, "public": true, "static": true, "src": true, "www": true, "assets": true,
		"frontend": true, "client": true, "dist": true, "build": true, "pages": true, "components": true, "wwwroot": true}
	serverTrees = map[string]bool{"server": true, "backend": true, "api": true, "functions": true, "lambda": true,
		"lambdas": true, "serverless": true, "cli": true, "scripts": true, "migrations": true, "node_modules": true}
	mobileConfigs = map[string]bool{"google-services.json": true, "googleservice-info.plist": true, "info.plist": true,
		"androidmanifest.xml": true, "app.json": true, "app.config.js": true, "app.config.ts": true,
		"capacitor.config.json": true, "capacitor.config.ts": true, "ionic.config.json": true, "eas.json": true}
)

// ClientSide reports whether a path is code or configuration shipped to browsers
// or mobile users: *.js/ts/jsx/tsx/vue/svelte under web/public/static/src (and
// similar) trees but not under server trees, HTML, source maps, minified bundles,
// and mobile app configuration (google-services.json, Info.plist,
// AndroidManifest.xml, res/values strings, Expo/Capacitor configs).
func ClientSide(p string) bool {
	s := strings.ToLower(strings.ReplaceAll(p, `\`, "/"))
	base := path.Base(s)
	ext := path.Ext(base)
	segs := strings.Split(path.Dir(s), "/")
	switch {
	case ext == ".html" || ext == ".htm" || ext == ".map":
		return true
	case strings.HasSuffix(base, ".min.js") || strings.HasSuffix(base, ".bundle.js") || strings.HasSuffix(base, ".chunk.js"):
		return true
	case mobileConfigs[base]:
		return true
	case ext == ".xml" && strings.Contains(s, "/res/values"):
		return true
	}
	if !clientExt[ext] || strings.Contains(base, ".server.") || strings.HasSuffix(base, ".d.ts") ||
		strings.Contains(base, ".config.") {
		return false
	}
	client := false
	for _, seg := range segs {
		if serverTrees[seg] {
			return false
		}
		if clientTrees[seg] {
			client = true
		}
	}
	return client
}

// publicEnvVar spots framework variables that are inlined into browser bundles
// (VITE_, NEXT_PUBLIC_, REACT_APP_, ...) in .env files.
var publicEnvRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\s*(?:export\s+)?(?:VITE_|NEXT_PUBLIC_|REACT_APP_|EXPO_PUBLIC_|NUXT_PUBLIC_|PUBLIC_|GATSBY_|VUE_APP_|NG_APP_)[A-Z0-9_]*\s*=`)
})

func publicEnvVar(f finding.Finding) bool {
	return classify(f.File) == kindDotenv && publicEnvRe().MatchString(f.Context)
}

package engine

import (
	"bytes"
	"path"
	"strings"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/shape"
)

// Source-language families, by file extension: the syntax around a value tells a
// literal from a reference only when the language is known.
const (
	langOther  = iota // prose, logs, unknown extensions
	langCode          // a programming language: an unquoted word is a name
	langConfig        // a configuration format: an unquoted word is a literal
)

var codeExts = map[string]bool{
	".go": true, ".js": true, ".jsx": true, ".mjs": true, ".cjs": true, ".ts": true, ".tsx": true,
	".py": true, ".rb": true, ".php": true, ".java": true, ".kt": true, ".kts": true, ".scala": true,
	".cs": true, ".c": true, ".h": true, ".cc": true, ".cpp": true, ".hpp": true, ".m": true,
	".swift": true, ".rs": true, ".dart": true, ".groovy": true, ".ex": true, ".exs": true,
	".hs": true, ".lua": true, ".pl": true, ".r": true, ".vue": true, ".svelte": true, ".ps1": true,
}

var configExts = map[string]bool{
	".yml": true, ".yaml": true, ".json": true, ".toml": true, ".ini": true, ".cfg": true,
	".conf": true, ".cnf": true, ".properties": true, ".env": true, ".xml": true, ".config": true,
	".tfvars": true, ".hcl": true, ".tf": true, ".plist": true, ".sh": true, ".bash": true, ".zsh": true,
}

func language(p string) int {
	ext := strings.ToLower(path.Ext(p))
	switch {
	case codeExts[ext]:
		return langCode
	case configExts[ext] || strings.HasPrefix(path.Base(p), ".env"):
		return langConfig
	}
	return langOther
}

// testPath reports a path in a test, fixture or example tree: a credential there is
// more often a dummy, so its finding is less certain.
func testPath(p string) bool {
	l := "/" + strings.ToLower(strings.ReplaceAll(p, `\`, "/"))
	for _, dir := range []string{"/test/", "/tests/", "/testdata/", "/testing/", "/spec/", "/specs/", "/fixtures/", "/__tests__/", "/__fixtures__/", "/mocks/", "/example/", "/examples/", "/samples/"} {
		if strings.Contains(l, dir) {
			return true
		}
	}
	base := path.Base(l)
	return strings.Contains(base, "_test.") || strings.Contains(base, ".test.") || strings.Contains(base, ".spec.") || strings.HasPrefix(base, "test_")
}

// secretReferences are text on a line that names a secret held elsewhere (a CI
// secret, a Kubernetes secret, a vault path) rather than holding one.
var secretReferences = [][]byte{
	[]byte("from_secret"), []byte("secretkeyref"), []byte("secretref"), []byte("valuefrom"),
	[]byte("secrets."), []byte("vault:"), []byte("ssm:"), []byte("secretsmanager"), []byte("keyvault"),
	[]byte("credentialsid"), []byte("credentials_id"), []byte("credentials-id"),
}

// judgeGeneric is the value judgement for a generic finding (a name and a value
// with no provider format): whether the value at buf[start:end] is a literal
// credential, and how sure that is. It reads the syntax around the value in its
// language (quotes, calls, member access), rejects masked values, UI text and
// references to secret stores, and scores what is left by how random it looks
// (shape.Wordiness) and where it is (test trees).
func judgeGeneric(buf []byte, start, end int, path string) (string, bool) {
	v := string(buf[start:end])
	if shape.Masked(v) || shape.NaturalText(v) {
		return "", false
	}
	var before, after byte
	if start > 0 {
		before = buf[start-1]
	}
	if end < len(buf) {
		after = buf[end]
	}
	quoted := before == '"' || before == '\'' || before == '`'
	lang := language(path)
	if !quoted {
		if after == '(' || after == '[' {
			return "", false // a call or an index: code, not a value
		}
		if memberAccess(v) {
			return "", false // template.users.admin.token, this.config.secret
		}
		if lang == langCode && identifier(v) && shape.ClassSwitches(v) < 3 {
			return "", false // a variable: tempToken, apiKey, SECRET
		}
	}
	line := bytes.ToLower(lineAround(buf, start, end))
	for _, ref := range secretReferences {
		if bytes.Contains(line, ref) {
			return "", false
		}
	}
	if shape.Dummy(v) {
		return "", false
	}
	conf := finding.ConfidenceMedium
	if len(v) >= 20 && shape.Entropy(v) >= 4 {
		conf = finding.ConfidenceHigh
	}
	if testPath(path) {
		conf = finding.LowerConfidence(conf)
	}
	return conf, true
}

// identifier reports a name in most languages' syntax: a letter, _ or $, then
// letters, digits, _ or $.
func identifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// memberAccess reports a dotted path of two or more names that reads as code
// (a.b, config.auth.token): every part an identifier, and the parts words rather
// than random text.
func memberAccess(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if !identifier(p) {
			return false
		}
	}
	return shape.Wordiness(strings.Join(parts, " ")) >= shape.WordLike
}

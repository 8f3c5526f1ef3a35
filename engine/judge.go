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
	langDocs          // documentation: examples are written to be read, not used
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
	case ext == ".md" || ext == ".markdown" || ext == ".rst" || ext == ".adoc" || ext == ".asciidoc":
		return langDocs
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
func judgeGeneric(buf []byte, mstart, start, end int, path string) (string, bool) {
	v := string(buf[start:end])
	if shape.Masked(v) || shape.NaturalText(v) || envReference(v) {
		return "", false
	}
	key := keyAt(buf, mstart, start)
	if repeatsKeyWord(key, v) {
		return "", false // password: "CleartextPassword1", secret: "my-client-secret"
	}
	describing := !credentialKey(key)
	if describing && !(len(v) >= 16 && shape.Entropy(v) >= 3.5) {
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
	if memberAccess(v) {
		return "", false // template.users.admin.token, "jetbrains.mps.v8_elimination"
	}
	if !quoted {
		if after == '(' || after == '[' {
			return "", false // a call or an index: code, not a value
		}
		if lang == langCode && identifier(v) && shape.ClassSwitches(v) < 3 {
			return "", false // a variable: tempToken, apiKey, SECRET
		}
		if valueOpener(buf, start, false) == ':' && proseAfter(buf, end) {
			return "", false // password: Repita a senha (a UI label, the first word of a sentence)
		}
		if numberLiteral(v) && lang != langConfig {
			return "", false // ERROR_WRONG_PASSWORD = 0x0000052B, 6.hours
		}
	}
	line := bytes.ToLower(lineAround(buf, start, end))
	for _, ref := range secretReferences {
		if bytes.Contains(line, ref) {
			return "", false
		}
	}
	if open := valueOpener(buf, start, quoted); open == '(' && !setterBefore(buf, start) {
		return "", false // a call's argument (CheckPassword("john", "x")), not an assignment
	}
	if shape.Dummy(v) || oid(v) {
		return "", false
	}
	conf := finding.ConfidenceMedium
	if shape.Weak(v) {
		if testPath(path) || lang == langCode || lang == langDocs {
			return "", false
		}
		conf = finding.ConfidenceLow
	}
	if len(v) >= 20 && shape.Entropy(v) >= 4 {
		conf = finding.ConfidenceHigh
	}
	if testPath(path) || describing {
		conf = finding.LowerConfidence(conf)
	}
	return conf, true
}

// valueOpener is the first byte before the value (and its opening quote) that is
// not a space.
func valueOpener(buf []byte, start int, quoted bool) byte {
	i := start - 1
	if quoted {
		i--
	}
	for i >= 0 && (buf[i] == ' ' || buf[i] == '\t') {
		i--
	}
	if i < 0 {
		return 0
	}
	return buf[i]
}

// setterBefore reports that the call whose argument starts at start is a setter
// (setPassword("x"), withPassword("x"), password("x")) or a decoder of a literal
// (Base64.decode("..."), unhexlify("..."), []byte("...")).
func setterBefore(buf []byte, start int) bool {
	i := bytes.LastIndexByte(buf[:start], '(')
	j := i
	for j > 0 && (identByte(buf[j-1])) {
		j--
	}
	name := strings.ToLower(string(buf[j:max(i, j)]))
	if strings.HasPrefix(name, "set") || strings.HasPrefix(name, "with") || strings.HasPrefix(name, "passw") {
		return true
	}
	for _, dec := range []string{"decode", "unhexlify", "fromhex", "frombase64", "parsehex"} {
		if strings.Contains(name, dec) {
			return true // the argument of a decoder is the literal key
		}
	}
	return name == "b" || name == "bytes" || name == "string"
}

func identByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// oid reports a dotted run of four or more numbers: an ASN.1 object identifier or a
// version, not a secret.
func oid(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// repeatsKeyWord reports a value that spells the credential word of its key
// (pass, pwd, secret, token: newPassword = "newpass") when the key has one: a stand-in written by someone
// who had no real value to hand. A key matched inside a longer run (an XML
// attribute, a define() name) counts with its own words.
func repeatsKeyWord(key, v string) bool {
	lk, lv := strings.ToLower(key), strings.ToLower(v)
	for _, w := range []string{"pass", "pwd", "secret", "token"} {
		if strings.Contains(lv, w) && (strings.Contains(lk, w) || key == "") {
			return true
		}
	}
	return false
}

// proseAfter reports an unquoted value that is the first word of a sentence: a
// space, then a letter, before the line ends. Only after a colon (YAML, locale
// files): after = a space ends a shell assignment (PGPASSWORD=x psql ...).
func proseAfter(buf []byte, end int) bool {
	i := end
	for i < len(buf) && buf[i] == ' ' {
		i++
	}
	return i > end && i < len(buf) && isLetterByte(buf[i])
}

func isLetterByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 }

// envReference reports a Windows-style environment reference, %NAME%.
func envReference(s string) bool {
	return len(s) > 2 && s[0] == '%' && s[len(s)-1] == '%' && identifier(s[1:len(s)-1])
}

// numberLiteral reports a number as code writes one: 0x hex, decimal of up to ten
// digits (longer runs are token-like), or a number with a unit method (6.hours).
func numberLiteral(s string) bool {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return strings.Trim(s[2:], "0123456789abcdefABCDEF") == ""
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && i <= 10 && (i == len(s) || s[i] == '.' && identifier(s[i+1:]))
}

// keyAt is the name a generic match assigns to: the run of name characters from
// the match's start, which the generic rules begin with the key ([\w.-]*?).
func keyAt(buf []byte, mstart, start int) string {
	i := mstart
	for i < start && (identByte(buf[i]) || buf[i] == '.' || buf[i] == '-') {
		i++
	}
	return string(buf[mstart:i])
}

// credentialStems are the words of a key that name a credential.
var credentialStems = []string{"passw", "pwd", "pass", "secret", "token", "key", "auth", "credential", "cred", "nonce", "salt"}

// valueTails are the words that may follow a credential word in a key that still
// holds the credential itself (password_value, secret_key, token_b64, key2).
var valueTails = map[string]bool{
	"value": true, "val": true, "string": true, "str": true, "plain": true, "plaintext": true, "text": true,
	"raw": true, "clear": true, "cleartext": true, "secret": true, "key": true, "token": true, "word": true,
	"b64": true, "base64": true, "hex": true, "data": true, "bytes": true, "phrase": true, "code": true,
	"confirm": true, "confirmation": true, "again": true, "repeat": true, "new": true, "old": true,
	"current": true, "base": true, "access": true, "auth": true, "pass": true, "passwd": true, "password": true,
	"prod": true, "dev": true, "test": true, "staging": true, "local": true, "live": true, "sandbox": true,
	"default": true, "admin": true, "root": true, "user": true, "id": false, "api": true, "app": true,
	"client": true, "private": true, "priv": true, "public": false, "sig": true, "signing": true, "hmac": true,
	"encryption": true, "enc": true, "master": true, "session": true, "bot": true, "bearer": true, "jwt": true,
	"web": true, "hook": true, "webhook": true, "refresh": true, "oauth": true, "db": true, "sql": true, "env": true,
}

// credentialKey judges a key by the words after its last credential word: a key
// that goes on to describe the credential (reset_password_within,
// ERROR_PASSWORD_RESTRICTION, NERR_PasswordTooLong) names a setting or a message
// more often than a stored value, so only a random-looking value is kept for it. A key with no credential word (matched inside a longer
// name) or an empty key passes: the rule's own name test decided.
func credentialKey(key string) bool {
	words := keyWords(key)
	last := -1
	for i, w := range words {
		for _, stem := range credentialStems {
			if strings.Contains(w, stem) {
				last = i
				break
			}
		}
	}
	if last < 0 {
		return true
	}
	for _, w := range words[last+1:] {
		if !valueTails[w] && len(w) > 1 && strings.Trim(w, "0123456789") != "" {
			return false
		}
	}
	return true
}

// keyWords splits a key into lower-case words at _, ., -, digits runs kept, and
// camel-case humps: "NERR_PasswordTooLong" is nerr, password, too, long.
func keyWords(key string) []string {
	var words []string
	cur := []byte{}
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '_' || c == '.' || c == '-' || c == '$':
			flush()
		case c >= 'A' && c <= 'Z' && i > 0 && key[i-1] >= 'a' && key[i-1] <= 'z':
			flush()
			cur = append(cur, c)
		default:
			cur = append(cur, c)
		}
	}
	flush()
	return words
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

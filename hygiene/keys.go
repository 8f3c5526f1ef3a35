package hygiene

import (
	"regexp"
	"strings"
	"sync"
	"unicode"

	"github.com/tokenward/tokenward/shape"
)

// KeyWords splits a configuration key or identifier into lower-case words:
// "dbPassword" -> [db password], "AWS_SECRET_ACCESS_KEY" -> [aws secret access key],
// "client-secret" -> [client secret], "HTTPToken" -> [http token].
func KeyWords(key string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(key)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && len(cur) > 0:
			prevLower := unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || nextLower && unicode.IsUpper(rs[i-1]) {
				flush()
			}
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

// Words that end a credential key on their own ("password") or as the tail of a
// run-together word ("dbpassword", "apitoken").
var (
	credExact  = map[string]bool{"pwd": true, "pass": true, "pw": true, "passwd": true, "credential": true, "credentials": true, "authorization": true}
	credSuffix = []string{"password", "passwd", "passphrase", "secret", "token", "apikey", "secretkey", "privatekey", "accesskey", "authkey", "signingkey"}
	// "key" is a credential only after one of these.
	keyQualifier = map[string]bool{
		"api": true, "access": true, "secret": true, "private": true, "signing": true, "encryption": true,
		"master": true, "app": true, "auth": true, "license": true, "service": true, "account": true,
		"subscription": true, "admin": true, "webhook": true, "hmac": true, "jwt": true, "session": true,
		"client": true, "consumer": true, "deploy": true, "shared": true, "storage": true, "sas": true, "x": true,
	}
	// A credential word after one of these names something that is not a credential.
	notCredential = map[string]bool{
		"public": true, "publishable": true, "pub": true, "page": true, "next": true, "prev": true,
		"csrf": true, "xsrf": true, "cursor": true, "continuation": true, "sync": true, "max": true, "min": true,
		"forgot": true, "show": true, "hide": true, "confirm": true, "new": false, "no": true, "use": true,
		"require": true, "requires": true, "enable": true, "disable": true, "has": true, "is": true,
		"bypass": true, "idempotency": true, "pagination": true,
	}
)

// CredentialKey reports whether a key or identifier names a credential:
// its last word is a credential word ("db.password", "apiKey", "client_secret",
// "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"), not a property of one
// ("password_file", "token_url", "public_key", "next_page_token").
func CredentialKey(key string) bool {
	ws := KeyWords(key)
	if len(ws) == 0 {
		return false
	}
	if ws[len(ws)-1] == "base" && len(ws) > 1 {
		ws = ws[:len(ws)-1] // Rails' secret_key_base
	}
	last := ws[len(ws)-1]
	prev := ""
	if len(ws) > 1 {
		prev = ws[len(ws)-2]
	}
	if notCredential[prev] {
		return false
	}
	if credExact[last] {
		return true
	}
	for _, s := range credSuffix {
		if strings.HasSuffix(last, s) && !strings.HasPrefix(last, "public") && !strings.HasPrefix(last, "pub") {
			return true
		}
	}
	if last == "key" || last == "keys" {
		return keyQualifier[prev]
	}
	return false
}

// placeholderPrefixes mark values that refer to a secret kept elsewhere.
var placeholderPrefixes = []string{
	"${", "$(", "%env(", "env:", "{env:", "enc[", "vault:", "!vault", "op://", "arn:aws:secretsmanager:", "arn:aws:ssm:",
	"secret://", "sm://", "ref+", "file:", "/run/secrets/", "@microsoft.keyvault(", "#{", "((", "__", "akv:",
	"gcp:secretmanager:", "projects/", "k8s://", "keychain:", "awskms:", "azurekv:",
}

// envRef is a whole-value environment reference: $NAME, %NAME%, env.NAME.
var envRef = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(\$[A-Z_][A-Z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%|(?:process\.)?env\.[A-Za-z_][A-Za-z0-9_]*)$`)
})

// placeholderWords are whole values that are documentation or defaults.
var placeholderWords = map[string]bool{
	"password": true, "passwd": true, "pass": true, "secret": true, "token": true, "none": true, "null": true,
	"nil": true, "undefined": true, "true": true, "false": true, "empty": true, "test": true, "testing": true,
	"string": true, "required": true, "optional": true, "default": true, "changeit": true, "apikey": true,
	"api_key": true, "api-key": true, "yes": true, "no": true, "on": true, "off": true, "todo": true, "tbd": true,
	"fixme": true, "unset": true, "notset": true, "hidden": true, "masked": true, "foo": true, "bar": true,
	"foobar": true, "abc": true, "abcd": true, "test123": true, "password123": true, "secret123": true,
	"mysecret": true, "mypassword": true, "mytoken": true, "sometoken": true, "somesecret": true,
	// famous documentation credentials
	"opensesame": true, "open sesame": true, "hunter2": true, "swordfish": true, "letmein": true, "qwerty": true,
	"p@ssw0rd": true, "p@ssword": true, "passw0rd": true, "correcthorsebatterystaple": true, "tiger": true,
}

// Placeholder reports whether a value stands for a credential without being
// one: templates and environment references (`${DB_PASSWORD}`, `$TOKEN`,
// `%env(X)%`, `{{ .Values.x }}`), secret-manager references (`vault:…`, `op://…`,
// `ENC[…]`), documentation stand-ins (`<token>`, `your-api-key`, `xxxx`, `***`),
// file paths, and words such as "password" or "none".
func Placeholder(v string) bool {
	s := strings.TrimSpace(v)
	l := strings.ToLower(s)
	if l == "" || placeholderWords[l] {
		return true
	}
	for _, p := range placeholderPrefixes {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	if envRef().MatchString(s) {
		return true
	}
	if strings.HasPrefix(l, "/") || strings.HasPrefix(l, "./") || strings.HasPrefix(l, "~/") || strings.HasPrefix(l, "../") {
		if !strings.ContainsAny(s, " \t") {
			return true // a file path
		}
	}
	for _, ext := range []string{".pem", ".key", ".crt", ".p12", ".pfx", ".jks", ".txt", ".json", ".yaml", ".yml"} {
		if strings.HasSuffix(l, ext) && !strings.ContainsAny(s, " \t") {
			return true
		}
	}
	if strings.Contains(l, "://") {
		return true // a URL: the URL checks judge credentials inside it
	}
	if strings.Trim(l, "*•.xX#-_ ") == "" || strings.Contains(l, "…") {
		return true
	}
	for _, m := range []string{"{{", "${", "#{", "%(", "%s", "%v", "<", ">"} {
		if strings.Contains(l, m) {
			return true
		}
	}
	return shape.IsPlaceholder(s)
}

// prose reports whether a value reads as words (UI strings, descriptions).
func prose(v string) bool {
	fs := strings.Fields(v)
	if len(fs) < 2 {
		return false
	}
	for _, f := range fs {
		f = strings.TrimRight(f, ".,:;!?)")
		f = strings.TrimLeft(f, "(")
		for _, r := range f {
			if !unicode.IsLetter(r) && r != '\'' && r != '-' {
				return false
			}
		}
	}
	return true
}

// CredentialValue reports whether a value under a credential key is worth a
// finding: long enough, not a placeholder, not prose, not a plain number or flag.
func CredentialValue(v string) bool {
	s := strings.TrimSpace(v)
	if len(s) < 6 || len(s) > 4096 || Placeholder(s) || prose(s) {
		return false
	}
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return digits != len(s) || len(s) >= 8
}

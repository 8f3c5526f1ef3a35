package rules

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"hash/crc32"
	"strings"
)

// Validators are format checks a rule can name in `validate`. Each reports whether
// a candidate secret has the structure its format promises (checksums, decodable
// headers...). A rule naming an unknown validator fails to load.
var Validators = map[string]func(secret string) bool{
	// GitHub's 2021 token format: prefix, 30 random base62 characters, then the
	// CRC32 of those 30 characters in 6 base62 digits.
	"github-crc32": GitHubChecksum,
	// npm's granular/automation tokens use the same scheme with the npm_ prefix.
	"npm-crc32": GitHubChecksum,
	// A JSON Web Token whose first segment decodes to a JSON object (its JOSE header).
	"jwt": JWTHeader,
	// An AWS access key id that is not AWS's documented example or a placeholder.
	"aws-key-id": AWSKeyID,
	// A URL whose password component is a real value, not a variable or placeholder.
	"url-password": URLPassword,
	// Random tokens over a mixed alphabet contain both letters and digits; identifiers
	// and words (s.makeKubeConfig, THISISALLCAPS) do not.
	"letters-and-digits": LettersAndDigits,
	// base64 text that decodes to printable `user:password` (HTTP Basic, docker auths).
	"basic-auth": BasicAuthValue,
	// base64 of printable text, 8 bytes or more (Kubernetes Secret data values).
	"base64-text": Base64Text,
	// What a generic rule accepts as a token: letters mixed with digits, or a long
	// run of digits (numeric API tokens); not a word, not a short number.
	"token-like": TokenLike,
}

// Valid reports whether secret passes the rule's validator, if it has one.
func (r *Rule) Valid(secret string) bool {
	if r.Validate == "" {
		return true
	}
	v, ok := Validators[r.Validate]
	return ok && v(secret)
}

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Base62 encodes n in base62 (digits, upper case, lower case), left-padded with
// zeros to width characters.
func Base62(n uint64, width int) string {
	var b []byte
	for n > 0 {
		b = append(b, base62Digits[n%62])
		n /= 62
	}
	for len(b) < width {
		b = append(b, '0')
	}
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// GitHubChecksum checks a GitHub-style token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`,
// `npm_`): the 36 characters after the prefix are 30 random base62 characters and
// the base62 CRC32 (IEEE) of those 30 characters, 6 digits wide. GitHub reserves the
// right to issue longer tokens; those (more than 36 characters) have no published
// checksum layout and are accepted when they are base62.
func GitHubChecksum(secret string) bool {
	i := strings.IndexByte(secret, '_')
	if i < 0 {
		return false
	}
	body := secret[i+1:]
	if !isBase62(body) {
		return false
	}
	switch {
	case len(body) == 36:
		sum := crc32.ChecksumIEEE([]byte(body[:30]))
		return Base62(uint64(sum), 6) == body[30:]
	case len(body) > 36:
		return true
	}
	return false
}

// decodeB64URL decodes base64 or base64url, padded or not.
func decodeB64URL(s string) ([]byte, bool) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	return b, true
}

// JWTHeader reports whether a token of dot-separated segments has a first segment
// that decodes to a JSON object: the JOSE header of a JWS or JWE. Random text
// almost never decodes to a brace-delimited JSON object, so this is what makes an
// eyJ….ey….… string a token rather than a lookalike. The header normally names
// its `alg`; headers that carry only other JOSE parameters (kid, jku, p2c, ...) are
// still accepted because rejecting them bought no precision in practice and loses
// hand-built and library test tokens that servers with lenient verifiers accept.
// A header that decodes to `{...}` but is not well-formed JSON (a hand-edited test
// token) is accepted when it names "alg".
func JWTHeader(secret string) bool {
	parts := strings.Split(secret, ".")
	if len(parts) < 2 {
		return false
	}
	h, ok := decodeB64URL(parts[0])
	if !ok {
		return false
	}
	var hdr map[string]any
	if err := json.Unmarshal(h, &hdr); err == nil {
		return len(hdr) > 0
	}
	h = bytes.TrimSpace(h)
	return len(h) > 0 && h[0] == '{' && bytes.Contains(h, []byte(`"alg"`))
}

// AWSKeyID rejects AWS's documented example key ids and ids whose random part is a
// placeholder (all one character, or the word EXAMPLE).
func AWSKeyID(secret string) bool {
	if strings.Contains(secret, "EXAMPLE") {
		return false
	}
	if len(secret) < 8 {
		return false
	}
	body := secret[4:]
	same := true
	for i := 1; i < len(body); i++ {
		if body[i] != body[0] {
			same = false
			break
		}
	}
	return !same
}

// URLPassword rejects passwords that are template variables, placeholders or
// well-known dummies: what documentation and templates put where a password goes.
func URLPassword(secret string) bool {
	s := strings.ToLower(secret)
	if s == "" || s[0] == '$' || s[0] == '%' || s[0] == '@' {
		return false
	}
	for _, p := range []string{"${", "$(", "{{", "}}", "{", "}", "<", ">", "%s", "%(", "***", "..."} {
		if strings.Contains(s, p) {
			return false
		}
	}
	for i := 0; i+1 < len(s); i++ { // $VAR, $var_name: a shell or Makefile variable
		if s[i] == '$' && (s[i+1] == '_' || s[i+1] >= 'a' && s[i+1] <= 'z') {
			return false
		}
	}
	return !dummyPasswords[s]
}

var dummyPasswords = map[string]bool{
	"password": true, "passwd": true, "pass": true, "pwd": true, "secret": true, "changeme": true,
	"changeit": true, "example": true, "test": true, "testing": true, "xxx": true, "xxxx": true,
	"xxxxx": true, "xxxxxx": true, "yyy": true, "root": true, "admin": true, "user": true,
	"username": true, "postgres": true, "mysql": true, "guest": true, "redis": true,
	"mypassword": true, "yourpassword": true, "your_password": true, "mongo": true,
	"rabbitmq": true, "foobar": true, "foo": true, "bar": true, "dummy": true, "sample": true,
	"default": true, "123456": true, "token": true, "apikey": true, "api_key": true, "key": true,
	"pass123": true, "secret123": true, "letmein": true, "qwerty": true, "none": true,
	"null": true, "nil": true, "empty": true, "demo": true, "tiger": true, "sa": true,
	"opensesame": true, "open sesame": true, // RFC 7617's Aladdin example
	"gx1fbat3bv": true, // RFC 6749's example client secret (s6BhdRkqt3)
}

// Base64Text reports whether s is base64 (standard or URL alphabet) of at least 8
// bytes of printable text: a Kubernetes Secret value or similar encoded credential,
// not a short flag or binary noise.
func Base64Text(s string) bool {
	b, ok := decodeB64URL(s)
	if !ok {
		return false
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) < 8 {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}

// TokenLike reports whether s mixes letters and digits, or is a run of 16 or more
// digits.
func TokenLike(s string) bool {
	if LettersAndDigits(s) {
		return true
	}
	if len(s) < 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// LettersAndDigits reports whether s holds at least one ASCII letter and one digit.
func LettersAndDigits(s string) bool {
	var letter, digit bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letter = true
		}
	}
	return letter && digit
}

// BasicAuthValue reports whether s is base64 of printable "user:password" with a
// non-empty password that is not a template or placeholder.
func BasicAuthValue(s string) bool {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
			return false
		}
	}
	for _, c := range b { // control bytes mean binary, not text; UTF-8 passwords are fine
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	user, pass, ok := strings.Cut(string(b), ":")
	if !ok || pass == "" || len(user) > 256 {
		return false
	}
	return URLPassword(pass)
}

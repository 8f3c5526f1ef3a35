package rules

import (
	"encoding/base64"
	"hash/crc32"
	"strings"
	"testing"
)

// githubToken builds a token with a correct checksum from a 30-character body.
func githubToken(prefix, body string) string {
	return prefix + body + Base62(uint64(crc32.ChecksumIEEE([]byte(body))), 6)
}

func TestBase62(t *testing.T) {
	for _, tc := range []struct {
		n     uint64
		width int
		want  string
	}{
		{0, 6, "000000"},
		{61, 1, "z"},
		{62, 1, "10"},
		{62, 6, "000010"},
		{4294967295, 6, "4gfFC3"}, // max CRC32 fits six base62 digits
	} {
		if got := Base62(tc.n, tc.width); got != tc.want {
			t.Errorf("Base62(%d, %d) = %q, want %q", tc.n, tc.width, got, tc.want)
		}
	}
}

func TestGitHubChecksum(t *testing.T) {
	good := githubToken("ghp_", "a8Kq3ZtP0vXw7Lm2Nc5Rb9Hy4Df6Gs")
	tampered := good[:10] + "Q" + good[11:]
	if tampered == good {
		t.Fatal("tampering did not change the token")
	}
	for _, tc := range []struct {
		name, tok string
		want      bool
	}{
		{"valid ghp", good, true},
		{"valid gho", githubToken("gho_", "Zz09Yy18Xx27Ww36Vv45Uu54Tt63Ss"), true},
		{"valid npm", githubToken("npm_", "m3Lk9Pq2Rs7Tu4Vw1Xy6Za8Bc5De0F"), true},
		{"body altered", tampered, false},
		{"checksum altered", good[:len(good)-1] + "A", good[len(good)-1] == 'A'},
		{"35 characters", good[:len(good)-1], false},
		{"non-base62", strings.Replace(good, good[6:7], "-", 1), false},
		{"no prefix separator", "ghpXa8Kq3ZtP0vXw7Lm2Nc5Rb9Hy4Df6Gs000000", false},
		{"longer future token", "ghs_" + strings.Repeat("aB3", 20), true},
		{"placeholder", "ghp_" + strings.Repeat("x", 36), false},
	} {
		if got := GitHubChecksum(tc.tok); got != tc.want {
			t.Errorf("%s: GitHubChecksum(%q) = %v, want %v", tc.name, tc.tok, got, tc.want)
		}
	}
}

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestJWTHeader(t *testing.T) {
	payload := b64url(`{"sub":"42"}`)
	for _, tc := range []struct {
		name, tok string
		want      bool
	}{
		{"alg header", b64url(`{"alg":"HS256","typ":"JWT"}`) + "." + payload + ".c2ln", true},
		{"padded std base64 header", base64.StdEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k?>"}`)) + "." + payload + ".x", true},
		{"JOSE header without alg", b64url(`{"kid":"k1","typ":"JWT"}`) + "." + payload + ".c2ln", true},
		{"unsigned (alg none)", b64url(`{"alg":"none"}`) + "." + payload + ".", true},
		{"hand-edited header naming alg", b64url(`{"alg":"HS256",}`) + "." + payload + ".c2ln", true},
		{"broken JSON without alg", b64url(`{"typ":"JWT"`) + "." + payload + ".c2ln", false},
		{"empty object", b64url(`{}`) + "." + payload + ".c2ln", false},
		{"JSON array header", b64url(`["alg"]`) + "." + payload + ".c2ln", false},
		{"not base64", "eyJ!!!." + payload + ".c2ln", false},
		{"one segment", b64url(`{"alg":"HS256"}`), false},
		{"random text", "eyTxSETy0GJ2obSI11a.eyAh6CNg3jlTldjkS.JIyRIMPymP", false},
	} {
		if got := JWTHeader(tc.tok); got != tc.want {
			t.Errorf("%s: JWTHeader(%q) = %v, want %v", tc.name, tc.tok, got, tc.want)
		}
	}
}

func TestAWSKeyID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"AKIAZ7Q4M2K5P3L6N2XJ", true},
		{"ASIAQ2W3E4R5T6Y7U2I3", true},
		{"AKIAIOSFODNN7EXAMPLE", false},
		{"AKIAXXXXXXXXXXXXXXXX", false},
		{"AKIA", false},
	} {
		if got := AWSKeyID(tc.id); got != tc.want {
			t.Errorf("AWSKeyID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestURLPassword(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"s3cr3t-Prod-42", true},
		{"P@ssw0rd$1", true}, // positional $1 inside a value, not a variable reference
		{"", false},
		{"password", false},
		{"Postgres", false},
		{"${DB_PASSWORD}", false},
		{"$DB_PASSWORD", false},
		{"%NUGET_PASSWORD%", false},
		{"abc$password", false},
		{"{{ .Values.password }}", false},
		{"<password>", false},
		{"*****", false},
		{"changeit", false},
	} {
		if got := URLPassword(tc.pw); got != tc.want {
			t.Errorf("URLPassword(%q) = %v, want %v", tc.pw, got, tc.want)
		}
	}
}

func TestLettersAndDigitsAndTokenLike(t *testing.T) {
	for _, tc := range []struct {
		s                 string
		letDig, tokenLike bool
	}{
		{"a1", true, true},
		{"Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB", true, true},
		{"THISSTRINGISALLUPPERCASE", false, false},
		{"makeKubeConfigController", false, false},
		{"58817364162807923381472450948613", false, true},
		{"123456789012345", false, false}, // 15 digits: too short to call a token
		{"", false, false},
	} {
		if got := LettersAndDigits(tc.s); got != tc.letDig {
			t.Errorf("LettersAndDigits(%q) = %v, want %v", tc.s, got, tc.letDig)
		}
		if got := TokenLike(tc.s); got != tc.tokenLike {
			t.Errorf("TokenLike(%q) = %v, want %v", tc.s, got, tc.tokenLike)
		}
	}
}

func TestBasicAuthValue(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString
	for _, tc := range []struct {
		name, v string
		want    bool
	}{
		{"user and password", enc([]byte("deploy:Vr7#kq2Lw9zX")), true},
		{"utf-8 password", enc([]byte("anna:Grüße-2026!")), true},
		{"unpadded", strings.TrimRight(enc([]byte("ci:9fK2mQ7xL4")), "="), true},
		{"empty password", enc([]byte("browser:")), false},
		{"dummy password", enc([]byte("user:password")), false},
		{"no colon", enc([]byte("justatoken123")), false},
		{"binary", enc([]byte{0x01, 0x02, ':', 0x03}), false},
		{"not base64", "not*base64", false},
	} {
		if got := BasicAuthValue(tc.v); got != tc.want {
			t.Errorf("%s: BasicAuthValue(%q) = %v, want %v", tc.name, tc.v, got, tc.want)
		}
	}
}

func TestBase64Text(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString
	for _, tc := range []struct {
		name, v string
		want    bool
	}{
		{"credential text", enc([]byte("admin:password")), true},
		{"url alphabet", base64.URLEncoding.EncodeToString([]byte("s3cr3t~~value>>?")), true},
		{"short", enc([]byte("bar\n")), false},
		{"binary", enc([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), false},
		{"not base64", "%%%%%%%%%%%%", false},
	} {
		if got := Base64Text(tc.v); got != tc.want {
			t.Errorf("%s: Base64Text(%q) = %v, want %v", tc.name, tc.v, got, tc.want)
		}
	}
}

func TestRuleValid(t *testing.T) {
	r := &Rule{ID: "x"}
	if !r.Valid("anything") {
		t.Error("a rule without a validator accepts every secret")
	}
	r.Validate = "no-such-validator"
	if r.Valid("anything") {
		t.Error("an unknown validator must reject, not accept")
	}
	r.Validate = "letters-and-digits"
	if r.Valid("letters") || !r.Valid("l3tters") {
		t.Error("Valid does not apply the named validator")
	}
}

package hygiene

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestKeyWords(t *testing.T) {
	tests := map[string]string{
		"dbPassword": "db password", "AWS_SECRET_ACCESS_KEY": "aws secret access key", "client-secret": "client secret",
		"HTTPToken": "http token", "apiKey": "api key", "x.y.Z": "x y z", "OAuth2Token": "o auth2 token", "": "",
	}
	for in, want := range tests {
		if got := strings.Join(KeyWords(in), " "); got != want {
			t.Errorf("KeyWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCredentialKey(t *testing.T) {
	yes := []string{"password", "db_password", "dbPassword", "DB_PASS", "pwd", "passwd", "passphrase", "secret",
		"client_secret", "clientSecret", "api_key", "apiKey", "APIKEY", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN",
		"access_token", "authToken", "private_key", "signing-key", "webhook_secret", "credentials", "Authorization",
		"npmAuthToken", ":rubygems_api_key", "secret_key_base", "SLACK_BOT_TOKEN"}
	no := []string{"password_file", "token_url", "public_key", "publishable_key", "next_page_token", "username",
		"key", "keys", "primary_key", "max_password_length", "password_policy", "secret_name", "token_expiry",
		"csrf_token", "cursor", "forgot_password", "bypass", "compass", "tokenizer", "host", "sort_key", ""}
	for _, k := range yes {
		if !CredentialKey(k) {
			t.Errorf("CredentialKey(%q) = false, want true", k)
		}
	}
	for _, k := range no {
		if CredentialKey(k) {
			t.Errorf("CredentialKey(%q) = true, want false", k)
		}
	}
}

func TestPlaceholder(t *testing.T) {
	yes := []string{"", "${DB_PASSWORD}", "$DB_PASSWORD", "%env(DB_PASSWORD)%", "{{ .Values.password }}", "<token>",
		"your-api-key", "xxxxxxxx", "********", "changeme", "password", "None", "null", "ENC[AES256_GCM,data:abc]",
		"vault:secret/data/db#password", "op://vault/item/password", "/run/secrets/db_password", "./secrets/key.pem",
		"arn:aws:secretsmanager:us-east-1:123:secret:db", "https://vault.internal/v1/x", "…", "%(DB_PASSWORD)s",
		"__DB_PASSWORD__", "#{DbPassword}#", "((db_password))", "process.env.TOKEN", "REPLACE_ME_TOKEN", "aaaaaaaa",
		"12345678"}
	no := []string{"Tr0ub4dorXq9", "Hs3Nc6Bv0Gf5Jy2Tu4Zq7L", "$up3rS3cret!", "pw", "sk_live_51HQm7Zr2Lx9Vb4Nt8W"}
	for _, v := range yes {
		if !Placeholder(v) {
			t.Errorf("Placeholder(%q) = false, want true", v)
		}
	}
	for _, v := range no {
		if Placeholder(v) {
			t.Errorf("Placeholder(%q) = true, want false", v)
		}
	}
}

// osaReference is the textbook full-table optimal string alignment distance.
func osaReference(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// TestEditDistanceReference compares the three-row editDistance with the full
// table on random strings over a small alphabet (many transpositions), with b
// both shorter and longer than the stack rows.
func TestEditDistanceReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abc"[rng.IntN(3)]
		}
		return string(b)
	}
	for range 3000 {
		a, b := word(rng.IntN(16)), word(rng.IntN(40))
		if got, want := editDistance(a, b), osaReference(a, b); got != want {
			t.Fatalf("editDistance(%q, %q) = %d, want %d", a, b, got, want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		d    int
	}{{"authorization", "authorisation", 1}, {"bearer", "baerer", 1}, {"token", "tokne", 1}, {"autorization", "authorization", 1},
		{"authentication", "authorization", 4}, {"", "abc", 3}, {"same", "same", 0}, {"abc", "", 3}, {"ca", "abc", 3},
		{strings.Repeat("ab", 20), strings.Repeat("ba", 20), 2}, {strings.Repeat("x", 40), strings.Repeat("x", 38) + "yx", 1}}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}

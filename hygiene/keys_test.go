package hygiene

import (
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

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		d    int
	}{{"authorization", "authorisation", 1}, {"bearer", "baerer", 1}, {"token", "tokne", 1}, {"autorization", "authorization", 1},
		{"authentication", "authorization", 4}, {"", "abc", 3}, {"same", "same", 0}}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}

package hygiene

import (
	"strings"
	"testing"
)

func TestJudgeAuthorization(t *testing.T) {
	const tok = "Hs3Nc6Bv0Gf5Jy2Tu4Zq7L"
	tests := []struct {
		prefix  string
		dynamic bool
		name    string
		want    string // rule=fixed;...
	}{
		{"Bearer ", true, "token", ""},
		{"Bearer " + tok, false, "", ""},
		{"Token ", true, "t", ""},
		{"Bearer", true, "token", "auth-header-concatenated=Bearer "},
		{"bearer", true, "token", "auth-header-concatenated=bearer "},
		{"Bearer  ", true, "token", "auth-header-spacing=Bearer "},
		{"Bearer\t", true, "token", "auth-header-spacing=Bearer "},
		{" Bearer ", true, "token", "auth-header-spacing=Bearer "},
		{"Bearer: ", true, "token", "auth-header-bad-scheme=Bearer "},
		{"Token=" + tok, false, "", "auth-header-bad-scheme=Token " + tok},
		{"Baerer ", true, "token", "auth-header-bad-scheme=Bearer "},
		{"Tokne " + tok, false, "", "auth-header-bad-scheme=Token " + tok},
		{"Bearer" + tok, false, "", "auth-header-spacing=Bearer " + tok},
		{"Bearer \"", true, "token", "auth-header-quoted-token="},
		{"Bearer " + tok + " ", false, "", "auth-header-spacing=Bearer " + tok},
		{"", true, "apiToken", "auth-header-missing-scheme="},
		{"", true, "authHeader", ""},
		{"", true, "credentials", ""},
		{tok, false, "", "auth-header-missing-scheme="},
		{"Basic YWRtaW46UTd2TTJ4UDlrTDRu", false, "", "basic-auth-plain-base64="},
		{"Basic dXNlcjpwYXNzd29yZA==", false, "", ""}, // user:password is a placeholder
		{"Basic ", true, "creds", ""},
		{"Tokenizer", false, "", ""},
		{"Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnag", false, "", ""},
		{"Bearer <token>", false, "", ""},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range JudgeAuthorization(tt.prefix, tt.dynamic, tt.name) {
			got = append(got, p.Rule+"="+p.Fixed)
			if p.Secret != "" && (strings.Contains(p.Message, p.Secret) || tt.prefix[p.SecretAt:p.SecretAt+len(p.Secret)] != p.Secret) {
				t.Errorf("%q: secret shown or misplaced: %+v", tt.prefix, p)
			}
		}
		if strings.Join(got, ";") != tt.want {
			t.Errorf("JudgeAuthorization(%q, %v, %q) = %q, want %q", tt.prefix, tt.dynamic, tt.name, strings.Join(got, ";"), tt.want)
		}
	}
}

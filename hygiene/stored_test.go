package hygiene

import "testing"

func TestStoredValue(t *testing.T) {
	tests := []struct {
		key, value string
		want       bool
	}{
		{"password", "Tr0ub4dorXq9", true},
		{"client_secret", "vq3ZtL9xR2mK8pW4nB7c", true},
		{"from_secret", "docker_registry_password", false},
		{"password_secret", "DOCKERHUB_TOKEN", false},
		{"jwt_secret", "unsecure_session_secret", false},
		{"client-secret", "test1234", false},
		{"password", "********", false},
		{"@types/passport-facebook-token", "^0.4.34", false},
		{"secretKey", "ENC(UXM3TEuaIuLrPdKuDASHoZExQyOrgGl7)", false},
		{"password", "$6$rounds=5000$jgiCMRyGXzoq$w2pJeZnnH8bwW3zzvoMWtTRfQ", false},
		{"password", "sha1$1b11b$edeb0a67a9622f1f2cfeabf9188a711f5ac7d236", false},
		{"machineLearningLogsToken", "machineLearningLogsToken", false},
	}
	for _, tt := range tests {
		if got := storedValue(tt.key, tt.value); got != tt.want {
			t.Errorf("storedValue(%q, %q) = %v, want %v", tt.key, tt.value, got, tt.want)
		}
	}
}

func TestURLPasswordStandIn(t *testing.T) {
	tests := []struct {
		user, pass string
		want       bool
	}{
		{"admin", "admin", true},
		{"dev", "xyz", true},
		{"POSTGRES_USER", "POSTGRES_PASSWORD", true},
		{"postgres", "my_password", true},
		{"user1", "pwd1", true},
		{"app", "Vq8%40zL2m", false},
		{"deploy", "Vq8zL2mXr7Tc", false},
		{"svc", "gticsrgek", false},
	}
	for _, tt := range tests {
		if got := standIn(tt.user, tt.pass); got != tt.want {
			t.Errorf("standIn(%q, %q) = %v, want %v", tt.user, tt.pass, got, tt.want)
		}
	}
}

// TestQueryStandIns: credential query parameters holding stand-ins are not findings.
func TestQueryStandIns(t *testing.T) {
	c := New(DefaultConfig())
	for _, tt := range []struct {
		text string
		want bool
	}{
		{`GET https://api.vendor.io/v1/me?access_token=secret-access-token`, false},
		{`GET https://api.vendor.io/v1/login?user=m&password=testMemberPass`, false},
		{`GET https://api.vendor.io/v1/me?access_token=9f8e7d6c5b4a3f2e1d0cQx7`, true},
	} {
		got := false
		for _, f := range c.Check("client.http", []byte(tt.text+"\n")) {
			got = got || f.RuleID == "url-credential-query"
		}
		if got != tt.want {
			t.Errorf("%q: url-credential-query = %v, want %v", tt.text, got, tt.want)
		}
	}
}

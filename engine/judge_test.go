package engine

import (
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

func builtinEngine(t *testing.T) *Engine {
	t.Helper()
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestGenericValueJudgement scans lines with the built-in rules and checks which
// generic values are reported, by the syntax around them in their language.
func TestGenericValueJudgement(t *testing.T) {
	e := builtinEngine(t)
	tests := []struct {
		name, path, text string
		want             bool
	}{
		{"quoted literal in code", "app.js", `const apiKey = "Zk3qP9vR2xL7mT4wB8nC";`, true},
		{"member access as header value", "app.test.js", `.set('x-auth-token', template.users.admin.token)`, false},
		{"member access, unquoted", "app.js", `apiKey: this.settings.clientApiKey,`, false},
		{"call", "app.py", `api_key = load_secret_value_from("x")`, false},
		{"variable in code", "app.go", `Token: accessTokenForTheUser,`, false},
		{"unquoted literal in config", "config.yml", `access_token: Zk3qP9vR2xL7mT4wB8nC`, true},
		{"CI secret reference", "drone.yml", `password:\n  from_secret: docker_registry_password`, false},
		{"masked", "settings.json", `"password": "**********"`, false},
		{"words", "config.yml", `jwt_secret: "unsecure_session_secret_value"`, false},
		{"locale string", "ja.json", `"LABEL_NEW_PASSWORD": "新しいパスワード"`, false},
		{"short quoted password in code", "db.py", `conn = connect(user="app", password="gticsrge")`, true},
		{"unquoted password in YAML", "compose.yml", `POSTGRES_PASSWORD: gpqcwkgrbst`, true},
		{"setter", "Db.java", `ds.setPassword("hbmwyqkt");`, true},
		{"call argument", "auth.go", `ok := CheckUserPassword("john", "qkzvwmtx")`, false},
		{"method on the password", "auth.py", `data = self.password.encode('latin1')`, false},
		{"validation rule", "rules.php", `'password' => 'required|min:8',`, false},
		{"word and number in code", "user_test.go", `Password: "test123",`, false},
		{"error constant", "Errors.cs", `ERROR_WRONG_PASSWORD = 0x0000052B,`, false},
		{"key describing the password", "devise.rb", `config.reset_password_within = 6.hours`, false},
		{"UI label in a Latin-script locale", "pt.yml", `current_password: Senha atual`, false},
		{"shell assignment before a command", "ci.yml", `run: PGPASSWORD=fumbqztvap psql -h localhost`, true},
		{"object identifier", "oids.go", `ControlTypePasswordMustChange = "2.16.840.1.113730.3.4.4"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := false
			for _, f := range e.ScanBytes(tt.path, []byte(tt.text)) {
				got = got || f.Kind == finding.KindSecret
			}
			if got != tt.want {
				t.Errorf("%s: %q reported = %v, want %v", tt.path, tt.text, got, tt.want)
			}
		})
	}
}

func TestFindingConfidence(t *testing.T) {
	e := builtinEngine(t)
	tests := []struct{ path, text, want string }{
		{"deploy.sh", "export GITHUB_TOKEN=ghp_Zk3qP9vR2xL7mT4wB8nCq5dF1gH6jK0sA2eY", finding.ConfidenceHigh},
		{"config.yml", "client_secret: Zk3qP9vR2xL7mT4w", finding.ConfidenceMedium},
		{"src/test/config.yml", "client_secret: Zk3qP9vR2xL7mT4w", finding.ConfidenceLow},
	}
	for _, tt := range tests {
		fs := e.ScanBytes(tt.path, []byte(tt.text))
		if len(fs) == 0 {
			t.Errorf("%s: %q: no finding", tt.path, tt.text)
			continue
		}
		if fs[0].Confidence != tt.want {
			t.Errorf("%s: %q: %s confidence %q, want %q", tt.path, tt.text, fs[0].RuleID, fs[0].Confidence, tt.want)
		}
	}
}

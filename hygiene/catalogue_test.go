package hygiene

import (
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
)

func decodeHygieneTOML(t *testing.T, src string) (Config, error) {
	t.Helper()
	var f struct {
		Hygiene map[string]any `toml:"hygiene"`
	}
	if _, err := toml.Decode(src, &f); err != nil {
		t.Fatalf("toml: %v", err)
	}
	return DecodeConfig(f.Hygiene)
}

func TestDecodeHygiene(t *testing.T) {
	c, err := decodeHygieneTOML(t, `
[hygiene]
max_jwt_lifetime = "30d"
disable = ["jwt-expired", "auth-header-spacing"]
enable = ["auth-header-spacing"]
auth-header-missing-scheme = false
client_side_raise = false
max_config_size = "512KiB"
[hygiene.severity]
jwt-no-expiry = "high"
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxJWTLifetime != 30*24*time.Hour {
		t.Errorf("MaxJWTLifetime = %v", c.MaxJWTLifetime)
	}
	if c.On("jwt-expired") || c.On("auth-header-missing-scheme") || !c.On("auth-header-spacing") || !c.On("jwt-no-expiry") {
		t.Errorf("switches wrong: %v", c.Disabled)
	}
	if c.ClientSideRaise || c.MaxConfigBytes != 512<<10 {
		t.Errorf("ClientSideRaise=%v MaxConfigBytes=%d", c.ClientSideRaise, c.MaxConfigBytes)
	}
	if c.SeverityOf("jwt-no-expiry") != "high" || c.SeverityOf("jwt-expired") != "low" {
		t.Errorf("severities wrong: %v", c.Severity)
	}

	d, err := DecodeConfig(nil)
	if err != nil || !d.Enabled || d.MaxJWTLifetime != DefaultMaxJWTLifetime || !d.On("jwt-alg-none") {
		t.Errorf("defaults wrong: %+v %v", d, err)
	}
	off, _ := decodeHygieneTOML(t, "[hygiene]\nenabled = false\n")
	if off.On("jwt-alg-none") {
		t.Error("enabled = false did not switch checks off")
	}
}

func TestDecodeHygieneErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`max_jwt_lifetime = "9x"`, `max_jwt_lifetime = "9x": cannot parse`},
		{`max_jwt_lifetime = 90`, `want a quoted duration`},
		{`max_jwt_lifetim = "90d"`, `unknown key (did you mean "max_jwt_lifetime"?)`},
		{`disable = ["jwt-expird"]`, `unknown hygiene rule id "jwt-expird" (did you mean "jwt-expired"?)`},
		{`disable = "jwt-expired"`, `want a list`},
		{`jwt-expired = "no"`, `wants true or false`},
		{"[hygiene.severity]\njwt-expired = \"urgent\"", `want one of critical`},
		{`max_config_size = "4 parsecs"`, `unknown size unit`},
		{`enabled = 1`, `want true or false`},
	}
	for _, tt := range tests {
		src := "[hygiene]\n" + tt.src
		if strings.HasPrefix(tt.src, "[") {
			src = tt.src
		}
		_, err := decodeHygieneTOML(t, src)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.src, err, tt.want)
		}
	}
}

func TestParseLifetime(t *testing.T) {
	tests := map[string]time.Duration{
		"90d": 90 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1y": 365 * 24 * time.Hour,
		"36h": 36 * time.Hour, "1d12h": 36 * time.Hour, "1.5h": 90 * time.Minute, "45m": 45 * time.Minute,
	}
	for s, want := range tests {
		if got, err := ParseLifetime(s); err != nil || got != want {
			t.Errorf("ParseLifetime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "90", "-1d", "0d", "5q", "1d-"} {
		if _, err := ParseLifetime(bad); err == nil {
			t.Errorf("ParseLifetime(%q) succeeded", bad)
		}
	}
}

func TestConfigOfFoldsDisabled(t *testing.T) {
	s := &rules.Set{Disabled: []string{"jwt-expired", "github-pat"}, Hygiene: map[string]any{"max_jwt_lifetime": "1d"}}
	c, err := ConfigOf(s)
	if err != nil {
		t.Fatal(err)
	}
	if c.On("jwt-expired") || c.Disabled["github-pat"] || c.MaxJWTLifetime != 24*time.Hour {
		t.Errorf("got %+v", c)
	}
}

func TestHygieneCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Catalogue {
		if seen[c.ID] {
			t.Errorf("duplicate id %s", c.ID)
		}
		seen[c.ID] = true
		if !finding.ValidSeverity(c.Severity) || c.Description == "" || c.Example == "" {
			t.Errorf("incomplete entry %+v", c)
		}
	}
}

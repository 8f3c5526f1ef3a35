package hygiene

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/internal/textdist"
	"github.com/tokenward/tokenward/rules"
)

// CheckInfo describes one hygiene rule: a practice that leaks credentials.
// The hygiene package implements the checks; the catalogue lives here so that a
// configuration naming an unknown check fails to load.
type CheckInfo struct {
	ID          string
	Severity    string // default severity
	Description string
	Example     string // one line that triggers the check...
	ExamplePath string // ...in a file of this name ("" for checks of file metadata)
}

// Catalogue is the catalogue of hygiene rule ids, in documentation order.
var Catalogue = []CheckInfo{
	{"url-credential-query", "high", "Credential in a URL query string or fragment",
		"https://api.vendor.io/v1/items?access_token=9f8e7d6c5b4a3f2e1d0c", "client.py"},
	{"url-credential-query-dynamic", "medium", "Code puts a credential into a URL query string",
		`fetch("/api/items?api_key=" + apiKey)`, "app.js"},
	{"url-userinfo-credential", "high", "Password or token in the userinfo part of a URL",
		"postgres://app:S3cretPw42@db.internal:5432/app", "settings.py"},
	{"auth-header-missing-scheme", "low", "Authorization value without a scheme word",
		`headers = {"Authorization": token}`, "client.py"},
	{"auth-header-bad-scheme", "medium", "Misspelled or punctuated Authorization scheme",
		`curl -H "Authorization: Bearer: $TOKEN" https://api.vendor.io`, "deploy.sh"},
	{"auth-header-quoted-token", "medium", "Token inside quotes in an Authorization value",
		`curl -H 'Authorization: Token "8f3kq0d9s8a7f6g5h4j3"' https://api.vendor.io`, "deploy.sh"},
	{"auth-header-spacing", "medium", "Doubled, missing, leading or trailing space in an Authorization value",
		`headers = {"Authorization": "Bearer  " + token}`, "app.js"},
	{"auth-header-name-typo", "medium", "Misspelled Authorization header name",
		`req.setRequestHeader("Authorisation", "Bearer " + token)`, "app.js"},
	{"auth-header-concatenated", "medium", "Scheme word joined to the token without a space",
		`headers["Authorization"] = "Bearer" + token`, "app.js"},
	{"basic-auth-plain-base64", "high", "Basic credentials that decode to username:password",
		"Authorization: Basic YWRtaW46UzNjcmV0UHc0Mg==", "request.http"},
	{"jwt-alg-none", "high", "JWT with alg none (unsigned, forgeable)",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJzdmMtY2kiLCJpYXQiOjE3MDAwMDAwMDB9.", "token.txt"},
	{"jwt-no-expiry", "medium", "JWT without an exp claim (valid forever)",
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtY2kiLCJpYXQiOjE3MDAwMDAwMDB9.Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3Hs3Nc6Bv0Gf5Jy2Tu4", "token.txt"},
	{"jwt-long-lived", "medium", "JWT lifetime (exp - iat) over max_jwt_lifetime",
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtY2kiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTkwMDAwMDAwMH0.Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3Hs3Nc6Bv0Gf5Jy2Tu4", "token.txt"},
	{"jwt-expired", "low", "Expired JWT (still a leak of claims and of a signing practice)",
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtY2kiLCJpYXQiOjE0OTAwMDAwMDAsImV4cCI6MTUwMDAwMDAwMH0.Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3Hs3Nc6Bv0Gf5Jy2Tu4", "token.txt"},
	{"netrc-password", "high", "Password in a .netrc file",
		"machine api.vendor.io login deploy password 8f3kq0d9s8a7", ".netrc"},
	{"npmrc-auth-token", "high", "Registry token or password in .npmrc / .yarnrc",
		"//registry.npmjs.org/:_authToken=npm_Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3Hs3Nc6Bv0G", ".npmrc"},
	{"pypirc-password", "high", "Password or token in .pypirc",
		"password = pypi-AgEIcHlwaS5vcmcCJGQ3Zq7Lm2Xv9Rt4Wp1K", ".pypirc"},
	{"git-credentials-store", "high", "Plain-text credential in a git credential store file",
		"https://deploy:ghp_Zq7Lm2Xv9Rt4Wp1Kd8Hs3Nc6Bv0Gf5Jy2Tu4@github.com", ".git-credentials"},
	{"git-config-auth-header", "high", "Authorization header stored in git config (http.extraheader)",
		"[http]\n\textraheader = AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX1FtN1pyMkx4OVZi", ".git/config"},
	{"docker-config-auth", "high", "Registry credential stored in a Docker config.json auths entry",
		`{"auths": {"ghcr.io": {"auth": "dXNlcjpnaHBfWnE3TG0yWHY5UnQ0V3AxS2Q4"}}}`, ".docker/config.json"},
	{"kubeconfig-credential", "high", "User token, password or client key in a kubeconfig",
		"users: [{name: ci, user: {token: Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3Hs3Nc6Bv0}}]", "kubeconfig"},
	{"dotenv-credential", "high", "Credential value in a .env file",
		"STRIPE_SECRET_KEY=sk_live_51HQm7Zr2Lx9Vb4Nt8Wk1Pc5J", ".env"},
	{"pgpass-password", "high", "PostgreSQL password in a .pgpass file",
		"db.internal:5432:orders:app:Vq8zL2mXr7Tc", ".pgpass"},
	{"htpasswd-credential", "high", "Password hash (or plain-text password) in an Apache .htpasswd file",
		"deploy:$apr1$Zq7Lm2Xv$HqJZimcKQFAMYayBlzkrA/", ".htpasswd"},
	{"shadow-password-hash", "high", "Password hash in an /etc/shadow-style file",
		"deploy:$6$Zq7Lm2Xv$Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3Hs3Nc6Bv0Gf5Jy2Tu4Ab8Cd0Ef2Gh4Ij6Kl8Mn0Op2Qr4St6Uv8Wx0Yz2:19700:0:99999:7:::", "shadow"},
	{"mysql-option-password", "high", "Password in a MySQL/MariaDB option file (.my.cnf, my.cnf, my.ini)",
		"[client]\n\tpassword = \"Hq7vX2mLr9Zc\"", ".my.cnf"},
	{"deploy-config-password", "high", "Server password in an editor's SFTP/FTP deploy config (sftp-config.json, .ftpconfig, .remote-sync.json, .vscode/sftp.json)",
		`{"host": "ftp.shop.example", "user": "deploy", "password": "Wq7zR2mLx9Tv"}`, "sftp-config.json"},
	{"rails-master-key", "high", "Rails master key (config/master.key) that decrypts credentials.yml.enc",
		"9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c", "config/master.key"},
	{"config-credential-key", "high", "Credential stored in structured config, judged by its key path",
		`db: {password: "Tr0ub4dor&3"}`, "config.yaml"},
	{"credential-file-permissions", "high", "Credential file readable by group or others",
		"-rw-r--r-- ~/.netrc (holding a password)", ""},
}

// CheckByID returns the catalogue entry of id.
func CheckByID(id string) (CheckInfo, bool) {
	for _, c := range Catalogue {
		if c.ID == id {
			return c, true
		}
	}
	return CheckInfo{}, false
}

// Hygiene defaults.
const (
	DefaultMaxJWTLifetime = 90 * 24 * time.Hour
	DefaultMaxConfigBytes = 4 << 20
)

// Config is the decoded `[hygiene]` table of the user configuration.
//
//	[hygiene]
//	enabled           = true          # false switches every hygiene check off
//	disable           = ["jwt-expired"]
//	enable            = ["jwt-expired"] # wins over disable
//	max_jwt_lifetime  = "90d"         # s, m, h, d, w, y units or a Go duration
//	client_side_raise = true          # raise secrets in browser-shipped code one severity
//	max_config_size   = "4MiB"        # larger config files are not parsed structurally
//	auth-header-missing-scheme = false  # per-check switch, by rule id
//	[hygiene.severity]
//	jwt-no-expiry = "high"
type Config struct {
	Enabled         bool
	Disabled        map[string]bool   // rule id -> switched off
	Severity        map[string]string // rule id -> severity override
	MaxJWTLifetime  time.Duration
	ClientSideRaise bool
	MaxConfigBytes  int64
}

// DefaultConfig is the configuration used when the user config has no [hygiene] table.
func DefaultConfig() Config {
	return Config{
		Enabled:         true,
		Disabled:        map[string]bool{},
		Severity:        map[string]string{},
		MaxJWTLifetime:  DefaultMaxJWTLifetime,
		ClientSideRaise: true,
		MaxConfigBytes:  DefaultMaxConfigBytes,
	}
}

// On reports whether the check id runs.
func (c Config) On(id string) bool {
	return c.Enabled && !c.Disabled[id]
}

// SeverityOf returns the configured severity of id, else its default.
func (c Config) SeverityOf(id string) string {
	if s, ok := c.Severity[id]; ok {
		return s
	}
	if hc, ok := CheckByID(id); ok {
		return hc.Severity
	}
	return "medium"
}

// ConfigOf decodes a rule set's raw [hygiene] table. Hygiene rule ids listed in
// the set's `disabled` list are switched off too.
func ConfigOf(s *rules.Set) (Config, error) {
	c, err := DecodeConfig(s.Hygiene)
	if err != nil {
		return c, err
	}
	for _, id := range s.Disabled {
		if _, ok := CheckByID(id); ok {
			c.Disabled[id] = true
		}
	}
	return c, nil
}

// DecodeConfig turns the raw [hygiene] table (as decoded by BurntSushi/toml) into a
// Config. A nil table gives the defaults. Unknown keys, unknown rule ids and
// malformed values are errors naming the key and what is expected.
func DecodeConfig(raw map[string]any) (Config, error) {
	c := DefaultConfig()
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var enable []string
	for _, k := range keys {
		v := raw[k]
		switch k {
		case "enabled":
			b, ok := v.(bool)
			if !ok {
				return c, hygieneErr(k, v, "want true or false")
			}
			c.Enabled = b
		case "client_side_raise":
			b, ok := v.(bool)
			if !ok {
				return c, hygieneErr(k, v, "want true or false")
			}
			c.ClientSideRaise = b
		case "max_jwt_lifetime":
			s, ok := v.(string)
			if !ok {
				return c, hygieneErr(k, v, `want a quoted duration such as "90d", "12h" or "1y"`)
			}
			d, err := ParseLifetime(s)
			if err != nil {
				return c, hygieneErr(k, v, err.Error())
			}
			c.MaxJWTLifetime = d
		case "max_config_size":
			n, err := hygieneSize(v)
			if err != nil {
				return c, hygieneErr(k, v, err.Error())
			}
			c.MaxConfigBytes = n
		case "disable", "enable":
			ids, err := hygieneIDList(v)
			if err != nil {
				return c, hygieneErr(k, v, err.Error())
			}
			if k == "enable" {
				enable = ids
				continue
			}
			for _, id := range ids {
				c.Disabled[id] = true
			}
		case "severity":
			m, ok := v.(map[string]any)
			if !ok {
				return c, hygieneErr(k, v, `want a table: [hygiene.severity] rule-id = "low"`)
			}
			for id, sv := range m {
				if _, ok := CheckByID(id); !ok {
					return c, fmt.Errorf("[hygiene.severity] %s: unknown hygiene rule id%s", id, hygieneSuggestID(id))
				}
				s, ok := sv.(string)
				if !ok || !finding.ValidSeverity(s) {
					return c, fmt.Errorf("[hygiene.severity] %s = %s: want one of %s",
						id, hygieneShow(sv), strings.Join(finding.Severities, ", "))
				}
				c.Severity[id] = s
			}
		default:
			if _, ok := CheckByID(k); !ok {
				return c, fmt.Errorf("[hygiene] %s: unknown key%s; known keys are enabled, disable, enable, "+
					"max_jwt_lifetime, client_side_raise, max_config_size, severity and the hygiene rule ids "+
					"(see docs/hygiene.md)", k, hygieneSuggestKey(k))
			}
			b, ok := v.(bool)
			if !ok {
				return c, hygieneErr(k, v, "a per-check switch wants true or false")
			}
			if b {
				delete(c.Disabled, k)
			} else {
				c.Disabled[k] = true
			}
		}
	}
	for _, id := range enable {
		delete(c.Disabled, id)
	}
	return c, nil
}

func hygieneErr(key string, v any, what string) error {
	return fmt.Errorf("[hygiene] %s = %s: %s", key, hygieneShow(v), what)
}

func hygieneShow(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

func hygieneIDList(v any) ([]string, error) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case []string:
		for _, s := range x {
			items = append(items, s)
		}
	default:
		return nil, fmt.Errorf(`want a list of hygiene rule ids, e.g. ["jwt-expired"]`)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, fmt.Errorf("list item %v is not a string", it)
		}
		if _, ok := CheckByID(s); !ok {
			return nil, fmt.Errorf("unknown hygiene rule id %q%s", s, hygieneSuggestID(s))
		}
		out = append(out, s)
	}
	return out, nil
}

// ParseLifetime parses a duration with day, week and year units ("90d", "2w",
// "1y", "36h", "1d12h") or any time.ParseDuration form. It must be positive.
func ParseLifetime(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if d, err := time.ParseDuration(t); err == nil {
		if d <= 0 {
			return 0, fmt.Errorf("duration must be positive")
		}
		return d, nil
	}
	units := map[string]time.Duration{
		"s": time.Second, "m": time.Minute, "h": time.Hour,
		"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour,
	}
	var total time.Duration
	rest := t
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		j := i
		for j < len(rest) && rest[j] >= 'a' && rest[j] <= 'z' {
			j++
		}
		if i == 0 || j == i {
			return 0, fmt.Errorf("cannot parse %q as a duration: want a number and a unit (s, m, h, d, w, y), e.g. 90d", s)
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		u, ok := units[rest[i:j]]
		if err != nil || !ok {
			return 0, fmt.Errorf("cannot parse %q as a duration: want a number and a unit (s, m, h, d, w, y), e.g. 90d", s)
		}
		add := n * float64(u)
		if add > math.MaxInt64/2 {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		total += time.Duration(add)
		rest = rest[j:]
	}
	if total <= 0 {
		return 0, fmt.Errorf("duration must be positive")
	}
	return total, nil
}

// hygieneSize accepts a byte count (integer) or a string such as "4MiB", "512KiB", "2MB".
func hygieneSize(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		if x <= 0 {
			return 0, fmt.Errorf("size must be positive")
		}
		return x, nil
	case int:
		if x <= 0 {
			return 0, fmt.Errorf("size must be positive")
		}
		return int64(x), nil
	case string:
		t := strings.TrimSpace(x)
		i := 0
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		n, err := strconv.ParseInt(t[:i], 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf(`want a positive size such as 4194304, "4MiB" or "512KiB"`)
		}
		mult := map[string]int64{"": 1, "b": 1, "kb": 1000, "kib": 1 << 10, "k": 1 << 10,
			"mb": 1000 * 1000, "mib": 1 << 20, "m": 1 << 20, "gb": 1000 * 1000 * 1000, "gib": 1 << 30, "g": 1 << 30}
		m, ok := mult[strings.ToLower(strings.TrimSpace(t[i:]))]
		if !ok {
			return 0, fmt.Errorf(`unknown size unit %q: use B, KiB, MiB or GiB`, strings.TrimSpace(t[i:]))
		}
		return n * m, nil
	}
	return 0, fmt.Errorf(`want a positive size such as 4194304, "4MiB" or "512KiB"`)
}

func hygieneSuggestID(s string) string {
	best, bd := "", 4
	for _, c := range Catalogue {
		if d := textdist.Levenshtein(s, c.ID); d < bd {
			best, bd = c.ID, d
		}
	}
	if best == "" {
		return "; see docs/hygiene.md for the list"
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func hygieneSuggestKey(s string) string {
	best, bd := "", 4
	for _, k := range []string{"enabled", "disable", "enable", "max_jwt_lifetime", "client_side_raise", "max_config_size", "severity"} {
		if d := textdist.Levenshtein(s, k); d < bd {
			best, bd = k, d
		}
	}
	for _, c := range Catalogue {
		if d := textdist.Levenshtein(s, c.ID); d < bd {
			best, bd = c.ID, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

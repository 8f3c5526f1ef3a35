package sqldb

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
	"github.com/tokenward/tokenward/verify/check/sqldb/dbfake"
)

// loopEnv dials loopback directly (the verifier's guard is tested in the
// verify package).
func loopEnv() *check.Env {
	var d net.Dialer
	return &check.Env{Dial: d.DialContext, Timeout: 5 * time.Second}
}

// cred builds the credential a database rule gives: the password as the
// secret and the whole URL in the url group.
func cred(rule, rawURL, password string) check.Credential {
	return check.Credential{RuleID: rule, Secret: password, Groups: map[string]string{URLGroup: rawURL}}
}

func assertClean(t *testing.T, r check.Result, secrets ...string) {
	t.Helper()
	texts := []string{r.Detail}
	if r.Access != nil {
		texts = append(texts, r.Access.Summary())
	}
	for _, s := range secrets {
		for _, x := range texts {
			if strings.Contains(x, s) {
				t.Errorf("the secret %q is in %q", s, x)
			}
		}
	}
}

const pgPass = "Pg-s3cret-Vx9q2Lm"

func TestPostgres(t *testing.T) {
	for _, c := range []struct {
		name, method, url, pw string
		want                  string
		detail                string
	}{
		{"scram live", "scram-sha-256", "postgres://app:%s@127.0.0.1:%d/shop?sslmode=disable", pgPass, finding.StatusLive, `logged in to PostgreSQL at 127.0.0.1:`},
		{"scram wrong password", "scram-sha-256", "postgres://app:%s@127.0.0.1:%d/shop?sslmode=disable", "Pg-wrong-password-1", finding.StatusInvalid, "28P01"},
		{"md5 live (prefer falls back to plain)", "md5", "postgresql://app:%s@127.0.0.1:%d/shop", pgPass, finding.StatusLive, "server 16.4"},
		{"md5 wrong password", "md5", "postgresql://app:%s@127.0.0.1:%d/shop", "Pg-wrong-password-1", finding.StatusInvalid, "28P01"},
		{"cleartext live, no database in the URL", "password", "postgres://app:%s@127.0.0.1:%d", pgPass, finding.StatusLive, `as "app"`},
		{"cleartext wrong user", "password", "postgres://bob:%s@127.0.0.1:%d/shop?sslmode=disable", pgPass, finding.StatusInvalid, "28P01"},
		{"too many clients", "busy", "postgres://app:%s@127.0.0.1:%d/shop?sslmode=disable", pgPass, finding.StatusUnknown, "53300"},
		{"require TLS from a server without", "md5", "postgres://app:%s@127.0.0.1:%d/shop?sslmode=require", pgPass, finding.StatusUnknown, ""},
		{"unknown sslmode", "md5", "postgres://app:%s@127.0.0.1:%d/shop?sslmode=bogus", pgPass, finding.StatusUnknown, "sslmode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := dbfake.StartPG(t, c.method, "app", pgPass)
			u := fmt.Sprintf(c.url, c.pw, srv.Port())
			r := Postgres{}.Verify(context.Background(), loopEnv(), cred("postgres-connection-string", u, c.pw))
			if r.Status != c.want || !strings.Contains(r.Detail, c.detail) {
				t.Fatalf("got %s %q, want %s containing %q", r.Status, r.Detail, c.want, c.detail)
			}
			assertClean(t, r, c.pw, pgPass)
			if r.Status == finding.StatusLive {
				if r.Access == nil || !strings.HasPrefix(r.Access.Identity, "app@127.0.0.1:") || r.Access.Properties["server_version"] != "16.4" {
					t.Errorf("access %+v", r.Access)
				}
				for _, m := range srv.After() {
					if m != "*pgproto3.Terminate" {
						t.Errorf("the check sent %s after logging in; it must run nothing", m)
					}
				}
			}
		})
	}
}

const myPass = "My-s3cret-Qz8w1Kd"

func TestMySQL(t *testing.T) {
	for _, c := range []struct {
		name, url, pw string
		busy          bool
		want, detail  string
	}{
		{"live", "mysql://root:%s@127.0.0.1:%d/shop", myPass, false, finding.StatusLive, "logged in to MySQL"},
		{"live mariadb, ssl-mode disabled", "mariadb://root:%s@127.0.0.1:%d/shop?ssl-mode=DISABLED", myPass, false, finding.StatusLive, `as "root"`},
		{"wrong password", "mysql://root:%s@127.0.0.1:%d/shop", "My-wrong-password-2", false, finding.StatusInvalid, "1045"},
		{"too many connections", "mysql://root:%s@127.0.0.1:%d/shop", myPass, true, finding.StatusUnknown, "1040"},
		{"unknown TLS mode", "mysql://root:%s@127.0.0.1:%d/shop?ssl-mode=maybe", myPass, false, finding.StatusUnknown, "TLS mode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := dbfake.StartMySQL(t, "root", myPass, c.busy)
			u := fmt.Sprintf(c.url, c.pw, srv.Port())
			r := MySQL{}.Verify(context.Background(), loopEnv(), cred("mysql-connection-string", u, c.pw))
			if r.Status != c.want || !strings.Contains(r.Detail, c.detail) {
				t.Fatalf("got %s %q, want %s containing %q", r.Status, r.Detail, c.want, c.detail)
			}
			assertClean(t, r, c.pw, myPass)
			if r.Status == finding.StatusLive {
				if r.Access == nil || !strings.HasPrefix(r.Access.Identity, "root@127.0.0.1:") || !strings.HasSuffix(r.Access.Identity, "/shop") {
					t.Errorf("access %+v", r.Access)
				}
				for _, b := range srv.Commands() {
					if b != 0x0e && b != 0x01 { // COM_PING, COM_QUIT
						t.Errorf("the check sent command 0x%02x; it must send only COM_PING", b)
					}
				}
			}
		})
	}
}

const rdPass = "Rd-s3cret-Hj5t7Np"

func TestRedis(t *testing.T) {
	for _, c := range []struct {
		name, mode, url, pw string
		want, detail        string
	}{
		{"live, default user (HELLO AUTH)", "acl", "redis://:%s@127.0.0.1:%d/0", rdPass, finding.StatusLive, `as "default"`},
		{"live, named user", "acl", "redis://default:%s@127.0.0.1:%d", rdPass, finding.StatusLive, "PING answered"},
		{"wrong password (WRONGPASS)", "acl", "redis://:%s@127.0.0.1:%d", "Rd-wrong-password-3", finding.StatusInvalid, "WRONGPASS"},
		{"live before Redis 6 (AUTH)", "legacy", "redis://:%s@127.0.0.1:%d", rdPass, finding.StatusLive, "PING answered"},
		{"wrong password before Redis 6", "legacy", "redis://:%s@127.0.0.1:%d", "Rd-wrong-password-3", finding.StatusInvalid, "invalid password"},
		{"max clients", "busy", "redis://:%s@127.0.0.1:%d", rdPass, finding.StatusUnknown, "max number of clients"},
		{"rediss to a plain server", "acl", "rediss://:%s@127.0.0.1:%d", rdPass, finding.StatusUnknown, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := dbfake.StartRedis(t, c.mode, "default", rdPass)
			u := fmt.Sprintf(c.url, c.pw, srv.Port())
			r := Redis{}.Verify(context.Background(), loopEnv(), cred("redis-connection-string", u, c.pw))
			if r.Status != c.want || !strings.Contains(r.Detail, c.detail) {
				t.Fatalf("got %s %q, want %s containing %q", r.Status, r.Detail, c.want, c.detail)
			}
			assertClean(t, r, c.pw, rdPass)
			for _, n := range srv.Commands() {
				if !slices.Contains([]string{"HELLO", "AUTH", "PING", "QUIT"}, n) {
					t.Errorf("the check sent %s; it may send only HELLO, AUTH and PING", n)
				}
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	for _, c := range []struct {
		url, secret, want string // want: user|password|host|port|db|sslmode or "error"
	}{
		{"postgres://app:p%40ss/w?rd@db.prod.internal:6432/app?sslmode=require", "p%40ss/w?rd", "app|p@ss/w?rd|db.prod.internal|6432|app|require"},
		{"postgresql+psycopg2://report:Fay#q:x@10.2.0.14/warehouse", "Fay#q:x", "report|Fay#q:x|10.2.0.14|5432|warehouse|"},
		{"postgres://app:secret123@[::1]:5433/x", "secret123", "app|secret123|::1|5433|x|"},
		{"mongodb://a:secret123@h1:27017,h2:27017/db?replicaSet=rs0", "secret123", "a|secret123|h1|27017|db|"},
		{"postgres://app:secret123@host:99999/x", "secret123", "error"},
		{"postgres://app:other@host/x", "secret123", "error"},
	} {
		tg, err := parseTarget(cred("r", c.url, c.secret), 5432)
		got := "error"
		if err == nil {
			got = strings.Join([]string{tg.user, tg.password, tg.host, fmt.Sprint(tg.port), tg.db, tg.query.Get("sslmode")}, "|")
		}
		if got != c.want {
			t.Errorf("%s: got %s, want %s (%v)", c.url, got, c.want, err)
		}
	}
	if _, err := parseTarget(check.Credential{RuleID: "r", Secret: "x"}, 1); err == nil || !strings.Contains(err.Error(), `"url" group`) {
		t.Errorf("no url group: %v", err)
	}
}

const mgPass = "Mg-s3cret-Ty6u2Ws"

func TestMongo(t *testing.T) {
	for _, c := range []struct {
		name, url, pw string
		busy          bool
		want, detail  string
	}{
		{"live", "mongodb://app:%s@127.0.0.1:%d/shop?authSource=admin", mgPass, false, finding.StatusLive, "ping answered"},
		{"live, host list and replica set", "mongodb://app:%s@127.0.0.1:%d,127.0.0.1:1/?replicaSet=rs0", mgPass, false, finding.StatusLive, `as "app"`},
		{"wrong password", "mongodb://app:%s@127.0.0.1:%d/shop", "Mg-wrong-password-4", false, finding.StatusInvalid, "AuthenticationFailed"},
		{"shutting down", "mongodb://app:%s@127.0.0.1:%d/shop", mgPass, true, finding.StatusUnknown, ""},
		{"x509 mechanism", "mongodb://app:%s@127.0.0.1:%d/?authMechanism=MONGODB-X509", mgPass, false, finding.StatusUnknown, "authMechanism"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := dbfake.StartMongo(t, "app", mgPass, c.busy)
			u := fmt.Sprintf(c.url, c.pw, srv.Port())
			r := Mongo{}.Verify(context.Background(), loopEnv(), cred("mongodb-connection-string", u, c.pw))
			if r.Status != c.want || !strings.Contains(r.Detail, c.detail) {
				t.Fatalf("got %s %q, want %s containing %q", r.Status, r.Detail, c.want, c.detail)
			}
			assertClean(t, r, c.pw, mgPass)
			if r.Status == finding.StatusLive && (r.Access == nil || !strings.HasPrefix(r.Access.Identity, "app@127.0.0.1:")) {
				t.Errorf("access %+v", r.Access)
			}
			for _, n := range srv.Commands() {
				if !slices.Contains([]string{"isMaster", "hello", "saslStart", "saslContinue", "ping", "endSessions"}, n) {
					t.Errorf("the check sent %s; it may send only hello, the SASL conversation, ping and endSessions", n)
				}
			}
		})
	}
}

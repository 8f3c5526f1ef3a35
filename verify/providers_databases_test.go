package verify

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/verify/check/sqldb/dbfake"
)

// ruleFinding is what the built-in rule finds in line: the secret and the named
// groups of its regex (the url group the database checks read).
func ruleFinding(t *testing.T, set *rules.Set, id, line string) finding.Finding {
	t.Helper()
	r := ruleByID(set, id)
	if r == nil || r.Verify == nil || r.Verify.Verifier == "" {
		t.Fatalf("rule %q has no Go verifier", id)
	}
	re := r.Regexp()
	m := re.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("rule %q does not match %q", id, line)
	}
	f := secretFinding(id, m[r.SecretGroup])
	f.Groups = map[string]string{}
	for i, n := range re.SubexpNames() {
		if n != "" {
			f.Groups[n] = m[i]
		}
	}
	return f
}

// The database checks log in through the verifier's egress guard: a database
// on an internal address (loopback here) is refused unless the operator names
// it with --endpoint FAMILY=URL or passes --allow-internal; the refusal is
// unknown, says how to allow it, and nothing reaches the server. The password
// never shows in a detail, an access map or the log.
func TestDatabaseChecksEgress(t *testing.T) {
	set := builtinTOML(t)
	const pw = "Db-s3cret-Wq4e8Rt"
	pg := dbfake.StartPG(t, "scram-sha-256", "app", pw)
	my := dbfake.StartMySQL(t, "root", pw, false)
	rd := dbfake.StartRedis(t, "acl", "default", pw)
	mg := dbfake.StartMongo(t, "app", pw, false)
	cases := []struct {
		rule, family, line string
		port               int
		accepts            func() int
		identity           string
	}{
		{"postgres-connection-string", "postgres", "DATABASE_URL=postgres://app:%s@127.0.0.1:%d/shop?sslmode=disable", pg.Port(), pg.Accepts, "app@127.0.0.1:%d/shop"},
		{"mysql-connection-string", "mysql", "DATABASE_URL=mysql://root:%s@127.0.0.1:%d/shop ", my.Port(), my.Accepts, "root@127.0.0.1:%d/shop"},
		{"mongodb-connection-string", "mongodb", "MONGO_URI=\"mongodb://app:%s@127.0.0.1:%d/shop?authSource=admin\"", mg.Port(), mg.Accepts, "app@127.0.0.1:%d/admin"},
		{"redis-connection-string", "redis", "REDIS_URL=redis://:%s@127.0.0.1:%d/0", rd.Port(), rd.Accepts, "default@127.0.0.1:%d"},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			f := ruleFinding(t, set, c.rule, fmt.Sprintf(c.line, pw, c.port))
			if f.Secret != pw {
				t.Fatalf("secret %q, want the password", f.Secret)
			}
			var logs bytes.Buffer
			run := func(endpoints map[string]string, allowInternal bool) *finding.Verification {
				o := fastOpts("", slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
				o.Endpoints = endpoints
				o.AllowInternal = allowInternal
				v, err := New(set, o)
				if err != nil {
					t.Fatal(err)
				}
				return v.Verify(context.Background(), []finding.Finding{f})[0].Verification
			}
			before := c.accepts()
			got := run(nil, false)
			if got.Status != finding.StatusUnknown || !strings.Contains(got.Detail, "refused to connect") ||
				!strings.Contains(got.Detail, fmt.Sprintf("--endpoint %s=https://127.0.0.1:%d", c.family, c.port)) {
				t.Errorf("unnamed internal host: %+v, want unknown naming the refusal and the --endpoint to allow it", got)
			}
			if n := c.accepts() - before; n != 0 {
				t.Errorf("the guard let %d connections through", n)
			}
			for name, v := range map[string]*finding.Verification{
				"--endpoint":       run(map[string]string{c.family: fmt.Sprintf("http://127.0.0.1:%d", c.port)}, false),
				"--allow-internal": run(nil, true),
			} {
				if v.Status != finding.StatusLive || v.Access == nil || v.Access.Identity != fmt.Sprintf(c.identity, c.port) {
					t.Errorf("%s: %+v access %+v", name, v, v.Access)
					continue
				}
				assertNoSecret(t, name+" detail", v.Detail, pw)
				assertNoSecret(t, name+" access", v.Access.Summary(), pw)
			}
			assertNoSecret(t, "logs", logs.String(), pw)
		})
	}
}

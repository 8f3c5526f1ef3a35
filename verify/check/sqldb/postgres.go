package sqldb

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
)

// Postgres logs in to the server a postgres:// URL names (startup message and
// the server's password exchange: cleartext, MD5 or SCRAM-SHA-256), reads the
// server version it reports, and closes. No query is run.
//
// docs: https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
// (28P01 invalid_password: https://www.postgresql.org/docs/current/errcodes-appendix.html)
type Postgres struct{}

// Family is the --endpoint key that names an internal PostgreSQL host.
func (Postgres) Family() string { return "postgres" }

// Host is "": a database URL names its own host.
func (Postgres) Host(string) string { return "" }

// pgSSLModes are the sslmode values honoured; others are refused rather than
// guessed. Certificate files named in a URL (sslrootcert, sslcert, sslkey) are
// never read: a scanned file must not make tokenward open local files.
var pgSSLModes = map[string]bool{"disable": true, "allow": true, "prefer": true, "require": true, "verify-ca": true, "verify-full": true}

func (p Postgres) Verify(ctx context.Context, env *check.Env, c check.Credential) check.Result {
	t, err := parseTarget(c, 5432)
	if err != nil {
		return check.UnknownResult("not checked: " + err.Error())
	}
	mode := strings.ToLower(t.query.Get("sslmode"))
	if mode == "" {
		mode = "prefer"
	}
	if !pgSSLModes[mode] {
		return check.UnknownResult(fmt.Sprintf("not checked: sslmode %q is not one of disable, allow, prefer, require, verify-ca, verify-full", mode))
	}
	db := t.db
	if db == "" {
		db = t.user
	}
	dsn := fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s sslmode=%s application_name=tokenward-verify",
		pgQuote(t.host), t.port, pgQuote(t.user), pgQuote(t.password), pgQuote(db), mode)
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return check.UnknownResult("not checked: " + scrub(err.Error(), t))
	}
	d := &dialer{env: env}
	cfg.DialFunc = d.dial
	// Dial the host name, not an address pgx resolved: the guard judges the IP
	// actually dialled and knows hosts the operator named by name.
	cfg.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil }
	for _, fb := range cfg.Fallbacks {
		fb.Host = t.host
	}
	cfg.OnNotice = nil
	cfg.OnNotification = nil
	ctx, cancel := timeout(ctx, env)
	defer cancel()
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			switch pe.Code {
			case "28P01": // invalid_password
				return invalid(fmt.Sprintf("PostgreSQL at %s refused the password for %q (28P01 invalid_password)", t.addr(), t.user))
			default:
				return check.UnknownResult(fmt.Sprintf("PostgreSQL at %s answered %s %s: %s", t.addr(), pe.Severity, pe.Code, scrub(pe.Message, t)))
			}
		}
		return d.failure(p.Family(), t, err)
	}
	version := conn.ParameterStatus("server_version")
	_, tlsUsed := conn.Conn().(*tls.Conn)
	conn.Close(ctx)
	a := &finding.Access{Identity: t.identity(5432), Account: db, Properties: map[string]string{"tls": fmt.Sprint(tlsUsed)}}
	if version != "" {
		a.Properties["server_version"] = version
	}
	detail := fmt.Sprintf("logged in to PostgreSQL at %s as %q", t.addr(), t.user)
	if version != "" {
		detail += " (server " + version + ")"
	}
	return live(detail, a)
}

// pgQuote quotes a keyword/value connection-string value.
func pgQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

package sqldb

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
)

// MySQL logs in to the MySQL or MariaDB server a mysql:// (mariadb://) URL
// names (handshake v10 and the server's auth plugin: mysql_native_password,
// caching_sha2_password), sends COM_PING, and closes. No query is run; the
// driver never sends a cleartext password and refuses LOAD DATA LOCAL requests.
//
// docs: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html
// (1045 ER_ACCESS_DENIED_ERROR: https://dev.mysql.com/doc/mysql-errors/8.4/en/server-error-reference.html#error_er_access_denied_error)
type MySQL struct{}

// Family is the --endpoint key that names an internal MySQL host.
func (MySQL) Family() string { return "mysql" }

// Host is "": a database URL names its own host.
func (MySQL) Host(string) string { return "" }

// erAccessDenied is ER_ACCESS_DENIED_ERROR: "Access denied for user (using password: YES)".
const erAccessDenied = 1045

func (m MySQL) Verify(ctx context.Context, env *check.Env, c check.Credential) check.Result {
	t, err := parseTarget(c, 3306)
	if err != nil {
		return check.UnknownResult("not checked: " + err.Error())
	}
	if strings.HasPrefix(t.scheme, "mysqlx") {
		return check.UnknownResult("not checked: mysqlx:// is the X Protocol, which this check does not speak")
	}
	tlsMode, err := mysqlTLS(t)
	if err != nil {
		return check.UnknownResult("not checked: " + err.Error())
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = t.user, t.password, "tcp", t.addr(), t.db
	cfg.TLSConfig = tlsMode
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = env.Timeout, env.Timeout, env.Timeout
	cfg.AllowCleartextPasswords = false
	cfg.AllowOldPasswords = false
	cfg.AllowAllFiles = false
	cfg.Logger = &mysql.NopLogger{}
	d := &dialer{env: env}
	cfg.DialFunc = d.dial
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return check.UnknownResult("not checked: " + scrub(err.Error(), t))
	}
	ctx, cancel := timeout(ctx, env)
	defer cancel()
	dc, err := conn.Connect(ctx)
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			if me.Number == erAccessDenied {
				return invalid(fmt.Sprintf("MySQL at %s refused the password for %q (1045 access denied)", t.addr(), t.user))
			}
			return check.UnknownResult(fmt.Sprintf("MySQL at %s answered %d: %s", t.addr(), me.Number, scrub(me.Message, t)))
		}
		return d.failure(m.Family(), t, err)
	}
	defer dc.Close()
	if p, ok := dc.(driver.Pinger); ok {
		if err := p.Ping(ctx); err != nil {
			return check.UnknownResult(fmt.Sprintf("MySQL at %s accepted the login but not a ping: %s", t.addr(), scrub(err.Error(), t)))
		}
	}
	return live(fmt.Sprintf("logged in to MySQL at %s as %q", t.addr(), t.user),
		&finding.Access{Identity: t.identity(3306), Account: t.db})
}

// mysqlTLS maps the URL's TLS option (ssl-mode as the mysql client and
// Connector/J spell it, sslmode, or the Go driver's tls) to the driver's; the
// default is preferred (TLS when the server offers it), as the mysql client's.
func mysqlTLS(t *target) (string, error) {
	for _, k := range []string{"ssl-mode", "sslmode", "sslMode", "tls"} {
		v := strings.ToLower(t.query.Get(k))
		if v == "" {
			continue
		}
		switch v {
		case "disabled", "disable", "false":
			return "false", nil
		case "preferred", "prefer":
			return "preferred", nil
		case "required", "require", "skip-verify":
			return "skip-verify", nil
		case "verify_ca", "verify-ca", "verify_identity", "verify-full", "true":
			return "true", nil
		}
		return "", fmt.Errorf("%s=%q is not a TLS mode tokenward knows (disabled, preferred, required, verify_ca, verify_identity)", k, v)
	}
	return "preferred", nil
}

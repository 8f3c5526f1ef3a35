package sqldb

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
)

// Mongo authenticates to the MongoDB server a mongodb:// URL names (hello,
// then SCRAM-SHA-256 or SCRAM-SHA-1 by saslStart/saslContinue), sends ping,
// and disconnects. A mongodb+srv:// URL is resolved by its SRV record as
// drivers do. Only the first host of a host list is tried, directly.
//
// docs: https://www.mongodb.com/docs/manual/core/security-scram/ and
// https://github.com/mongodb/specifications/blob/master/source/auth/auth.md
// (error 18 AuthenticationFailed)
type Mongo struct{}

// Family is the --endpoint key that names an internal MongoDB host.
func (Mongo) Family() string { return "mongodb" }

// Host is "": a database URL names its own host.
func (Mongo) Host(string) string { return "" }

// codeAuthenticationFailed is the server's error code for a failed SASL conversation.
const codeAuthenticationFailed = 18

type ctxDialer struct{ d *dialer }

func (c ctxDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return c.d.dial(ctx, network, addr)
}

func (m Mongo) Verify(ctx context.Context, env *check.Env, c check.Credential) check.Result {
	t, err := parseTarget(c, 27017)
	if err != nil {
		return check.UnknownResult("not checked: " + err.Error())
	}
	q := func(k string) string {
		for key, v := range t.query {
			if strings.EqualFold(key, k) && len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	srv := strings.HasPrefix(t.scheme, "mongodb+srv")
	cred := options.Credential{Username: t.user, Password: t.password, PasswordSet: true, AuthSource: q("authSource")}
	if cred.AuthSource == "" {
		cred.AuthSource = t.db
	}
	if cred.AuthSource == "" {
		cred.AuthSource = "admin"
	}
	switch mech := strings.ToUpper(q("authMechanism")); mech {
	case "", "SCRAM-SHA-1", "SCRAM-SHA-256":
		cred.AuthMechanism = mech
	default:
		return check.UnknownResult(fmt.Sprintf("not checked: authMechanism %s is not a password mechanism this check speaks (SCRAM-SHA-1, SCRAM-SHA-256)", mech))
	}
	useTLS := srv || strings.EqualFold(q("tls"), "true") || strings.EqualFold(q("ssl"), "true")
	d := &dialer{env: env}
	o := options.Client().SetAuth(cred).SetDialer(ctxDialer{d}).SetAppName("tokenward-verify").
		SetServerSelectionTimeout(env.Timeout).SetConnectTimeout(env.Timeout).SetTimeout(env.Timeout).
		SetMaxPoolSize(1).SetRetryReads(false).SetRetryWrites(false)
	if srv {
		o.ApplyURI("mongodb+srv://" + t.host + "/")
		if o.Validate() != nil {
			return check.UnknownResult("not checked: " + o.Validate().Error())
		}
		o.SetAuth(cred) // the SRV record's TXT may name authSource; the URL's wins
	} else {
		o.SetHosts([]string{t.addr()}).SetDirect(true)
	}
	if useTLS {
		o.SetTLSConfig(&tls.Config{ServerName: t.host, MinVersion: tls.VersionTLS12})
	}
	ctx, cancel := timeout(ctx, env)
	defer cancel()
	d.mu.Lock()
	d.onFail = cancel
	d.mu.Unlock()
	cl, err := mongo.Connect(o)
	if err != nil {
		return check.UnknownResult("not checked: " + scrub(err.Error(), t))
	}
	defer cl.Disconnect(context.Background())
	err = cl.Ping(ctx, readpref.PrimaryPreferred())
	if err == nil {
		id := *t
		id.db = cred.AuthSource
		return live(fmt.Sprintf("authenticated to MongoDB at %s as %q (ping answered)", t.addr(), t.user),
			&finding.Access{Identity: id.identity(27017), Account: cred.AuthSource, Properties: map[string]string{"tls": fmt.Sprint(useTLS)}})
	}
	var se mongo.ServerError
	if errors.As(err, &se) && se.HasErrorCode(codeAuthenticationFailed) || strings.Contains(err.Error(), "(AuthenticationFailed)") {
		return invalid(fmt.Sprintf("MongoDB at %s refused the password for %q (18 AuthenticationFailed)", t.addr(), t.user))
	}
	if d.failed() != nil {
		return d.failure(m.Family(), t, err)
	}
	return check.UnknownResult(fmt.Sprintf("MongoDB at %s: %s", t.addr(), firstLine(scrub(err.Error(), t))))
}

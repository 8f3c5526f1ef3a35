package sqldb

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
)

// Redis authenticates to the server a redis:// (rediss://, TLS) URL names
// (HELLO with AUTH, or AUTH on servers before 6), sends PING, and closes. It
// sends no SELECT, CLIENT SETNAME/SETINFO or tracking command.
//
// docs: https://redis.io/docs/latest/commands/auth/ (WRONGPASS; "-ERR invalid password" before Redis 6)
// and https://redis.io/docs/latest/commands/hello/
type Redis struct{}

// Family is the --endpoint key that names an internal Redis host.
func (Redis) Family() string { return "redis" }

// Host is "": a database URL names its own host.
func (Redis) Host(string) string { return "" }

func (r Redis) Verify(ctx context.Context, env *check.Env, c check.Credential) check.Result {
	t, err := parseTarget(c, 6379)
	if err != nil {
		return check.UnknownResult("not checked: " + err.Error())
	}
	quietRedis.Do(func() { redis.SetLogger(discardLog{}) })
	d := &dialer{env: env}
	dial := d.dial
	if t.scheme == "rediss" {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			raw, err := d.dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(raw, &tls.Config{ServerName: t.host, MinVersion: tls.VersionTLS12})
			if err := tc.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, err
			}
			return tc, nil
		}
	}
	cl := redis.NewClient(&redis.Options{
		Addr:                     t.addr(),
		Username:                 t.user,
		Password:                 t.password,
		Dialer:                   dial,
		Protocol:                 2,
		DialTimeout:              env.Timeout,
		ReadTimeout:              env.Timeout,
		WriteTimeout:             env.Timeout,
		MaxRetries:               -1,
		DialerRetries:            1,
		PoolSize:                 1,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	defer cl.Close()
	ctx, cancel := timeout(ctx, env)
	defer cancel()
	err = cl.Ping(ctx).Err()
	if err == nil {
		user := t.user
		if user == "" {
			user = "default"
		}
		id := *t
		id.user, id.db = user, ""
		return live(fmt.Sprintf("authenticated to Redis at %s as %q (PING answered)", t.addr(), user),
			&finding.Access{Identity: id.identity(6379), Properties: map[string]string{"tls": fmt.Sprint(t.scheme == "rediss")}})
	}
	var re redis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		switch {
		case strings.HasPrefix(msg, "WRONGPASS"), strings.HasPrefix(msg, "ERR invalid password"), strings.HasPrefix(msg, "ERR invalid username-password pair"):
			return invalid(fmt.Sprintf("Redis at %s refused the password: %s", t.addr(), scrub(firstLine(msg), t)))
		}
		return check.UnknownResult(fmt.Sprintf("Redis at %s answered: %s", t.addr(), scrub(firstLine(msg), t)))
	}
	return d.failure(r.Family(), t, err)
}

// quietRedis silences go-redis's process-wide logger, which prints pool
// errors to stderr: the check reports what happened in its result.
var quietRedis sync.Once

type discardLog struct{}

func (discardLog) Printf(context.Context, string, ...any) {}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Package check defines what a live check written in Go implements, and the
// capabilities the verifier hands it (a guarded HTTP client and dialer, the
// operator's endpoint, a clock). Checks never open connections of their own.
package check

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokenward/tokenward/finding"
)

// Credential is what a check verifies: the secret, the named groups of the
// rule's regex and, for a composite credential, its companion parts.
type Credential struct {
	RuleID string
	Secret string
	Groups map[string]string
	// Parts maps a companion's rule id to its secret ("aws-secret-access-key").
	Parts map[string]string
}

// Env is what a check may use. The verifier builds one per check.
type Env struct {
	// HTTP sends requests through the egress guard (no internal addresses unless
	// the operator named the host), the per-host rate limit and the concurrency
	// cap; it refuses redirects to another origin and bounds each attempt by the
	// verify timeout. Checks retry through their SDK or not at all.
	HTTP *http.Client
	// Dial opens connections through the same egress guard, for protocol logins
	// (databases).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Endpoint is the operator's override for the check's family
	// (--endpoint FAMILY=URL), or "".
	Endpoint string
	// Timeout bounds one attempt.
	Timeout time.Duration
	// MaxBody is the most response bytes a check should read.
	MaxBody int64
	// UserAgent identifies tokenward to the provider.
	UserAgent string
	Now       func() time.Time
}

// Result is a live check's outcome. Status is finding.StatusLive,
// finding.StatusInvalid or finding.StatusUnknown. Detail and Access must not
// hold the secret; the verifier scrubs them all the same.
type Result struct {
	Status     string
	HTTPStatus int
	Detail     string
	Access     *finding.Access
}

// Revocation outcomes (RevokeResult.Result), as for HTTP revoke specs.
const (
	Accepted = "accepted"
	Rejected = "rejected"
	Unknown  = "unknown"
)

// RevokeResult is a revocation's outcome: Accepted, Rejected or Unknown. The
// verifier confirms an accepted revocation by verifying again.
type RevokeResult struct {
	Result     string
	HTTPStatus int
	Detail     string
}

// Check verifies one kind of credential.
type Check interface {
	// Family is the --endpoint key ("aws") and the provider's name.
	Family() string
	// Host is where the check sends the credential given the endpoint override
	// ("" for none); "" when the credential names its own host (a database URL).
	Host(endpoint string) string
	Verify(ctx context.Context, env *Env, c Credential) Result
}

// Revoker is a Check that can also revoke or deactivate the credential.
type Revoker interface {
	Check
	Revoke(ctx context.Context, env *Env, c Credential) RevokeResult
	// DescribeRevoke says what Revoke would send, for dry runs; it must not
	// hold the secret.
	DescribeRevoke(c Credential) string
}

// AccessReporter is implemented by checks whose live results carry an access
// map (for `tokenward rules list`).
type AccessReporter interface {
	ReportsAccess() bool
}

// UnknownResult returns an unknown result with the reason.
func UnknownResult(detail string) Result {
	return Result{Status: finding.StatusUnknown, Detail: detail}
}

// EndpointHost is the host of the operator's endpoint override, or def (a
// host) when there is none: what a check's Host reports.
func EndpointHost(endpoint, def string) string {
	if endpoint == "" {
		return def
	}
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		return u.Host
	}
	return def
}

// Pair returns the two halves of a key pair whose either half may be the
// finding and the other its part: (id, secret) when c is the idRule's
// finding with a secretRule part, or the other way round.
func Pair(c Credential, idRule, secretRule string) (id, secret string) {
	if c.RuleID == secretRule {
		return strings.TrimSpace(c.Parts[idRule]), c.Secret
	}
	return c.Secret, strings.TrimSpace(c.Parts[secretRule])
}

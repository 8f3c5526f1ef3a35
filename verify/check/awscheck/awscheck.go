// Package awscheck verifies AWS access keys with sts:GetCallerIdentity and
// deactivates them with iam:UpdateAccessKey, signed with SigV4 by the AWS SDK.
//
// Safety: the SDK's configuration is built by hand from the key pair found;
// nothing reads ~/.aws, the environment or the instance metadata service
// (config.LoadDefaultConfig is never called), and every request goes through
// the verifier's guarded client (check.Env.HTTP).
package awscheck

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
)

// Rule ids of the parts of an AWS key pair.
const (
	KeyIDRule        = "aws-access-key-id"
	SecretKeyRule    = "aws-secret-access-key"
	SessionTokenRule = "aws-session-token"
)

// Default endpoints: the global STS and IAM endpoints, both signed for
// us-east-1. --endpoint aws=URL overrides STS, --endpoint aws-iam=URL IAM.
const (
	STSEndpoint = "https://sts.amazonaws.com"
	IAMEndpoint = "https://iam.amazonaws.com"
	region      = "us-east-1"
)

// maxAttempts bounds the SDK's attempts per call (one retry).
const maxAttempts = 2

// STS is the aws-sts check (family "aws"): GetCallerIdentity needs no
// permission, changes nothing and names the key's ARN, account and user id.
// docs: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
type STS struct{}

// IAM is the aws-iam revoker (family "aws-iam"): UpdateAccessKey with
// Status=Inactive and no UserName, which IAM applies to the user that signs
// the request, i.e. the key deactivates itself. It needs iam:UpdateAccessKey
// on the key's own user (arn:aws:iam::ACCOUNT:user/${aws:username}), which
// keys of users allowed to rotate their own keys have; a key without it is
// rejected (AccessDenied) and stays live. A deactivated key can be activated
// again by the account's administrators; deleting it is theirs to decide.
// docs: https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccessKey.html
type IAM struct{}

// Family implements check.Check.
func (STS) Family() string { return "aws" }

// Host implements check.Check.
func (STS) Host(endpoint string) string { return hostOf(endpoint, STSEndpoint) }

// ReportsAccess implements check.AccessReporter: ARN, account, user id.
func (STS) ReportsAccess() bool { return true }

// Family implements check.Check.
func (IAM) Family() string { return "aws-iam" }

// Host implements check.Check.
func (IAM) Host(endpoint string) string { return hostOf(endpoint, IAMEndpoint) }

func hostOf(endpoint, def string) string {
	if endpoint == "" {
		endpoint = def
	}
	if u, err := url.Parse(endpoint); err == nil {
		return u.Host
	}
	return ""
}

// keyPair reads the credential's parts: the key id is the secret of rule
// aws-access-key-id, the secret key its aws-secret-access-key part.
func keyPair(c check.Credential) (id, secret, session string, err error) {
	id, secret = c.Secret, c.Parts[SecretKeyRule]
	if c.RuleID == SecretKeyRule { // the pair seen from the other side
		id, secret = c.Parts[KeyIDRule], c.Secret
	}
	session = c.Parts[SessionTokenRule]
	switch {
	case id == "" || secret == "":
		return "", "", "", fmt.Errorf("an AWS key is checked as a pair: the %s and %s must both be found (within the rule's distance)", KeyIDRule, SecretKeyRule)
	case strings.HasPrefix(id, "ASIA") && session == "":
		return "", "", "", fmt.Errorf("%s is a temporary key id (ASIA): it needs its session token, which was not found beside it", finding.Redact(id))
	}
	return id, secret, session, nil
}

// config builds the SDK configuration by hand: static credentials, the
// verifier's HTTP client, bounded retries. No shared config, no environment,
// no IMDS.
func config(env *check.Env, id, secret, session string) aws.Config {
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, session),
		HTTPClient:  env.HTTP,
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.MaxBackoff = 2 * time.Second
			})
		},
		AppID: "tokenward",
	}
}

func endpointOr(env *check.Env, def string) *string {
	if env.Endpoint != "" {
		return aws.String(strings.TrimRight(env.Endpoint, "/"))
	}
	return aws.String(def)
}

func bounded(ctx context.Context, env *check.Env) (context.Context, context.CancelFunc) {
	d := env.Timeout
	if d <= 0 {
		d = 10 * time.Second
	}
	return context.WithTimeout(ctx, time.Duration(maxAttempts+1)*d)
}

// invalidCodes are the STS error codes that mean the key pair does not
// authenticate: an unknown, deleted or inactive key id, a secret key that
// does not belong to it, an expired session.
var invalidCodes = map[string]bool{
	"InvalidClientTokenId":        true,
	"SignatureDoesNotMatch":       true,
	"ExpiredToken":                true,
	"UnrecognizedClientException": true,
}

// Verify implements check.Check.
func (STS) Verify(ctx context.Context, env *check.Env, c check.Credential) check.Result {
	id, secret, session, err := keyPair(c)
	if err != nil {
		return check.UnknownResult(err.Error())
	}
	ctx, cancel := bounded(ctx, env)
	defer cancel()
	client := sts.NewFromConfig(config(env, id, secret, session), func(o *sts.Options) {
		o.BaseEndpoint = endpointOr(env, STSEndpoint)
	})
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		code, status := apiError(err)
		if invalidCodes[code] {
			return check.Result{Status: finding.StatusInvalid, HTTPStatus: status, Detail: "sts:GetCallerIdentity: " + code}
		}
		return check.Result{Status: finding.StatusUnknown, HTTPStatus: status, Detail: "sts:GetCallerIdentity: " + describe(code, err)}
	}
	arn, account := aws.ToString(out.Arn), aws.ToString(out.Account)
	a := &finding.Access{Identity: arn, Account: account}
	if uid := aws.ToString(out.UserId); uid != "" {
		a.Properties = map[string]string{"user_id": uid}
	}
	return check.Result{Status: finding.StatusLive, HTTPStatus: 200, Detail: "AWS identity " + arn, Access: a}
}

// Verify implements check.Check: the revoker is confirmed by aws-sts, so its
// own Verify only says so.
func (IAM) Verify(ctx context.Context, env *check.Env, c check.Credential) check.Result {
	return check.UnknownResult("aws-iam revokes; verify with aws-sts")
}

// Revoke implements check.Revoker.
func (IAM) Revoke(ctx context.Context, env *check.Env, c check.Credential) check.RevokeResult {
	id, secret, session, err := keyPair(c)
	if err != nil {
		return check.RevokeResult{Result: check.Unknown, Detail: err.Error()}
	}
	ctx, cancel := bounded(ctx, env)
	defer cancel()
	client := iam.NewFromConfig(config(env, id, secret, session), func(o *iam.Options) {
		o.BaseEndpoint = endpointOr(env, IAMEndpoint)
	})
	_, err = client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(id), Status: iamtypes.StatusTypeInactive})
	if err == nil {
		return check.RevokeResult{Result: check.Accepted, HTTPStatus: 200, Detail: "iam:UpdateAccessKey Status=Inactive accepted"}
	}
	code, status := apiError(err)
	switch {
	case code == "AccessDenied":
		return check.RevokeResult{Result: check.Rejected, HTTPStatus: status, Detail: "iam:UpdateAccessKey: AccessDenied: the key may not deactivate itself (it lacks iam:UpdateAccessKey on its own user); ask the account's administrators"}
	case invalidCodes[code], code == "NoSuchEntity":
		return check.RevokeResult{Result: check.Rejected, HTTPStatus: status, Detail: "iam:UpdateAccessKey: " + code}
	}
	return check.RevokeResult{Result: check.Unknown, HTTPStatus: status, Detail: "iam:UpdateAccessKey: " + describe(code, err)}
}

// DescribeRevoke implements check.Revoker.
func (IAM) DescribeRevoke(c check.Credential) string {
	id := c.Secret
	if c.RuleID == SecretKeyRule {
		id = c.Parts[KeyIDRule]
	}
	return "POST " + IAMEndpoint + "/ Action=UpdateAccessKey AccessKeyId=" + finding.Redact(id) + " Status=Inactive (SigV4, the key's own user)"
}

// apiError returns the AWS error code and HTTP status of err, when it has them.
func apiError(err error) (code string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// describe names an undecided failure without the SDK's full error chain
// (which repeats the request URL).
func describe(code string, err error) string {
	if code != "" {
		return code
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return fmt.Sprintf("HTTP %d", re.HTTPStatusCode())
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

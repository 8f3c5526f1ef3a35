// Package tencent checks Tencent Cloud SecretId/SecretKey pairs with STS
// GetCallerIdentity, signed with TC3-HMAC-SHA256.
package tencent

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
)

// Rule ids of the pair's halves: either may be the finding, the other its part.
const (
	IDRule  = "tencent-cloud-secret-id"
	KeyRule = "tencent-cloud-secret-key"
	// BaseURL is STS's public endpoint.
	BaseURL = "https://sts.tencentcloudapi.com"
	service = "sts"
	version = "2018-08-13"
)

// CallerIdentity is the check.
//
// docs: https://www.tencentcloud.com/document/product/598/49149 (GetCallerIdentity)
// (signature: https://www.tencentcloud.com/document/api/213/33224)
type CallerIdentity struct{}

// Family is the --endpoint key (tencent=URL replaces https://sts.tencentcloudapi.com).
func (CallerIdentity) Family() string { return "tencent" }

// Host is where the signed request goes.
func (CallerIdentity) Host(endpoint string) string {
	return check.EndpointHost(endpoint, "sts.tencentcloudapi.com")
}

var idRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^AKID[A-Za-z0-9]{32}$`) })

func pair(c check.Credential) (id, key string) { return check.Pair(c, IDRule, KeyRule) }

func hmac256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Authorization is the TC3-HMAC-SHA256 Authorization header of a POST to
// host with the JSON payload, signing content-type, host and x-tc-action.
func Authorization(id, key, svc, host, action, contentType, payload string, ts int64) string {
	canonical := "POST\n/\n\n" +
		"content-type:" + contentType + "\nhost:" + host + "\nx-tc-action:" + strings.ToLower(action) + "\n\n" +
		"content-type;host;x-tc-action\n" + sha256hex(payload)
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	scope := date + "/" + svc + "/tc3_request"
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + scope + "\n" + sha256hex(canonical)
	k := hmac256(hmac256(hmac256([]byte("TC3"+key), date), svc), "tc3_request")
	sig := hex.EncodeToString(hmac256(k, toSign))
	return "TC3-HMAC-SHA256 Credential=" + id + "/" + scope + ", SignedHeaders=content-type;host;x-tc-action, Signature=" + sig
}

// Documented error codes that say the pair is dead.
var deadCodes = map[string]bool{
	"AuthFailure.SecretIdNotFound": true, // the SecretId does not exist (or was deleted)
	"AuthFailure.SignatureFailure": true, // the SecretKey is not the SecretId's
}

const contentType = "application/json; charset=utf-8"

func (CallerIdentity) Verify(ctx context.Context, env *check.Env, c check.Credential) check.Result {
	id, key := pair(c)
	switch {
	case id == "" || key == "":
		return check.UnknownResult(fmt.Sprintf("not checked: a SecretKey verifies only as a pair (%s with %s nearby)", IDRule, KeyRule))
	case !idRe().MatchString(id):
		return check.UnknownResult("not checked: the SecretId is not an AKID id")
	}
	base := BaseURL
	if env.Endpoint != "" {
		base = strings.TrimSuffix(env.Endpoint, "/")
	}
	u, err := url.Parse(base + "/")
	if err != nil {
		return check.UnknownResult(err.Error())
	}
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	ts := now().Unix()
	const payload = "{}"
	d := env.Timeout
	if d <= 0 {
		d = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader([]byte(payload)))
	if err != nil {
		return check.UnknownResult(err.Error())
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-TC-Action", "GetCallerIdentity")
	req.Header.Set("X-TC-Version", version)
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("Authorization", Authorization(id, key, service, u.Host, "GetCallerIdentity", contentType, payload, ts))
	resp, err := env.HTTP.Do(req)
	if err != nil {
		return check.UnknownResult(err.Error())
	}
	defer resp.Body.Close()
	max := env.MaxBody
	if max <= 0 {
		max = 1 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max))
	if err != nil {
		return check.Result{Status: finding.StatusUnknown, HTTPStatus: resp.StatusCode, Detail: err.Error()}
	}
	var r struct {
		Response struct {
			Arn       string
			AccountID string `json:"AccountId"`
			Type      string
			Error     *struct{ Code, Message string }
		}
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &r) != nil {
		return check.Result{Status: finding.StatusUnknown, HTTPStatus: resp.StatusCode, Detail: fmt.Sprintf("STS answered %d, not a documented reply", resp.StatusCode)}
	}
	switch e := r.Response.Error; {
	case e == nil && r.Response.Arn != "":
		return check.Result{Status: finding.StatusLive, HTTPStatus: 200, Detail: fmt.Sprintf("STS GetCallerIdentity: %s (%s)", r.Response.Arn, r.Response.Type),
			Access: &finding.Access{Identity: r.Response.Arn, Account: r.Response.AccountID, Properties: map[string]string{"type": r.Response.Type}}}
	case e != nil && deadCodes[e.Code]:
		return check.Result{Status: finding.StatusInvalid, HTTPStatus: 200, Detail: "STS refused the key pair: " + e.Code}
	case e != nil:
		return check.Result{Status: finding.StatusUnknown, HTTPStatus: 200, Detail: "STS answered " + e.Code}
	}
	return check.Result{Status: finding.StatusUnknown, HTTPStatus: 200, Detail: "STS answered no identity"}
}

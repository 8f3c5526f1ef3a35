// Package alibaba checks Alibaba Cloud AccessKey pairs with STS
// GetCallerIdentity, signed with the RPC signature version 1.0 (HMAC-SHA1).
package alibaba

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
)

// Rule ids of the pair's halves: either may be the finding, the other its part.
const (
	KeyIDRule  = "alibaba-access-key-id"
	SecretRule = "alibaba-secret-key"
	// BaseURL is STS's public endpoint.
	BaseURL = "https://sts.aliyuncs.com"
)

// CallerIdentity is the check.
//
// docs: https://www.alibabacloud.com/help/en/ram/developer-reference/api-sts-2015-04-01-getcalleridentity
// (signature: https://www.alibabacloud.com/help/en/sdk/product-overview/rpc-mechanism)
type CallerIdentity struct{}

// Family is the --endpoint key (alibaba=URL replaces https://sts.aliyuncs.com).
func (CallerIdentity) Family() string { return "alibaba" }

// Host is where the signed request goes.
func (CallerIdentity) Host(endpoint string) string {
	return check.EndpointHost(endpoint, "sts.aliyuncs.com")
}

var keyIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^LTAI[A-Za-z0-9]{12,20}$`) })

// pair returns the AccessKey id and secret of c.
func pair(c check.Credential) (id, secret string) { return check.Pair(c, KeyIDRule, SecretRule) }

// Encode is the RPC signature's percent-encoding (RFC 3986 unreserved
// characters kept, everything else %XX, space as %20).
func Encode(s string) string {
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
}

// Sign returns the signature of a GET request with query params under secret.
func Sign(method string, params url.Values, secret string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var q []string
	for _, k := range keys {
		q = append(q, Encode(k)+"="+Encode(params.Get(k)))
	}
	sts := method + "&" + Encode("/") + "&" + Encode(strings.Join(q, "&"))
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Documented error codes that say the pair is dead.
var deadCodes = map[string]bool{
	"InvalidAccessKeyId.NotFound": true, // "Specified access key is not found."
	"InvalidAccessKeyId.Inactive": true, // "Specified access key is disabled."
	"SignatureDoesNotMatch":       true, // the secret is not the id's
}

func (CallerIdentity) Verify(ctx context.Context, env *check.Env, c check.Credential) check.Result {
	id, secret := pair(c)
	switch {
	case id == "" || secret == "":
		return check.UnknownResult(fmt.Sprintf("not checked: an AccessKey verifies only as a pair (%s with %s nearby)", KeyIDRule, SecretRule))
	case !keyIDRe().MatchString(id):
		return check.UnknownResult("not checked: the AccessKey id is not an LTAI id")
	}
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	var nonce [16]byte
	rand.Read(nonce[:])
	p := url.Values{
		"Action": {"GetCallerIdentity"}, "Version": {"2015-04-01"}, "Format": {"JSON"},
		"AccessKeyId": {id}, "SignatureMethod": {"HMAC-SHA1"}, "SignatureVersion": {"1.0"},
		"SignatureNonce": {hex.EncodeToString(nonce[:])}, "Timestamp": {now().UTC().Format("2006-01-02T15:04:05Z")},
	}
	p.Set("Signature", Sign(http.MethodGet, p, secret))
	base := BaseURL
	if env.Endpoint != "" {
		base = strings.TrimSuffix(env.Endpoint, "/")
	}
	d := env.Timeout
	if d <= 0 {
		d = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/?"+p.Encode(), nil)
	if err != nil {
		return check.UnknownResult(err.Error())
	}
	req.Header.Set("Accept", "application/json")
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
		AccountID    string `json:"AccountId"`
		Arn          string `json:"Arn"`
		IdentityType string `json:"IdentityType"`
		Code         string `json:"Code"`
		Message      string `json:"Message"`
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &r) != nil {
		return check.Result{Status: finding.StatusUnknown, HTTPStatus: resp.StatusCode, Detail: fmt.Sprintf("STS answered %d, not a documented reply", resp.StatusCode)}
	}
	switch {
	case resp.StatusCode == 200 && r.Arn != "" && r.Code == "":
		return check.Result{Status: finding.StatusLive, HTTPStatus: 200, Detail: fmt.Sprintf("STS GetCallerIdentity: %s (%s)", r.Arn, r.IdentityType),
			Access: &finding.Access{Identity: r.Arn, Account: r.AccountID, Properties: map[string]string{"identity_type": r.IdentityType}}}
	case deadCodes[r.Code] && resp.StatusCode >= 400 && resp.StatusCode < 500:
		return check.Result{Status: finding.StatusInvalid, HTTPStatus: resp.StatusCode, Detail: fmt.Sprintf("STS refused the AccessKey: %s", r.Code)}
	}
	return check.Result{Status: finding.StatusUnknown, HTTPStatus: resp.StatusCode, Detail: fmt.Sprintf("STS answered %d %s", resp.StatusCode, r.Code)}
}

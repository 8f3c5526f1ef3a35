// Package gcp checks Google Cloud service-account keys: a JWT signed with the
// key's private key is exchanged for an access token at Google's token
// endpoint (the OAuth 2.0 JWT bearer flow), and the token is thrown away.
package gcp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
)

// KeyGroup is the named group of the gcp-service-account-key rule that holds
// the key file's fields around the private key (client_email, and
// private_key_id or project_id when they are near); the rule's secret is the
// private_key value as written in the JSON (escaped).
const KeyGroup = "sa_key"

// TokenURL is Google's OAuth 2.0 token endpoint. The token_uri written in a
// key file is ignored: a hostile key file must not choose where the signed
// assertion goes.
const TokenURL = "https://oauth2.googleapis.com/token"

// Scope is what the assertion asks for: read-only, and the token is never used.
const Scope = "https://www.googleapis.com/auth/cloud-platform.read-only"

// ServiceAccount is the check.
//
// docs: https://developers.google.com/identity/protocols/oauth2/service-account#httprest
type ServiceAccount struct{}

// Family is the --endpoint key (gcp=URL replaces https://oauth2.googleapis.com; the check posts to URL/token).
func (ServiceAccount) Family() string { return "gcp" }

// Host is where the signed assertion goes.
func (ServiceAccount) Host(endpoint string) string {
	return check.EndpointHost(endpoint, "oauth2.googleapis.com")
}

var (
	emailRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`"client_email"\s*:\s*"([A-Za-z0-9._%+-]{1,128}@[A-Za-z0-9.-]{1,128})"`)
	})
	projectRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`"project_id"\s*:\s*"([a-z][a-z0-9.:-]{1,62})"`) })
	keyIDRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`"private_key_id"\s*:\s*"([0-9a-f]{40})"`) })
)

// key is what the check needs of a key file.
type key struct {
	email, project, keyID string
	priv                  *rsa.PrivateKey
}

func parseKey(c check.Credential) (*key, error) {
	fields := c.Groups[KeyGroup]
	m := emailRe().FindStringSubmatch(fields)
	if m == nil {
		return nil, errors.New("no client_email beside the private key (the key file's service account); the key cannot be exchanged without it")
	}
	k := &key{email: m[1]}
	if m := projectRe().FindStringSubmatch(fields); m != nil {
		k.project = m[1]
	} else if _, dom, ok := strings.Cut(k.email, "@"); ok {
		k.project, _ = strings.CutSuffix(dom, ".iam.gserviceaccount.com")
		if k.project == dom {
			k.project = ""
		}
	}
	if m := keyIDRe().FindStringSubmatch(fields); m != nil {
		k.keyID = m[1]
	}
	// The secret is the JSON string's content: unescape \n, \r, \/ and \\.
	var pemText string
	if err := json.Unmarshal([]byte(`"`+c.Secret+`"`), &pemText); err != nil {
		pemText = strings.NewReplacer(`\n`, "\n", `\r`, "").Replace(c.Secret)
	}
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("the private key is not PEM")
	}
	var priv any
	var err error
	if block.Type == "RSA PRIVATE KEY" {
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	} else {
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("the private key does not parse: %v", err)
	}
	rk, ok := priv.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the private key is a %T, not RSA (service-account keys are RSA)", priv)
	}
	k.priv = rk
	return k, nil
}

// assertion is the signed JWT (RS256) for the JWT bearer grant.
func (k *key) assertion(aud string, now time.Time) (string, error) {
	hdr := map[string]string{"alg": "RS256", "typ": "JWT"}
	if k.keyID != "" {
		hdr["kid"] = k.keyID
	}
	claims := map[string]any{"iss": k.email, "scope": Scope, "aud": aud, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	h, _ := json.Marshal(hdr)
	cl, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(cl)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.priv, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// tokenError is the OAuth 2.0 error body (RFC 6749 section 5.2).
type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// deadKey reports whether the token endpoint's error says the key or its
// account is gone: a signature Google no longer accepts (key deleted or
// disabled, or never Google's), an account not found or disabled.
func deadKey(status int, e tokenError) bool {
	d := strings.ToLower(e.Description)
	switch {
	case e.Error == "invalid_grant" && (strings.Contains(d, "invalid jwt signature") || strings.Contains(d, "account not found") || strings.Contains(d, "disabled")):
		return status == 400 || status == 401
	case e.Error == "invalid_client" && (strings.Contains(d, "not found") || strings.Contains(d, "disabled")):
		return status == 400 || status == 401
	}
	return false
}

func (s ServiceAccount) Verify(ctx context.Context, env *check.Env, c check.Credential) check.Result {
	k, err := parseKey(c)
	if err != nil {
		return check.UnknownResult("not checked: " + err.Error())
	}
	tokenURL := TokenURL
	if env.Endpoint != "" {
		tokenURL = strings.TrimSuffix(env.Endpoint, "/") + "/token"
	}
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	jwt, err := k.assertion(tokenURL, now())
	if err != nil {
		return check.UnknownResult("not checked: signing the assertion: " + err.Error())
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwt}}
	ctx, cancel := context.WithTimeout(ctx, timeout(env))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return check.UnknownResult(err.Error())
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if env.UserAgent != "" {
		req.Header.Set("User-Agent", env.UserAgent)
	}
	resp, err := env.HTTP.Do(req)
	if err != nil {
		return check.UnknownResult(strings.ReplaceAll(err.Error(), jwt, "<assertion>"))
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
	var ok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	var te tokenError
	isJSON := strings.HasPrefix(strings.TrimSpace(resp.Header.Get("Content-Type")), "application/json")
	switch {
	case resp.StatusCode == 200 && isJSON && json.Unmarshal(body, &ok) == nil && ok.AccessToken != "":
		// The token itself is never kept, shown or used.
		return check.Result{Status: finding.StatusLive, HTTPStatus: 200,
			Detail: fmt.Sprintf("Google issued an access token for service account %s", k.email),
			Access: &finding.Access{Identity: k.email, Account: k.project}}
	case isJSON && json.Unmarshal(body, &te) == nil && deadKey(resp.StatusCode, te):
		return check.Result{Status: finding.StatusInvalid, HTTPStatus: resp.StatusCode,
			Detail: fmt.Sprintf("Google refused the key of %s: %s %q", k.email, te.Error, clip(te.Description))}
	case isJSON && te.Error != "":
		return check.Result{Status: finding.StatusUnknown, HTTPStatus: resp.StatusCode,
			Detail: fmt.Sprintf("token endpoint answered %d %s %q", resp.StatusCode, te.Error, clip(te.Description))}
	}
	return check.Result{Status: finding.StatusUnknown, HTTPStatus: resp.StatusCode, Detail: fmt.Sprintf("token endpoint answered %d, not a documented reply", resp.StatusCode)}
}

func timeout(env *check.Env) time.Duration {
	if env.Timeout > 0 {
		return env.Timeout
	}
	return 10 * time.Second
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

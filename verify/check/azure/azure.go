// Package azure checks Microsoft Entra ID (Azure AD) application client
// secrets with the OAuth 2.0 client credentials grant: tenant, client id and
// secret are exchanged for a Microsoft Graph token, which is read for the
// app's name and roles and thrown away.
package azure

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
)

// Part rule ids (Credential.Parts) a composite azure-ad-client-secret finding
// carries, and the equivalent named groups (Credential.Groups) a rule's own
// regex may capture instead.
const (
	TenantPart   = "azure-tenant-id"
	ClientPart   = "azure-client-id"
	TenantGroup  = "tenant_id"
	ClientGroup  = "client_id"
	LoginBaseURL = "https://login.microsoftonline.com"
	// Scope asks for a Microsoft Graph app-only token; nothing is called with it.
	Scope = "https://graph.microsoft.com/.default"
)

// ClientSecret is the check.
//
// docs: https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#first-case-access-token-request-with-a-shared-secret
// (errors: https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes)
type ClientSecret struct{}

// Family is the --endpoint key (azure=URL replaces https://login.microsoftonline.com).
func (ClientSecret) Family() string { return "azure" }

// Host is where the secret goes.
func (ClientSecret) Host(endpoint string) string {
	return check.EndpointHost(endpoint, "login.microsoftonline.com")
}

var (
	guidRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	})
	// A tenant named by a verified domain (contoso.onmicrosoft.com): labels of
	// letters, digits and inner hyphens, at least two, at most 253 characters.
	domainRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	})
)

// validTenant reports whether t is a tenant GUID or a strict domain name: it is
// a path segment of the token URL, so it can change neither host nor path.
func validTenant(t string) bool {
	return guidRe().MatchString(t) || (len(t) <= 253 && domainRe().MatchString(t))
}

func part(c check.Credential, partID, group string) string {
	if v := strings.TrimSpace(c.Parts[partID]); v != "" {
		return v
	}
	return strings.TrimSpace(c.Groups[group])
}

// Documented AADSTS codes that say the secret is dead: 7000215 invalid client
// secret, 7000222 expired client secret.
var deadCodes = []int{7000215, 7000222}

type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
}

func (c ClientSecret) Verify(ctx context.Context, env *check.Env, cr check.Credential) check.Result {
	tenant, client := part(cr, TenantPart, TenantGroup), part(cr, ClientPart, ClientGroup)
	switch {
	case tenant == "" || client == "":
		return check.UnknownResult(fmt.Sprintf("not checked: a client secret verifies only with its tenant and client id (parts %s and %s nearby)", TenantPart, ClientPart))
	case !validTenant(strings.ToLower(tenant)):
		return check.UnknownResult(fmt.Sprintf("not checked: tenant %q is neither a GUID nor a domain name", clip(tenant)))
	case !guidRe().MatchString(client):
		return check.UnknownResult(fmt.Sprintf("not checked: client id %q is not a GUID", clip(client)))
	}
	tenant = strings.ToLower(tenant)
	base := LoginBaseURL
	if env.Endpoint != "" {
		base = strings.TrimSuffix(env.Endpoint, "/")
	}
	tokenURL := base + "/" + tenant + "/oauth2/v2.0/token"
	form := url.Values{"client_id": {client}, "client_secret": {cr.Secret}, "scope": {Scope}, "grant_type": {"client_credentials"}}
	d := env.Timeout
	if d <= 0 {
		d = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, d)
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
	isJSON := strings.HasPrefix(strings.TrimSpace(resp.Header.Get("Content-Type")), "application/json")
	var ok struct {
		AccessToken string `json:"access_token"`
	}
	var te tokenError
	switch {
	case resp.StatusCode == 200 && isJSON && json.Unmarshal(body, &ok) == nil && ok.AccessToken != "":
		a := &finding.Access{Identity: client, Account: tenant}
		if cl := claims(ok.AccessToken); cl != nil {
			if cl.App != "" {
				a.Identity = cl.App + " (" + client + ")"
			}
			if cl.Tenant != "" {
				a.Account = cl.Tenant
			}
			a.Scopes = cl.Roles
		}
		return check.Result{Status: finding.StatusLive, HTTPStatus: 200,
			Detail: fmt.Sprintf("Entra ID issued a Microsoft Graph token to app %s in tenant %s", client, tenant), Access: a}
	case isJSON && json.Unmarshal(body, &te) == nil && te.Error != "":
		code := ""
		if len(te.Codes) > 0 {
			code = fmt.Sprintf(" AADSTS%d", te.Codes[0])
		}
		if slices.ContainsFunc(te.Codes, func(n int) bool { return slices.Contains(deadCodes, n) }) ||
			(resp.StatusCode == 401 && te.Error == "invalid_client" && len(te.Codes) == 0) {
			return check.Result{Status: finding.StatusInvalid, HTTPStatus: resp.StatusCode,
				Detail: fmt.Sprintf("Entra ID refused the secret of app %s: %s%s", client, te.Error, code)}
		}
		return check.Result{Status: finding.StatusUnknown, HTTPStatus: resp.StatusCode,
			Detail: fmt.Sprintf("token endpoint answered %d %s%s: %s", resp.StatusCode, te.Error, code, clip(firstLine(te.Description)))}
	}
	return check.Result{Status: finding.StatusUnknown, HTTPStatus: resp.StatusCode, Detail: fmt.Sprintf("token endpoint answered %d, not a documented reply", resp.StatusCode)}
}

type tokenClaims struct {
	App    string   `json:"app_displayname"`
	Tenant string   `json:"tid"`
	Roles  []string `json:"roles"`
}

// claims reads an access token's payload (not verified: it came from the
// token endpoint over TLS, and only names and roles are shown).
func claims(tok string) *tokenClaims {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var c tokenClaims
	if json.Unmarshal(b, &c) != nil {
		return nil
	}
	return &c
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\r")
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

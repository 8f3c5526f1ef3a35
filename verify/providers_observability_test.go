package verify

import (
	"net/http"
	"slices"

	"github.com/tokenward/tokenward/finding"
)

// Fakes of observability and incident APIs, from each provider's documented
// responses.
var observabilityCases = []providerCase{
	{
		rule: "new-relic-user-api-key", docs: "https://docs.newrelic.com/docs/apis/nerdgraph/get-started/introduction-new-relic-nerdgraph/",
		secret: "NRAK-ZF35F1HMGJIXF9T83JQGHRTXX3Q",
		method: "POST", path: "/graphql", token: nerdGraphKey,
		live:       reply{body: `{"data":{"actor":{"user":{"name":"Grace Hopper","email":"grace@acme.example"}}}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"errors":[{"message":"Invalid API key","extensions":{"errorClass":"UNAUTHORIZED"}}]}`},
		wantDetail: "New Relic user Grace Hopper <grace@acme.example>",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "grace@acme.example" && a.Properties["name"] == "Grace Hopper"
		},
	},
	{
		rule: "sentry-org-token", docs: "https://docs.sentry.io/api/organizations/list-your-organizations/",
		secret: "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",
		path:   "/organizations/", token: bearerToken,
		live:       reply{status: http.StatusForbidden, body: `{"detail":"You do not have permission to perform this action."}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"detail":"Invalid token"}`},
		wantDetail: "valid but may not list organizations",
	},
	{
		rule: "sentry-user-token", docs: "https://docs.sentry.io/api/organizations/list-your-organizations/",
		secret: "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",
		path:   "/organizations/", token: bearerToken,
		live:       reply{body: `[{"id":"7","slug":"acme","status":{"id":"active","name":"active"},"name":"Acme","dateCreated":"2018-11-06T21:19:55.101Z","isEarlyAdopter":false,"require2FA":false,"features":["session-replay"],"links":{"organizationUrl":"https://acme.sentry.io","regionUrl":"https://us.sentry.io"}}]`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"detail":"Invalid token"}`},
		wantDetail: "Sentry user token; organization acme",
		wantAccess: func(a *finding.Access) bool { return a.Account == "acme" },
	},
	{
		rule: "sentry-access-token", docs: "https://docs.sentry.io/api/organizations/list-your-organizations/",
		secret: "f001c081849b39f2199092ec281fefbbdb954edd7328eaf590389417ef50ddab", sample: `SENTRY_AUTH_TOKEN := "f001c081849b39f2199092ec281fefbbdb954edd7328eaf590389417ef50ddab"`,
		path: "/organizations/", token: bearerToken,
		live:       reply{body: `[{"id":"7","slug":"acme","name":"Acme","dateCreated":"2018-11-06T21:19:55.101Z"}]`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"detail":"Invalid token"}`},
		wantDetail: "Sentry token; organization acme",
	},
	{
		rule: "grafana-cloud-api-token", docs: "https://grafana.com/docs/grafana-cloud/developer-resources/api-reference/cloud-api/#list-tokens",
		secret: "glc_eyJvIjoiWQLAIiKEXWMoOgSmDg5DvPmJIwh3niKSDbeahT6dSj1NaiYM5uNn67gV2VtBKCO+5kFigXlML9Zmv9DsUK+MXpC5WK63Jm802Bmg/amYIn9mCd5uD6SjHJMh=",
		path:   "/tokens?region=us&pageSize=1", token: bearerToken,
		live:       reply{body: `{"items":[{"id":"t-1","accessPolicyId":"ap-1","name":"ci-metrics","displayName":"CI metrics","expiresAt":null,"firstUsedAt":"2025-01-01T00:00:00Z","createdAt":"2025-01-01T00:00:00Z"}],"metadata":{"pagination":{"pageSize":1,"pageCursor":null,"nextPage":null}}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"code":"InvalidCredentials","message":"Token invalid"}`},
		wantDetail: "Grafana Cloud access policy token",
	},
	{
		rule: "pagerduty-api-key", docs: "https://developer.pagerduty.com/api-reference/",
		secret: "G3vAVF44THZPs2f7qF2b", sample: `PAGERDUTY_API_KEY: 'G3vAVF44THZPs2f7qF2b'`,
		path: "/abilities", token: pagerDutyToken,
		live:       reply{body: `{"abilities":["sso","advanced_reports","teams","read_only_users","team_responders","service_support_hours","urgencies"]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"Invalid Credentials","code":2006,"errors":["Invalid Credentials"]}}`},
		wantDetail: "account has 7 abilities",
		wantAccess: func(a *finding.Access) bool {
			return a.Resources != nil && *a.Resources == 7 && slices.Contains(a.Scopes, "teams")
		},
	},
	{
		rule: "opsgenie-api-key", docs: "https://docs.opsgenie.com/docs/account-api#get-account-info",
		secret: "62b75568-0a07-44fb-af4f-420cb48197bf", sample: `OPSGENIE_API_KEY=62b75568-0a07-44fb-af4f-420cb48197bf`,
		path: "/v2/account", token: schemeToken("GenieKey"),
		live:       reply{body: `{"data":{"name":"acme","userCount":1450,"plan":{"maxUserCount":1500,"name":"Enterprise","isYearly":true}},"took":0.084,"requestId":"6a4f7b53-1c3a-4f3e-9d1b-2b3c4d5e6f70"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"Could not authenticate","took":0.001,"requestId":"0f8b2f2e-0000-0000-0000-000000000000"}`},
		wantDetail: "Opsgenie account acme (Enterprise plan)",
		wantAccess: func(a *finding.Access) bool { return a.Account == "acme" && a.Properties["plan"] == "Enterprise" },
	},
	{
		rule: "honeycomb-api-key", docs: "https://docs.honeycomb.io/api/tag/Auth#operation/getAuth",
		secret: "KPulVjXBqQq0hqAdc5bMYb", sample: `<HONEYCOMB_API_KEY>KPulVjXBqQq0hqAdc5bMYb</HONEYCOMB_API_KEY>`,
		path: "/1/auth", token: headerToken("X-Honeycomb-Team"),
		live: reply{body: `{"id":"eSKz3QWnhZR","type":"configuration","api_key_access":{"events":true,"markers":true,"triggers":false,"boards":false,"queries":true,"columns":false,"createDatasets":true,"slos":false,"recipients":false,"privateBoards":false},` +
			`"environment":{"name":"Production","slug":"production"},"team":{"name":"Acme","slug":"acme"}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"unknown API key - check your credentials"}`},
		wantDetail: "Honeycomb configuration key of team Acme, environment Production",
		wantAccess: func(a *finding.Access) bool {
			return a.Account == "Acme" && a.Properties["environment"] == "Production" && a.Properties["key_type"] == "configuration" && a.Properties["api_key_access"] != ""
		},
	},
	{
		rule: "cisco-meraki-api-key", docs: "https://developer.cisco.com/meraki/api-v1/get-administered-identities-me/",
		secret: "c5a136248459a41eb2c5f9791d60b30657ea133a", sample: `export MERAKI_DASHBOARD_API_KEY="c5a136248459a41eb2c5f9791d60b30657ea133a"`,
		path: "/administered/identities/me", token: bearerToken,
		live:       reply{body: `{"name":"Miles Meraki","email":"miles@meraki.example","lastUsedDashboardAt":"2025-02-01T12:00:00Z","authentication":{"mode":"email","api":{"key":{"created":true}},"twoFactor":{"enabled":true},"saml":{"enabled":false}}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"errors":["Invalid API key"]}`},
		wantDetail: "Meraki Dashboard API key of Miles Meraki <miles@meraki.example>",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "miles@meraki.example" },
	},
}

// nerdGraphKey reads the API-Key header of a NerdGraph request that only reads
// the key's user.
func nerdGraphKey(r *http.Request, body []byte) string {
	if q := jsonToken("query")(r, body); q != "{ actor { user { name email } } }" {
		return ""
	}
	return r.Header.Get("API-Key")
}

// pagerDutyToken reads "Authorization: Token token=<key>".
func pagerDutyToken(r *http.Request, b []byte) string {
	v := schemeToken("Token")(r, b)
	if len(v) < len("token=") || v[:len("token=")] != "token=" {
		return ""
	}
	return v[len("token="):]
}

func init() { providerCases = append(providerCases, observabilityCases...) }

var observabilityCases2 = []providerCase{
	{
		rule: "axiom-api-token", docs: "https://axiom.co/docs/restapi/endpoints/getDatasets",
		secret: "xaat-14a063b2-6771-74a9-6225-e173ded73f4f",
		path:   "/v2/datasets", token: bearerToken,
		live:       reply{body: `[{"id":"logs","name":"logs","description":"Application logs","who":"f83e245a-afdc-47ad-a765-4addd1994333","created":"2025-01-01T00:00:00Z"}]`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"code":401,"message":"invalid token"}`},
		wantDetail: "Axiom API token; dataset logs",
	},
	{
		rule: "posthog-personal-api-key", docs: "https://posthog.com/docs/api/users",
		secret: "phx_SpIZI7hJi1B33JKME5qi66F2MhVJj6CHPU1pdoZyjdE",
		path:   "/api/users/@me/", token: bearerToken,
		live:       reply{body: `{"date_joined":"2024-01-01T00:00:00Z","uuid":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","distinct_id":"abc","first_name":"Grace","email":"grace@acme.example","is_email_verified":true,"organization":{"id":"0190a1b2-0000-7000-8000-000000000001","name":"Acme"},"team":{"id":1,"name":"Default project"}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"type":"authentication_error","code":"authentication_failed","detail":"Personal API key found in request Authorization header is invalid.","attr":null}`},
		wantDetail: "PostHog user grace@acme.example of organization Acme",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace@acme.example" && a.Account == "Acme" },
	},
}

func init() { providerCases = append(providerCases, observabilityCases2...) }

package verify

import (
	"net/http"

	"github.com/tokenward/tokenward/finding"
)

// Composite credentials: the spec reads the companion as {{part.RULE-ID}}.
var compositeCases = []providerCase{
	{
		rule: "twilio-auth-token", docs: "https://www.twilio.com/docs/usage/api/account#fetch-an-account-resource",
		secret: "310e89038b0612599d5e2bf39a5b8398", sample: `TWILIO_AUTH_TOKEN="310e89038b0612599d5e2bf39a5b8398"`,
		parts: map[string]string{"twilio-account-sid": "ACbe861d8601a94b3cc4bd8d91069b9c61"},
		path:  "/2010-04-01/Accounts/ACbe861d8601a94b3cc4bd8d91069b9c61.json", token: basicPassword,
		live: reply{body: `{"sid":"ACbe861d8601a94b3cc4bd8d91069b9c61","friendly_name":"Acme prod","status":"active","type":"Full",` +
			`"date_created":"Thu, 30 Jul 2015 20:00:00 +0000","uri":"/2010-04-01/Accounts/ACbe861d8601a94b3cc4bd8d91069b9c61.json"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`},
		wantDetail: "Twilio account Acme prod (active)",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "Acme prod" && a.Properties["status"] == "active" && a.Properties["type"] == "Full"
		},
	},
	{
		rule: "datadog-api-key", docs: "https://docs.datadoghq.com/api/latest/authentication/#validate-api-key",
		secret: "4339639a695572816c9ba1a1bd39abfb", sample: "DD_API_KEY=4339639a695572816c9ba1a1bd39abfb",
		path: "/api/v1/validate", token: headerToken("DD-API-KEY"),
		live:       reply{body: `{"valid":true}`},
		invalid:    reply{status: http.StatusForbidden, body: `{"errors":["Forbidden"]}`},
		wantDetail: "Datadog API key",
	},
	{
		rule: "datadog-app-key", docs: "https://docs.datadoghq.com/api/latest/key-management/#get-all-application-keys-owned-by-current-user",
		secret: "1cf0f83cba1f09dec5a0bc8207d308dbb562fa26", sample: "DD_APP_KEY: '1cf0f83cba1f09dec5a0bc8207d308dbb562fa26'",
		parts: map[string]string{"datadog-api-key": "4339639a695572816c9ba1a1bd39abfb"},
		path:  "/api/v2/current_user/application_keys?page%5Bsize%5D=1", token: headerToken("DD-APPLICATION-KEY"),
		live: reply{body: `{"data":[{"type":"application_keys","id":"00000000-0000-1234-0000-000000000000",` +
			`"attributes":{"created_at":"2020-11-23T10:00:00.000Z","last4":"fa26","name":"ci"}}],"meta":{"page":{"total_filtered_count":3}}}`},
		invalid:    reply{status: http.StatusForbidden, body: `{"errors":["Forbidden"]}`},
		wantDetail: "Datadog API and application key pair",
		wantAccess: func(a *finding.Access) bool {
			return a.Resources != nil && *a.Resources == 3 && a.ResourceKind == "application keys of its user"
		},
	},
	{
		rule: "algolia-admin-api-key", docs: "https://www.algolia.com/doc/rest-api/search/list-indices",
		secret: "e392ffea2be928158aad49b81fd307e4", sample: `"ALGOLIA_ADMIN_KEY": "e392ffea2be928158aad49b81fd307e4",`,
		parts: map[string]string{"algolia-app-id": "R2LHTYCXAB"},
		path:  "/1/indexes?page=0&hitsPerPage=1", token: headerToken("X-Algolia-API-Key"),
		live: reply{body: `{"items":[{"name":"contacts","createdAt":"2023-01-01T00:00:00.000Z","updatedAt":"2023-01-02T00:00:00.000Z",` +
			`"entries":100,"dataSize":2048,"fileSize":4096,"lastBuildTimeS":0,"numberOfPendingTasks":0,"pendingTask":false}],"nbPages":4}`},
		invalid:    reply{status: http.StatusForbidden, body: `{"message":"Invalid Application-ID or API key","status":403}`},
		wantDetail: "Algolia application key",
		wantAccess: func(a *finding.Access) bool {
			return a.Resources != nil && *a.Resources == 4 && a.ResourceKind == "indices"
		},
	},
	{
		rule: "okta-api-token", docs: "https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/getUser",
		secret: "00vcfRvT7XGByuoyu4IJGMbIHerTFjGgieqzh3Une1", sample: "OKTA_API_TOKEN=00vcfRvT7XGByuoyu4IJGMbIHerTFjGgieqzh3Une1",
		parts: map[string]string{"okta-org-url": "dev-31415926"},
		path:  "/api/v1/users/me", token: schemeToken("SSWS"),
		live: reply{body: `{"id":"00ub0oNGTSWTBKOLGLNR","status":"ACTIVE","created":"2013-06-24T16:39:18.000Z",` +
			`"profile":{"firstName":"Isaac","lastName":"Brock","email":"isaac.brock@example.com","login":"isaac.brock@example.com"}}`},
		invalid: reply{status: http.StatusUnauthorized, body: `{"errorCode":"E0000011","errorSummary":"Invalid token provided",` +
			`"errorLink":"E0000011","errorId":"oaeZ0mp2rBnQTGhGlv4pA_nWg","errorCauses":[]}`},
		wantDetail: "Okta user isaac.brock@example.com (ACTIVE)",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "isaac.brock@example.com" && a.Properties["status"] == "ACTIVE"
		},
		revokeMethod: "DELETE", revokePath: "/api/v1/api-tokens/current",
		revoked: reply{status: http.StatusNoContent},
	},
	{
		rule: "shopify-access-token", docs: "https://shopify.dev/docs/api/admin-rest/latest/resources/shop#get-shop",
		secret: "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",
		parts:  map[string]string{"shopify-shop-domain": "acme-outlet"},
		path:   "/admin/api/2025-01/shop.json", token: headerToken("X-Shopify-Access-Token"),
		live: reply{body: `{"shop":{"id":548380009,"name":"John Smith Test Store","email":"j.smith@example.com",` +
			`"domain":"shop.apple.com","myshopify_domain":"acme-outlet.myshopify.com","plan_name":"enterprise"}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`},
		wantDetail: "Shopify shop John Smith Test Store",
		wantAccess: func(a *finding.Access) bool {
			return a.Account == "John Smith Test Store" && a.Properties["plan"] == "enterprise"
		},
	},
	{
		rule: "mailgun-private-api-token", docs: "https://documentation.mailgun.com/docs/mailgun/api-reference/openapi-final/tag/Domains/#tag/Domains/operation/GET-v4-domains",
		secret: "key-63624df4c707450f88bf8addefa8b519",
		path:   "/v4/domains?limit=1", token: basicPassword,
		live: reply{body: `{"items":[{"created_at":"Tue, 14 Jul 2020 19:13:19 GMT","id":"5f0e0f0f0f0f0f0f0f0f0f0f","is_disabled":false,` +
			`"name":"mg.example.com","require_tls":false,"smtp_login":"postmaster@mg.example.com","spam_action":"disabled","state":"active","type":"custom"}],"total_count":2}`},
		invalid:    reply{status: http.StatusUnauthorized, body: "Forbidden", header: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		wantDetail: "Mailgun account with 2 domains",
		wantAccess: func(a *finding.Access) bool {
			return a.Account == "mg.example.com" && a.Resources != nil && *a.Resources == 2 && a.ResourceKind == "sending domains"
		},
	},
	{
		rule: "atlassian-api-token", docs: "https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/#api-rest-api-3-myself-get",
		secret: "ATATT3xFfGF0QPMlaPnoYmWVcJhFayluqGqEs0Pmqs8u5NGa-ShSWg6j9JKC2RVqKa0eQuP9dOyIJCZlw_C2ktjhDE3mLP9bFN_m2L8Eue6unVIHz-B-iOwsrG9Dl26zUrAtzgKCc0NDg3vuVYJ9pIaDEaj5vbWNTcmu61r07ou4gZG3gbBEonQ=B3CC4BD8",
		parts:  map[string]string{"atlassian-site": "acme", "atlassian-account-email": "grace@acme-corp.io"},
		path:   "/rest/api/3/myself", token: basicPassword,
		live: reply{body: `{"self":"https://acme.atlassian.net/rest/api/3/user?accountId=5b10a2844c20165700ede21g","accountId":"5b10a2844c20165700ede21g",` +
			`"accountType":"atlassian","displayName":"Mia Krystof","active":true,"timeZone":"Australia/Sydney"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `Client must be authenticated to access this resource.`, header: map[string]string{"Content-Type": "text/plain;charset=UTF-8"}},
		wantDetail: "Atlassian user Mia Krystof",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "Mia Krystof" && a.Properties["account_id"] == "5b10a2844c20165700ede21g"
		},
	},
}

func init() { providerCases = append(providerCases, compositeCases...) }

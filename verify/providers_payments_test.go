package verify

import (
	"net/http"

	"github.com/tokenward/tokenward/finding"
)

// Fakes for the payment and commerce APIs of rules/builtin/payments.toml, each
// built from the documentation its docs field cites.
var paymentsCases = []providerCase{
	{
		rule: "stripe-live-secret-key", docs: "https://docs.stripe.com/api/accounts/retrieve",
		secret: "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",
		path:   "/v1/account", token: bearerToken,
		live:       reply{body: stripeAccount},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"Invalid API Key provided: sk_live_********************HnHZ","type":"invalid_request_error"}}`},
		wantDetail: "Stripe live secret key of account acct_1Nv0FGQ9RKHgCVdK (US, charges enabled: true)",
		wantAccess: func(a *finding.Access) bool {
			return a.Account == "acct_1Nv0FGQ9RKHgCVdK" && a.Identity == "jenny.rosen@example.com" && a.Properties["livemode"] == "true"
		},
	},
	{
		rule: "stripe-restricted-key", docs: "https://docs.stripe.com/api/accounts/retrieve",
		secret: "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",
		path:   "/v1/account", token: bearerToken,
		live:       reply{body: stripeAccount},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"Invalid API Key provided: rk_live_********************cFu","type":"invalid_request_error"}}`},
		wantDetail: "Stripe restricted key of account acct_1Nv0FGQ9RKHgCVdK (may read the account)",
		wantAccess: func(a *finding.Access) bool {
			return a.Account == "acct_1Nv0FGQ9RKHgCVdK" && a.Properties["key_type"] == "restricted"
		},
	},
	{
		rule: "stripe-restricted-key", docs: "https://docs.stripe.com/keys#limit-access",
		secret: "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",
		path:   "/v1/account", token: bearerToken,
		live:       reply{status: http.StatusForbidden, body: `{"error":{"message":"The provided key 'rk_live_*****************************************cFu' does not have the required permissions for this endpoint on account 'acct_1Nv0FGQ9RKHgCVdK'. Having the 'rak_accounts_kyc_basic_read' permission would allow this request to continue.","type":"invalid_request_error"}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"Invalid API Key provided","type":"invalid_request_error"}}`},
		wantDetail: "Stripe restricted key of account acct_1Nv0FGQ9RKHgCVdK (may not read the account; needs rak_accounts_kyc_basic_read)",
		wantAccess: func(a *finding.Access) bool { return a.Account == "acct_1Nv0FGQ9RKHgCVdK" },
	},
	{
		rule: "stripe-test-key", docs: "https://docs.stripe.com/api/accounts/retrieve",
		secret: "sk_test_gwjywfMiKIFYwqXxQehP6yO8eqay23c3bUywCo1Ppkpy64KZXREd80VlRJzV6etQMSq514vZDHwd261idNAyiEpYjQ928Fy1Ghu",
		path:   "/v1/account", token: bearerToken,
		live:       reply{body: stripeAccount},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"Invalid API Key provided","type":"invalid_request_error"}}`},
		wantDetail: "Stripe test-mode key of account acct_1Nv0FGQ9RKHgCVdK",
		wantAccess: func(a *finding.Access) bool { return a.Properties["livemode"] == "false" },
	},
	{
		rule: "square-access-token", docs: "https://developer.squareup.com/reference/square/merchants-api/retrieve-merchant",
		secret: "EAAA3258qhuUFkWnCYVaFPNPv0MibOGztVjC3sMnERKxmoqN15NX4Zu66ZmqK0F4",
		path:   "/v2/merchants/me", token: bearerToken,
		live:       reply{body: `{"merchant":{"id":"DM7VKY8Q63GNP","business_name":"Apple A Day","country":"US","language_code":"en-US","currency":"USD","status":"ACTIVE","main_location_id":"9A65CGC72ZQG1","created_at":"2021-12-10T19:25:52.484Z"}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"errors":[{"category":"AUTHENTICATION_ERROR","code":"UNAUTHORIZED","detail":"This request could not be authorized."}]}`},
		wantDetail: "Square merchant Apple A Day (ACTIVE)",
		wantAccess: func(a *finding.Access) bool { return a.Account == "DM7VKY8Q63GNP" },
	},
	{
		rule: "flutterwave-secret-key", docs: "https://developer.flutterwave.com/v3.0/reference/get-all-wallet-balances",
		secret: "FLWSECK_TEST-3d2da8167b32b2de413aa76fb3670405-X",
		path:   "/v3/balances", token: bearerToken,
		live:       reply{body: `{"status":"success","message":"Wallet balances fetched","data":[{"currency":"NGN","available_balance":2000,"ledger_balance":2500},{"currency":"USD","available_balance":10,"ledger_balance":10}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"status":"error","message":"Invalid authorization key","data":null}`},
		wantDetail: "Flutterwave secret key (2 wallet balances)",
		wantAccess: func(a *finding.Access) bool { return a.Resources != nil && *a.Resources == 2 },
	},
	goCardlessCase("gocardless-api-token", "live_yQwpuP6pRE3qFs8bH8U_IgzSZ1DGy8kPlUjSvvqy"),
	goCardlessCase("gocardless-sandbox-api-token", "sandbox_T0drd4maF0z0bH82rAnngLKe0PQmt1hDjuwFIU9_"),
	{
		rule: "duffel-api-token", docs: "https://duffel.com/docs/api/v2/airlines/get-airlines",
		secret: "duffel_live_tG9R_QJDzvQiFkdu-uplhtezPJ_a5W0YydFsU6V6zAH",
		path:   "/air/airlines?limit=1", token: bearerToken,
		live:       reply{body: `{"meta":{"limit":1,"after":"g2wAAAACbQAAABBBZXJvbWlzdC1LaGFya2l2bQAAAB="},"data":[{"name":"British Airways","id":"arl_00001876aqC8c5umZmrRds","iata_code":"BA"}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"meta":{"status":401,"request_id":"FZW0H3HdJwKk5HMAAKxB"},"errors":[{"type":"authentication_error","title":"Invalid authentication","message":"The provided authentication token is not valid","code":"invalid_authentication"}]}`},
		wantDetail: "Duffel access token",
	},
	{
		rule: "easypost-api-token", docs: "https://docs.easypost.com/docs/users#retrieve-a-user",
		secret: "EZAKW1gsS0tQEsSjDQgBlWEVOkYy5Sdl7FneDQ4C2VgTsZqI2M1fFwZrb1",
		path:   "/v2/users", token: basicUser,
		live:       reply{body: `{"id":"user_060ab38db3c04ffaa60f262e5781a9be","object":"User","parent_id":null,"name":"Grace Hopper","phone_number":"","verified":true,"created_at":"2022-10-14T17:23:58Z","email":"grace@example.com","children":[]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"code":"APIKEY.INACTIVE","message":"This api key is no longer active. Please use a different api key or reactivate this key.","errors":[]}}`},
		wantDetail: "EasyPost production key of user user_060ab38db3c04ffaa60f262e5781a9be",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace@example.com" },
	},
	{
		rule: "easypost-test-api-token", docs: "https://docs.easypost.com/docs/addresses#retrieve-a-list-of-addresses",
		secret: "EZTKOFl7jr2f5omQGtKORC3VhpUMpQjn8ntInnswmOx7QnNZI7sDXWzqy9",
		path:   "/v2/addresses?page_size=1", token: basicUser,
		live:       reply{body: `{"addresses":[],"has_more":false}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"code":"APIKEY.REQUIRED","message":"We were unable to authenticate your request.","errors":[]}}`},
		wantDetail: "EasyPost test-mode key",
	},
	{
		rule: "lob-api-key", docs: "https://docs.lob.com/#tag/Authentication",
		secret: "live_3c4870bfbc25dbdd18f1168dce347e13946", sample: `<LOB_API_KEY>live_3c4870bfbc25dbdd18f1168dce347e13946</LOB_API_KEY>`,
		path: "/v1/addresses?limit=1", token: basicUser,
		live:       reply{body: `{"data":[],"object":"list","next_url":null,"previous_url":null,"count":0}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"Your API key is not valid. Please sign up on lob.com to get a valid api key.","status_code":401,"code":"unauthorized"}}`},
		wantDetail: "Lob secret API key",
	},
	{
		rule: "shippo-api-token", docs: "https://docs.goshippo.com/docs/guides_general/authentication/",
		secret: "shippo_live_933995c6b220b49d17cac9c77cb943563f0486e4",
		path:   "/addresses/?results=1", token: schemeToken("ShippoToken"),
		live:       reply{body: `{"next":null,"previous":null,"results":[]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"detail":"Invalid token."}`},
		wantDetail: "Shippo API token",
	},
	{
		rule: "squarespace-access-token", docs: "https://developers.squarespace.com/commerce-apis/retrieve-basic-site-info",
		secret: "0f45c20e-963a-4e9c-a260-ab8b37c474ad", sample: `System.setProperty("SQUARESPACE_API_KEY", "0f45c20e-963a-4e9c-a260-ab8b37c474ad")`,
		path: "/1.0/authorization/website", token: bearerToken,
		live:       reply{body: `{"id":"5f1b4c0e8d2f3a0012345678","url":"https://acme.squarespace.com","siteTitle":"Acme","isHttpsEnabled":true,"language":"en-US","timeZone":"America/New_York","measurementStandard":"IMPERIAL","currency":"USD"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"type":"AUTHORIZATION_ERROR","subtype":null,"message":"Unauthorized","details":null,"contextId":"IEBGYLWDLSYDPDFKFIUM"}`},
		wantDetail: "Squarespace website Acme (https://acme.squarespace.com)",
		wantAccess: func(a *finding.Access) bool { return a.Account == "5f1b4c0e8d2f3a0012345678" },
	},
	{
		rule: "mollie-api-key", docs: "https://docs.mollie.com/reference/list-methods",
		secret: "live_2faYVOJvMNrpAgpXnFSJXLG8rcmk3A", sample: `MOLLIE_API_KEY: 'live_2faYVOJvMNrpAgpXnFSJXLG8rcmk3A'`,
		path: "/v2/methods", token: bearerToken,
		live:       reply{body: `{"count":2,"_embedded":{"methods":[{"resource":"method","id":"ideal","description":"iDEAL"},{"resource":"method","id":"creditcard","description":"Card"}]},"_links":{"self":{"href":"https://api.mollie.com/v2/methods","type":"application/hal+json"}}}`, header: map[string]string{"Content-Type": "application/hal+json"}},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"status":401,"title":"Unauthorized Request","detail":"Missing authentication, or failed to authenticate","_links":{"documentation":{"href":"https://docs.mollie.com/overview/authentication","type":"text/html"}}}`, header: map[string]string{"Content-Type": "application/hal+json"}},
		wantDetail: "Mollie API key (2 payment methods enabled)",
	},
}

const stripeAccount = `{"id":"acct_1Nv0FGQ9RKHgCVdK","object":"account","business_profile":{"name":"Acme","url":"https://acme.example"},"business_type":"company","capabilities":{"card_payments":"active","transfers":"active"},"charges_enabled":true,"country":"US","default_currency":"usd","details_submitted":true,"email":"jenny.rosen@example.com","payouts_enabled":true,"type":"standard"}`

func goCardlessCase(rule, secret string) providerCase {
	return providerCase{
		rule: rule, docs: "https://developer.gocardless.com/api-reference/#creditors-list-creditors",
		secret: secret, sample: `GOCARDLESS_ACCESS_TOKEN := "` + secret + `"`,
		path: "/creditors?limit=1", token: bearerToken,
		live:       reply{body: `{"creditors":[{"id":"CR123","created_at":"2014-05-08T17:01:06.000Z","name":"Nude Wines","country_code":"GB"}],"meta":{"cursors":{"before":null,"after":null},"limit":1}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"Access token not found","errors":[{"reason":"access_token_not_found","message":"Access token not found"}],"documentation_url":"https://developer.gocardless.com/api-reference#access_token_not_found","type":"invalid_api_usage","request_id":"deadbeef-0000-4000-0000-444400004444","code":401}}`},
		wantDetail: "(creditor Nude Wines)",
		wantAccess: func(a *finding.Access) bool { return a.Account == "Nude Wines" },
	}
}

func init() { providerCases = append(providerCases, paymentsCases...) }

package verify

import (
	"net/http"

	"github.com/tokenward/tokenward/finding"
)

// Fakes for the CI/CD, developer-tool and SaaS APIs of
// rules/builtin/devtools.toml, each built from the documentation its docs field
// cites.
var devtoolsCases = []providerCase{
	circleCICase("circleci-personal-token", "CCIPAT_MKBFy7L3FAGl7TW8mwHqy7_812cf279ea8114eb780cbfeb0c2af27c14722376", ""),
	circleCICase("circleci-api-token", "b595c6c3eca81d6230a0500a303430902021cc4c", `export CIRCLECI_TOKEN="b595c6c3eca81d6230a0500a303430902021cc4c"`),
	{
		rule: "travisci-access-token", docs: "https://developer.travis-ci.com/resource/user",
		secret: "q7atxari4bkwquly5ns9zm", sample: `export TRAVIS_TOKEN="q7atxari4bkwquly5ns9zm"`,
		path: "/user", token: schemeToken("token"),
		live:       reply{body: `{"@type":"user","@href":"/user/1234","@representation":"standard","@permissions":{"read":true,"sync":true},"id":1234,"login":"grace","name":"Grace Hopper","github_id":5678,"is_syncing":false}`},
		invalid:    reply{status: http.StatusForbidden, body: `{"@type":"error","error_type":"login_required","error_message":"login required"}`},
		wantDetail: "Travis CI user grace",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace" },
	},
	{
		rule: "buildkite-api-token", docs: "https://buildkite.com/docs/apis/rest-api/access-token",
		secret: "bkua_4a4e11be30a23d743f760b1c30f57569b3be9f55",
		path:   "/v2/access-token", token: bearerToken,
		live:         reply{body: `{"uuid":"b63254c0-3271-4a98-8270-7cfbd6c2f14e","scopes":["read_build","read_user"],"description":"ci","created_at":"2026-01-01T00:00:00.000Z","user":{"name":"Grace Hopper","email":"grace@example.com"}}`},
		invalid:      reply{status: http.StatusUnauthorized, body: `{"message":"Authentication required. Please supply a valid API Access Token"}`},
		wantDetail:   "Buildkite token of grace@example.com",
		wantAccess:   func(a *finding.Access) bool { return a.Identity == "grace@example.com" && len(a.Scopes) == 2 },
		revokeMethod: "DELETE", revokePath: "/v2/access-token",
		revoked: reply{status: http.StatusNoContent},
	},
	{
		rule: "snyk-api-token", docs: "https://docs.snyk.io/snyk-api/reference/users#get-self",
		secret: "765cad64-0a44-4eba-ae81-8efccd795b1c", sample: `export SNYK_TOKEN="765cad64-0a44-4eba-ae81-8efccd795b1c"`,
		path: "/rest/self?version=2024-10-15", token: schemeToken("token"),
		live:       reply{body: `{"jsonapi":{"version":"1.0"},"data":{"type":"user","id":"55a348e2-c3ad-4bbc-b40e-9b232d1f4121","attributes":{"name":"Grace Hopper","username":"grace","email":"grace@example.com","avatar_url":""}}}`, header: map[string]string{"Content-Type": "application/vnd.api+json"}},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"jsonapi":{"version":"1.0"},"errors":[{"status":"401","detail":"Unauthorized"}]}`},
		wantDetail: "Snyk user grace",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace" },
	},
	{
		rule: "postman-api-token", docs: "https://learning.postman.com/docs/developer/postman-api/authentication/",
		secret: "PMAK-fd9198942876baa02ab5add4-25a4bc90eaa9c0a1cdd883c9f21c4a3427",
		path:   "/me", token: headerToken("X-Api-Key"),
		live:       reply{body: `{"user":{"id":12345678,"username":"grace","email":"grace@example.com","fullName":"Grace Hopper","avatar":"","isPublic":false,"teamId":123,"teamName":"Acme","teamDomain":"acme"},"operations":[{"name":"api_usage","limit":1000,"usage":8,"overage":0}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"name":"AuthenticationError","message":"Invalid API Key. Every request requires a valid API Key to be sent."}}`},
		wantDetail: "Postman user grace (team Acme)",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace" && a.Account == "Acme" },
	},
	{
		rule: "readme-api-token", docs: "https://docs.readme.com/main/reference/getproject",
		secret: "rdme_4to49kn5d4jhfynewollnra9vao4i4wd4i5i9ebzxircsox95xusqwpzhe5n62l0mzocwk",
		path:   "/api/v1", token: basicUser,
		live:       reply{body: `{"name":"Acme Docs","subdomain":"acme","parent":null,"jwtSecret":"","baseUrl":"https://docs.acme.example","plan":"business"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"APIKEY_NOTFOUND","message":"We couldn't find your API key.","suggestion":"","docs":"","help":"","poem":[]}`},
		wantDetail: "ReadMe project Acme Docs",
	},
	{
		rule: "prefect-api-token", docs: "https://docs.prefect.io/v3/api-ref/rest-api/cloud/me/read-me",
		secret: "pnu_8bDGrabBFW7fs2RKJe2gPaoPtH5LHVfKWy1p",
		path:   "/api/me/", token: bearerToken,
		live:       reply{body: `{"id":"2d6b8f0e-3a4c-4c5e-9a1b-0f8e7d6c5b4a","email":"grace@example.com","first_name":"Grace","last_name":"Hopper","handle":"grace"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"detail":"Invalid authentication credentials"}`},
		wantDetail: "Prefect Cloud user grace",
	},
	{
		rule: "typeform-api-token", docs: "https://www.typeform.com/developers/account/reference/retrieve-own-account/",
		secret: "tfp_zUqGPYJRhRXnpTG7vJyX_mclH1YCvMAbVf7qHMMpeb5w_NfjCYPBxMHH2nF",
		path:   "/me", token: bearerToken,
		live:       reply{body: `{"alias":"grace","email":"grace@example.com","language":"en","user_id":"01ABCDEFGHJKMNPQRSTVWXYZ"}`},
		invalid:    reply{status: http.StatusForbidden, body: `{"code":"AUTHENTICATION_FAILED","description":"Authentication credentials not found on the Request Headers"}`},
		wantDetail: "Typeform account grace",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace@example.com" },
	},
	{
		rule: "linear-api-key", docs: "https://linear.app/developers/graphql#authentication",
		secret: "lin_api_qpR5FDwi8xi4un9mTXFxUWIwOtOwiDYg9bagnTU2",
		method: "POST", path: "/graphql", token: headerToken("Authorization"),
		live:       reply{body: linearViewer},
		invalid:    reply{status: http.StatusBadRequest, body: linearUnauthenticated},
		wantDetail: "Linear user Grace Hopper in Acme",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace@example.com" && a.Account == "Acme" },
	},
	{
		rule: "linear-oauth-token", docs: "https://linear.app/developers/oauth-2-0-authentication#revoke-an-access-token",
		secret: "lin_oauth_4b7b3fc0d2863e40032a2a3920d0e933995c6b220b49d17cac9c77cb943563f0",
		method: "POST", path: "/graphql", token: bearerToken,
		live:       reply{body: linearViewer},
		invalid:    reply{status: http.StatusBadRequest, body: linearUnauthenticated},
		wantDetail: "Linear OAuth token of Grace Hopper in Acme",
		revokePath: "/oauth/revoke",
		revoked:    reply{body: `{}`},
	},
	{
		rule: "launchdarkly-access-token", docs: "https://launchdarkly.com/docs/api/other/get-caller-identity",
		secret: "api-05883db5-8abd-4e37-a793-8be51c96a813", sample: `  LAUNCHDARKLY_ACCESS_TOKEN: api-05883db5-8abd-4e37-a793-8be51c96a813`,
		path: "/api/v2/caller-identity", token: headerToken("Authorization"),
		live:       reply{body: `{"accountId":"5f6e1c2d3b4a5f6e1c2d3b4a","authKind":"token","tokenKind":"personal","tokenName":"ci-reader","tokenId":"61e1c2d3b4a5f6e1c2d3b4a5","memberId":"5f6e1c2d3b4a5f6e1c2d3b4b","serviceToken":false,"clientId":"","environmentId":"","environmentName":"","projectId":"","projectName":""}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"code":"unauthorized","message":"Invalid access token"}`},
		wantDetail: "LaunchDarkly token personal ci-reader of account 5f6e1c2d3b4a5f6e1c2d3b4a",
		wantAccess: func(a *finding.Access) bool {
			return a.Account == "5f6e1c2d3b4a5f6e1c2d3b4a" && a.Properties["token_kind"] == "personal"
		},
	},
	{
		rule: "adafruit-api-key", docs: "https://io.adafruit.com/api/docs/#get-user-info",
		secret: "5syeyezjfpiz75st192lqb0ruljou3xm", sample: `ADAFRUIT_IO_KEY=5syeyezjfpiz75st192lqb0ruljou3xm`,
		path: "/api/v2/user", token: headerToken("X-AIO-Key"),
		live:       reply{body: `{"id":1234,"name":"Grace Hopper","username":"grace","time_zone":"America/New_York","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-02-01T00:00:00Z"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"request failed - invalid API key"}`},
		wantDetail: "Adafruit IO user grace",
	},
	notionCase("notion-api-token", "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", ""),
	notionCase("notion-legacy-secret", "secret_Zm5Aj5Di9e2Y2MpIuSWiAqKEIcqIWlwQbhVvUEiXMz3", `NOTION_TOKEN := "secret_Zm5Aj5Di9e2Y2MpIuSWiAqKEIcqIWlwQbhVvUEiXMz3"`),
	{
		rule: "airtable-personal-access-token", docs: "https://airtable.com/developers/web/api/get-user-id-scopes",
		secret: "patZOUKZGMtsbnmfH.13b78cb0610e1ccb5823effc8cbbf55031d11e62d217ae7696a30f7b33fda86a",
		path:   "/v0/meta/whoami", token: bearerToken,
		live:       reply{body: `{"id":"usrL2PNC5o3H4lBEi","email":"grace@example.com","scopes":["data.records:read","schema.bases:read"]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"type":"AUTHENTICATION_REQUIRED","message":"Authentication required"}}`},
		wantDetail: "Airtable user usrL2PNC5o3H4lBEi",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "grace@example.com" && len(a.Scopes) == 2 && a.Scopes[0] == "data.records:read"
		},
	},
	{
		rule: "asana-personal-access-token", docs: "https://developers.asana.com/reference/getuser",
		secret: "2/4190469623870911/2119337762314677:1bedee8f783e60ace427bca32771a2b9",
		path:   "/api/1.0/users/me", token: bearerToken,
		live:       reply{body: `{"data":{"gid":"12345","resource_type":"user","name":"Grace Hopper","email":"grace@example.com","workspaces":[{"gid":"1","resource_type":"workspace","name":"Acme"},{"gid":"2","resource_type":"workspace","name":"Personal"}]}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"errors":[{"message":"Not Authorized","help":"For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors"}]}`},
		wantDetail: "Asana user Grace Hopper (2 workspaces)",
		wantAccess: func(a *finding.Access) bool {
			return a.Resources != nil && *a.Resources == 2 && a.ResourceKind == "workspaces"
		},
	},
	{
		rule: "frameio-api-token", docs: "https://developer.frame.io/api/reference/operation/getMe/",
		secret: "fio-u-NQQz8GNYAwarxEW8YNlDQMJuH_WrvlzVssNl_vKHJ1QQhN_tmE5NmTKnJ_e5G9sr",
		path:   "/v2/me", token: bearerToken,
		live:       reply{body: `{"id":"b9b0ab9d-1a8b-4b8c-9c2f-1e0d9a8b7c6d","email":"grace@example.com","name":"Grace Hopper","account_id":"a1"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"code":401,"errors":[{"code":401,"detail":"The access token used in the request is invalid.","status":401,"title":"Invalid Token"}],"message":"Invalid Token"}`},
		wantDetail: "Frame.io user grace@example.com",
	},
	{
		rule: "dropbox-short-lived-token", docs: "https://www.dropbox.com/developers/documentation/http/documentation#users-get_current_account",
		secret: "sl.BdogvFkj55jwhc601T2GJkhrw_CbMs69qRQjmb_ROWHr-y0EthWdSXM6xN9vUZldQAT0OU0WwLtuLeHEMP5t0PmDFe0428EmGWO3vpGE4cs34c9MFKQEhtOMgiBUcVbiWuCSJqhLg4eOp",
		method: "POST", path: "/2/users/get_current_account", token: bearerToken,
		live:       reply{body: `{"account_id":"dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc","name":{"given_name":"Franz","surname":"Ferdinand","familiar_name":"Franz","display_name":"Franz Ferdinand (Personal)","abbreviated_name":"FF"},"email":"franz@dropbox.com","email_verified":true,"disabled":false,"locale":"en","country":"US","account_type":{".tag":"basic"}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error_summary":"invalid_access_token/...","error":{".tag":"invalid_access_token"}}`},
		wantDetail: "Dropbox account franz@dropbox.com",
		wantAccess: func(a *finding.Access) bool { return a.Account == "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc" },
		revokePath: "/2/auth/token/revoke",
		revoked:    reply{body: `null`},
	},
	{
		rule: "mapbox-secret-token", docs: "https://docs.mapbox.com/api/accounts/tokens/#retrieve-a-token",
		secret: "sk.eyJ1IjoikzDArexqVzQpfFA25ynC0e2ViGHu7fvONkINDuN9x62BuX-GazG8M5-fqA8J.jlk7-YaHJAWiJuzr_vJfSQ",
		path:   "/tokens/v2?access_token=*", token: queryToken("access_token"),
		live:         reply{body: `{"code":"TokenValid","token":{"usage":"sk","user":"grace","authorization":"cijucimbe000brbkt48d0dhcx","client":"api","scopes":["styles:read","tokens:write"]}}`},
		invalid:      reply{status: http.StatusUnauthorized, body: `{"code":"TokenInvalid","token":{}}`},
		wantDetail:   "Mapbox secret token of grace",
		wantAccess:   func(a *finding.Access) bool { return a.Identity == "grace" && len(a.Scopes) == 2 },
		revokeMethod: "DELETE", revokePath: "/tokens/v2/grace/cijucimbe000brbkt48d0dhcx?access_token=*",
		revoked: reply{status: http.StatusNoContent},
	},
	{
		rule: "figma-access-token", docs: "https://www.figma.com/developers/api#get-me-endpoint",
		secret: "figd_VCW7i1zCNzZRdks8dyV6SVMNhsl85lqONn4NR5wZ", sample: `FIGMA_TOKEN=figd_VCW7i1zCNzZRdks8dyV6SVMNhsl85lqONn4NR5wZ`,
		path: "/v1/me", token: headerToken("X-Figma-Token"),
		live:       reply{body: `{"id":"1234567890","email":"grace@example.com","handle":"Grace","img_url":"https://s3-alpha.figma.com/profile/1"}`},
		invalid:    reply{status: http.StatusForbidden, body: `{"status":403,"err":"Invalid token"}`},
		wantDetail: "Figma user Grace",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace@example.com" },
	},
	{
		rule: "hubspot-api-key", docs: "https://developers.hubspot.com/docs/api/settings/account-information-api",
		secret: "pat-na1-c95e9288-da3f-45d6-a2fe-335e449d1511", sample: `HUBSPOT_ACCESS_TOKEN: 'pat-na1-c95e9288-da3f-45d6-a2fe-335e449d1511'`,
		path: "/account-info/v3/details", token: bearerToken,
		live:       reply{body: `{"portalId":62515,"accountType":"STANDARD","timeZone":"US/Eastern","companyCurrency":"USD","additionalCurrencies":[],"utcOffset":"-05:00","utcOffsetMilliseconds":-18000000,"uiDomain":"app.hubspot.com","dataHostingLocation":"na1"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"status":"error","message":"Authentication credentials not found.","correlationId":"4e7b2d5c","category":"INVALID_AUTHENTICATION"}`},
		wantDetail: "HubSpot account 62515 (STANDARD)",
		wantAccess: func(a *finding.Access) bool { return a.Account == "62515" },
	},
	{
		rule: "hubspot-api-key", docs: "https://developers.hubspot.com/docs/api/settings/account-information-api",
		secret: "pat-na1-c95e9288-da3f-45d6-a2fe-335e449d1511", sample: `HUBSPOT_ACCESS_TOKEN: 'pat-na1-c95e9288-da3f-45d6-a2fe-335e449d1511'`,
		path: "/account-info/v3/details", token: bearerToken,
		live:       reply{status: http.StatusForbidden, body: `{"status":"error","message":"This app hasn't been granted all required scopes to make this call.","correlationId":"4e7b2d5c","category":"MISSING_SCOPES"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"status":"error","category":"INVALID_AUTHENTICATION"}`},
		wantDetail: "valid but may not read account details",
	},
	{
		rule: "freshbooks-access-token", docs: "https://www.freshbooks.com/api/me_endpoint",
		secret: "51xgdloa15v3aj87wafawjz195jiieki4zy008q1clbp0ous9e4wsutwy07r7izi", sample: `System.setProperty("FRESHBOOKS_TOKEN", "51xgdloa15v3aj87wafawjz195jiieki4zy008q1clbp0ous9e4wsutwy07r7izi")`,
		path: "/auth/api/v1/users/me", token: bearerToken,
		live:       reply{body: `{"response":{"id":2192788,"identity_id":2192788,"first_name":"Grace","last_name":"Hopper","email":"grace@example.com","business_memberships":[]}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"unauthenticated","error_description":"This action requires authentication to continue."}`},
		wantDetail: "FreshBooks user grace@example.com",
	},
	{
		rule: "yelp-api-key", docs: "https://docs.developer.yelp.com/docs/fusion-authentication",
		secret: "ZhSQxRq6VutZvwsJfBRpU7lOvfgromTp0rANM4waugId0w53wwtB4S5or5us6XwbsVdRlZmOLns4vr4DJCvyL1JhIUfvSQqHOQJLR3JoIZpu0--zuwOlZmeZHCFWgvdJ",
		sample: `YELP_API_KEY: 'ZhSQxRq6VutZvwsJfBRpU7lOvfgromTp0rANM4waugId0w53wwtB4S5or5us6XwbsVdRlZmOLns4vr4DJCvyL1JhIUfvSQqHOQJLR3JoIZpu0--zuwOlZmeZHCFWgvdJ'`,
		path:   "/v3/businesses/search?location=San+Francisco&limit=1", token: bearerToken,
		live:       reply{body: `{"businesses":[{"id":"abc","name":"Cafe","rating":4.5}],"total":1000,"region":{"center":{"longitude":-122.4,"latitude":37.7}}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"code":"TOKEN_INVALID","description":"Invalid access token or authorization header."}}`},
		wantDetail: "Yelp Fusion API key",
	},
	{
		rule: "finnhub-access-token", docs: "https://finnhub.io/docs/api/authentication",
		secret: "cckxu5uf2qbgdhtpx39f", sample: `FINNHUB_API_KEY: 'cckxu5uf2qbgdhtpx39f'`,
		path: "/api/v1/quote?symbol=AAPL", token: headerToken("X-Finnhub-Token"),
		live:       reply{body: `{"c":261.74,"d":1.5,"dp":0.58,"h":263.31,"l":260.68,"o":261.07,"pc":260.24,"t":1767312000}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"Invalid API key."}`},
		wantDetail: "Finnhub API key",
	},
	{
		rule: "nytimes-access-token", docs: "https://developer.nytimes.com/docs/top-stories-product/1/overview",
		secret: "leozo2xfpb1qqah1tigyrdh7iijc068x", sample: `$config['NYTIMES_API_KEY'] = 'leozo2xfpb1qqah1tigyrdh7iijc068x';`,
		path: "/svc/topstories/v2/home.json?api-key=*", token: queryToken("api-key"),
		live:       reply{body: `{"status":"OK","copyright":"Copyright (c) 2026 The New York Times Company. All Rights Reserved.","section":"home","num_results":0,"results":[]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"fault":{"faultstring":"Invalid ApiKey","detail":{"errorcode":"oauth.v2.InvalidApiKey"}}}`},
		wantDetail: "New York Times API key",
	},
	{
		rule: "flickr-access-token", docs: "https://www.flickr.com/services/api/flickr.test.echo.html",
		secret: "zjkccvd97b75ogwglfr1h2xnrsvcnane", sample: `FLICKR_API_KEY = "zjkccvd97b75ogwglfr1h2xnrsvcnane"`,
		path: "/services/rest/?method=flickr.test.echo&format=json&nojsoncallback=1&api_key=*", token: queryToken("api_key"),
		live:       reply{body: `{"method":{"_content":"flickr.test.echo"},"format":{"_content":"json"},"nojsoncallback":{"_content":"1"},"stat":"ok"}`},
		invalid:    reply{body: `{"stat":"fail","code":100,"message":"Invalid API Key (Key has invalid format)"}`},
		wantDetail: "Flickr API key",
	},
	{
		rule: "beamer-api-token", docs: "https://www.getbeamer.com/api",
		secret: "b_Z0kX_IO-rpzAmlizi0PIgqjrA9ooJYcSxltp-Pw1B_eS", sample: `BEAMER_API_KEY := "b_Z0kX_IO-rpzAmlizi0PIgqjrA9ooJYcSxltp-Pw1B_eS"`,
		path: "/v0/ping", token: headerToken("Beamer-Api-Key"),
		live:       reply{body: `{"name":"Acme"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"code":401,"message":"Invalid API key"}`},
		wantDetail: "Beamer API key Acme",
	},
}

const (
	linearViewer          = `{"data":{"viewer":{"id":"2a1c6b0e-5a9b-4c1d-8e7f-6a5b4c3d2e1f","name":"Grace Hopper","email":"grace@example.com"},"organization":{"name":"Acme","urlKey":"acme"}}}`
	linearUnauthenticated = `{"errors":[{"message":"Authentication required, not authenticated","extensions":{"type":"authentication error","code":"AUTHENTICATION_ERROR","userPresentableMessage":"You need to authenticate to access this operation."}}]}`
)

func circleCICase(rule, secret, sample string) providerCase {
	return providerCase{
		rule: rule, docs: "https://circleci.com/docs/api/v2/index.html#operation/getCurrentUser",
		secret: secret, sample: sample, path: "/api/v2/me", token: headerToken("Circle-Token"),
		live:       reply{body: `{"id":"4e4e7e0d-8a38-4bd8-8d0f-4b1e3f3b4d6b","login":"grace","name":"Grace Hopper"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"You must log in first."}`},
		wantDetail: "CircleCI user grace",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace" },
	}
}

func notionCase(rule, secret, sample string) providerCase {
	return providerCase{
		rule: rule, docs: "https://developers.notion.com/reference/get-self",
		secret: secret, sample: sample, path: "/v1/users/me", token: bearerToken,
		live:       reply{body: `{"object":"user","id":"16d84278-ab0e-484c-9bdd-b35da3bd8905","name":"pied piper","avatar_url":null,"type":"bot","bot":{"owner":{"type":"workspace","workspace":true},"workspace_name":"Pied Piper"}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"object":"error","status":401,"code":"unauthorized","message":"API token is invalid."}`},
		wantDetail: "Notion integration pied piper in workspace Pied Piper",
		wantAccess: func(a *finding.Access) bool { return a.Account == "Pied Piper" },
	}
}

func init() { providerCases = append(providerCases, devtoolsCases...) }

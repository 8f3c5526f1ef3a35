package verify

import (
	"net/http"
	"strings"

	"github.com/tokenward/tokenward/finding"
)

// Fakes for the cloud and hosting providers of rules/builtin/cloud.toml, each
// built from the documentation its docs field cites.
var cloudCases = []providerCase{
	{
		rule: "azure-devops-pat", docs: "https://learn.microsoft.com/en-us/rest/api/azure/devops/profile/profiles/get?view=azure-devops-rest-7.1",
		secret: "lGEEYaftrxc6js5tDsr7OZzSCfgNOr3IATkMqoXVHEcmNLeTXLRpJQQJ9p8cXPBwINlKivUfnkMUAZDOsRvg",
		path:   "/_apis/profile/profiles/me?api-version=7.1", token: basicPassword,
		live:       reply{body: `{"displayName":"Grace Hopper","publicAlias":"6f1b3c1e-8a43-4b61-9d4e-1c0ad3f7a0b2","emailAddress":"grace@example.com","coreRevision":4,"timeStamp":"2026-01-02T03:04:05Z","id":"6f1b3c1e-8a43-4b61-9d4e-1c0ad3f7a0b2","revision":4}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"TF400813: The user is not authorized to access this resource."}`},
		wantDetail: "Azure DevOps user Grace Hopper",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace@example.com" },
	},
	{
		rule: "azure-devops-legacy-pat", docs: "https://learn.microsoft.com/en-us/rest/api/azure/devops/profile/profiles/get?view=azure-devops-rest-7.1",
		secret: "xysbygvn662rzmlukgryr2qwujtdw4yswdyhsmajzpeeb2ljqrpz",
		sample: `AZURE_DEVOPS_PAT = "xysbygvn662rzmlukgryr2qwujtdw4yswdyhsmajzpeeb2ljqrpz"`,
		path:   "/_apis/profile/profiles/me?api-version=7.1", token: basicPassword,
		live:       reply{body: `{"displayName":"Grace Hopper","emailAddress":"grace@example.com","id":"6f1b3c1e-8a43-4b61-9d4e-1c0ad3f7a0b2"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"TF400813"}`},
		wantDetail: "Azure DevOps user",
	},
	{
		rule: "harness-api-key", docs: "https://apidocs.harness.io/tag/User#operation/getCurrentUserInfo",
		secret: "sat.NMY52DEvgF5DTB8nvmbJpk.cxJ9Tvgl1FFvUm8ChPsdpX7H.WmaCyJVr2qMwRqkALmUO",
		groups: map[string]string{"account": "NMY52DEvgF5DTB8nvmbJpk"},
		path:   "/ng/api/user/currentUser?accountIdentifier=NMY52DEvgF5DTB8nvmbJpk", token: headerToken("X-Api-Key"),
		live:       reply{body: `{"status":"SUCCESS","data":{"uuid":"lv0euRhKRCyiXWzS7pOg6g","name":"Grace Hopper","email":"grace@example.com","token":null,"defaultAccountId":"NMY52DEvgF5DTB8nvmbJpk","admin":false,"locked":false},"metaData":null,"correlationId":"8c4b5f0e"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"status":"ERROR","code":"INVALID_TOKEN","message":"Token is not valid.","correlationId":"8c4b5f0e"}`},
		wantDetail: "Harness user Grace Hopper <grace@example.com>",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "grace@example.com"
		},
	},
	{
		rule: "scalingo-api-token", docs: "https://developers.scalingo.com/#authentication",
		secret: "tk-us-CLfaMCm8nuqED9ojlhYM64oDsU9L6K1bjmxc1OtD5MHnRWwJ",
		method: "POST", path: "/v1/tokens/exchange", token: basicPassword,
		live:       reply{body: `{"token":"eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.e30.c2ln"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"invalid credentials"}`},
		wantDetail: "Scalingo API token",
	},
	{
		rule: "defined-networking-api-token", docs: "https://docs.defined.net/api/hosts-list/",
		secret: "dnkey-f6p6qx5ybx7wtv76eq85yw4mmt-yc2i5kuzdjjgr06ysy6mu9tlj6a8o5yqt4skmp2rg9eh850pccy8",
		path:   "/v2/hosts?pageSize=1", token: bearerToken,
		live:       reply{body: `{"data":[{"id":"host-24NVITKEFOAEHWNOE6W3RGGUHO","name":"lighthouse-1","networkID":"network-KAOWFKNQJCBVOBCFWHMFSJUUQE","isLighthouse":true}],"metadata":{"hasNextPage":false,"totalCount":1}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"errors":[{"code":"ERR_UNAUTHORIZED","message":"Unauthorized"}]}`},
		wantDetail: "Defined Networking API key",
	},
	{
		rule: "yandex-iam-token", docs: "https://yandex.cloud/en/docs/resource-manager/api-ref/Cloud/list",
		secret: "t1.9euelZEx2MjWwlvUJLB0PzliLWgYlL4d9nYWXUUmbQ6ALh.ls3_kFeNO5RKGtxve596St3cYRCylaTMSk4FOIq-l9x0u-ABxnKciHEb3Mv5cvouI2w42-PggSmQleGhR4IHfp",
		path:   "/resource-manager/v1/clouds?pageSize=100", token: bearerToken,
		live:       reply{body: `{"clouds":[{"id":"b1gia87mbaomkfvsleds","createdAt":"2026-01-01T00:00:00Z","name":"acme-cloud","organizationId":"bpf3crucp1v2ogdbkvr2"}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"code":16,"message":"The token is invalid","details":[]}`},
		wantDetail: "Yandex Cloud IAM token (1 clouds, first acme-cloud)",
		wantAccess: func(a *finding.Access) bool { return a.Resources != nil && *a.Resources == 1 },
		revokePath: "/iam/v1/tokens:revoke", revokeToken: jsonToken("iamToken"),
		revoked: reply{body: `{"subjectId":"ajei280a73vc8f3oe1ts"}`},
	},
	{
		rule: "scaleway-secret-key", docs: "https://www.scaleway.com/en/developers/api/iam/#path-api-keys-list-api-keys",
		secret: "24a497e0-6084-4eb6-a62c-a397b2690433", sample: `SCW_SECRET_KEY = "24a497e0-6084-4eb6-a62c-a397b2690433"`,
		path: "/iam/v1alpha1/api-keys?page_size=1", token: headerToken("X-Auth-Token"),
		live:       reply{body: `{"api_keys":[{"access_key":"SCWABCDEFGHIJKLMNOPQ","description":"ci","user_id":"b2a3c4d5-0000-4000-8000-000000000001","editable":true,"creation_ip":"198.51.100.7","default_project_id":"b2a3c4d5-0000-4000-8000-000000000002"}],"total_count":3}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"authentication is denied","method":"api_key","reason":"invalid_argument","type":"denied_authentication"}`},
		wantDetail: "Scaleway secret key (may read IAM: 3 API keys)",
	},
	{
		rule: "scaleway-secret-key", docs: "https://www.scaleway.com/en/developers/api/iam/#path-api-keys-list-api-keys",
		secret: "24a497e0-6084-4eb6-a62c-a397b2690433", sample: `SCW_SECRET_KEY = "24a497e0-6084-4eb6-a62c-a397b2690433"`,
		path: "/iam/v1alpha1/api-keys?page_size=1", token: headerToken("X-Auth-Token"),
		live:       reply{status: http.StatusForbidden, body: `{"details":[{"action":"read","resource":"api_key"}],"message":"insufficient permissions","type":"permissions_denied"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"authentication is denied","type":"denied_authentication"}`},
		wantDetail: "authenticated; may not read IAM",
	},
	digitalOceanCase("digitalocean-pat", "dop_v1_ab2edad1511539961d7143b80584af8c211804dfce0c49d123f366e7f5df388c"),
	digitalOceanCase("digitalocean-oauth-token", "doo_v1_c3a8e11b9b0db8bd320b0708251ca453bd710fab71bbc652b4728b3c2a37891a"),
	herokuCase("heroku-api-key", "4ff0ae75-c28a-48c2-a4f3-ae0a45720b27", `HEROKU_API_KEY := "4ff0ae75-c28a-48c2-a4f3-ae0a45720b27"`),
	herokuCase("heroku-api-key-v2", "HRKU-AAj3RPzYRh9Ki9TpZkqM5JyxcZR1tvSGSIh4MwkSDSw6cn3w_-pV9K5PE9xz", ""),
	{
		rule: "cloudflare-api-token", docs: "https://developers.cloudflare.com/api/resources/user/subresources/tokens/methods/verify/",
		secret: "nLHqHXw-SM1i9L5e5fDBT1oozKKa-IPAgbGpu-Rv",
		sample: `"CLOUDFLARE_API_TOKEN": "nLHqHXw-SM1i9L5e5fDBT1oozKKa-IPAgbGpu-Rv",`,
		path:   "/user/tokens/verify", token: bearerToken,
		live:       reply{body: `{"result":{"id":"ed17574386854bf78a67040be0a770b0","status":"active","not_before":"2026-01-01T00:00:00Z","expires_on":"2027-01-01T00:00:00Z"},"success":true,"errors":[],"messages":[{"code":10000,"message":"This API Token is valid and active","type":null}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"success":false,"errors":[{"code":1000,"message":"Invalid API Token"}],"messages":[],"result":null}`},
		wantDetail: "Cloudflare API token ed17574386854bf78a67040be0a770b0 active",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "token ed17574386854bf78a67040be0a770b0" && a.Properties["status"] == "active"
		},
		revokeMethod: "DELETE", revokePath: "/user/tokens/ed17574386854bf78a67040be0a770b0",
		revoked: reply{body: `{"result":{"id":"ed17574386854bf78a67040be0a770b0"},"success":true,"errors":[],"messages":[]}`},
	},
	{
		rule: "linode-api-token", docs: "https://techdocs.akamai.com/linode-api/reference/get-profile",
		secret: "c4e927c070c39831cd0e33ff06a6b29c7cc0a7fc1e50b91278f0bafa2bf64acb",
		sample: `export LINODE_TOKEN="c4e927c070c39831cd0e33ff06a6b29c7cc0a7fc1e50b91278f0bafa2bf64acb"`,
		path:   "/v4/profile", token: bearerToken,
		live:       reply{body: `{"uid":1234,"username":"grace","email":"grace@example.com","restricted":false,"two_factor_auth":true}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"errors":[{"reason":"Invalid Token"}]}`},
		wantDetail: "Linode user grace",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace" },
	},
	{
		rule: "vultr-api-key", docs: "https://www.vultr.com/api/#tag/account/operation/get-account",
		secret: "DXAWT5HUK9F9A3E3T1MZ8W5UT83PSBI5RJYI",
		sample: `"VULTR_API_KEY": "DXAWT5HUK9F9A3E3T1MZ8W5UT83PSBI5RJYI",`,
		path:   "/v2/account", token: bearerToken,
		live:       reply{body: `{"account":{"name":"Grace Hopper","email":"grace@example.com","acls":["manage_users"],"balance":-5519.11,"pending_charges":57.03}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"Invalid API token.","status":401}`},
		wantDetail: "Vultr account Grace Hopper <grace@example.com>",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace@example.com" },
	},
	{
		rule: "terraform-cloud-api-token", docs: "https://developer.hashicorp.com/terraform/cloud-docs/api-docs/account#get-your-account-details",
		secret: "fhfCDEvbWrUheF.atlasv1.aDlVEvRZrqjl-SQ-noXqvyBNX4P-LM4aAUr4oKm5pf1hb0De9TFMGr7ieAP85Cy5dix",
		path:   "/api/v2/account/details", token: bearerToken,
		live:       reply{body: `{"data":{"id":"user-V3R563qtJNcExAkN","type":"users","attributes":{"username":"grace","is-service-account":false,"email":"grace@example.com"}}}`, header: map[string]string{"Content-Type": "application/vnd.api+json"}},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"errors":[{"status":"401","title":"unauthorized"}]}`},
		wantDetail: "HCP Terraform user grace",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace" },
	},
	{
		rule: "supabase-personal-access-token", docs: "https://supabase.com/docs/reference/api/v1-list-all-organizations",
		secret: "sbp_901a9168a0b4c4b0857b2bf9076b26d1aa04ca3e",
		path:   "/v1/organizations", token: bearerToken,
		live:       reply{body: `[{"id":"ajrbwkcuthywfddihrwflo","name":"Acme"}]`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"Unauthorized"}`},
		wantDetail: "organization Acme",
	},
	{
		rule: "flyio-access-token", docs: "https://fly.io/docs/machines/api/apps-resource/#list-apps-in-an-organization",
		secret: "fm2_lJPEcxGB/VCPRlc5Gq+lSlg4UbmzJAP1ej1YaiK85n8A0HwMhvg+R/Vrh0upWzgVud5ScjuFLMdAoMvyO6IVLNZ8ewRHF3WZJ12hhtEhnDYK1qBS5XGgY8EfMQgO2NPAE7z6NFRyf/crmRwK6jwBNF9o+6rUG0z/7bbKTkhwlqr08psZdC7wzM+/==",
		path:   "/v1/apps?org_slug=personal", token: bearerToken,
		live:       reply{body: `{"total_apps":2,"apps":[{"id":"1","name":"web","machine_count":2,"network":"default"},{"id":"2","name":"worker","machine_count":1,"network":"default"}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"unauthorized"}`},
		wantDetail: "Fly.io token (2 apps",
		wantAccess: func(a *finding.Access) bool { return a.Resources != nil && *a.Resources == 2 },
	},
	netlifyCase("netlify-personal-access-token", "nfp_nYr3Qx57XBKyR9ZKcgrz6UYBWhqK1H3DGjz4", ""),
	netlifyCase("netlify-access-token", "OZ1e1F_xqYCVVQeZrBS3mTMxu5FmkKp1R0rfA4AS-WI", `export NETLIFY_AUTH_TOKEN="OZ1e1F_xqYCVVQeZrBS3mTMxu5FmkKp1R0rfA4AS-WI"`),
	{
		rule: "vercel-access-token", docs: "https://vercel.com/docs/rest-api/reference/endpoints/user/get-the-user",
		secret: "g2ZeqjgkYuXR6l3Pk6Iggw3e",
		sample: `"VERCEL_TOKEN": "g2ZeqjgkYuXR6l3Pk6Iggw3e",`,
		path:   "/v2/user", token: bearerToken,
		live:       reply{body: `{"user":{"id":"AEIIDYVk59zbFF2Sxfyxxmua","email":"grace@example.com","name":"Grace","username":"grace","defaultTeamId":"team_nLlpyC6REAqxydlFKbrMDlud"}}`},
		invalid:    reply{status: http.StatusForbidden, body: `{"error":{"code":"forbidden","message":"Not authorized","invalidToken":true}}`},
		wantDetail: "Vercel user grace",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "grace" && a.Properties["default_team"] == "team_nLlpyC6REAqxydlFKbrMDlud"
		},
		revokeMethod: "DELETE", revokePath: "/v3/user/tokens/current",
		revoked: reply{body: `{"tokenId":"5d9f2ebd38ddca62e5d51e9c1704c72530bdc8bfdd41e782a6687c48399e8391"}`},
	},
	{
		rule: "doppler-api-token", docs: "https://docs.doppler.com/reference/auth-me",
		secret: "dp.pt.3wiBModNXOIxt8UtVsFD77UnMHWo4jcMLeGoojLWTcq",
		path:   "/v3/me", token: bearerToken,
		live:       reply{body: `{"workplace":{"name":"Acme","slug":"acme"},"type":"personal","name":"laptop","slug":"laptop","created_at":"2026-01-01T00:00:00.000Z","last_seen_at":"2026-02-01T00:00:00.000Z"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"messages":["Invalid Auth token"],"success":false}`},
		wantDetail: "Doppler personal token laptop in workplace Acme",
		wantAccess: func(a *finding.Access) bool { return a.Account == "Acme" && a.Properties["token_type"] == "personal" },
		revokePath: "/v3/auth/revoke", revokeToken: jsonToken("token"),
		revoked: reply{body: `{"success":true}`},
	},
	{
		rule: "pulumi-access-token", docs: "https://www.pulumi.com/docs/pulumi-cloud/reference/cloud-rest-api/#authentication",
		secret: "pul-15f7ac42342a2939b246f9af32808e9abacad4d1",
		path:   "/api/user", token: schemeToken("token"),
		live:       reply{body: `{"githubLogin":"grace","name":"Grace Hopper","email":"grace@example.com","organizations":[{"githubLogin":"acme","name":"Acme"},{"githubLogin":"grace","name":"grace"}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"code":401,"message":"Unauthorized: No credentials provided or are invalid."}`},
		wantDetail: "Pulumi user grace",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace" && a.Resources != nil && *a.Resources == 2 },
	},
	{
		rule: "fastly-api-token", docs: "https://www.fastly.com/documentation/reference/api/auth-tokens/user/#get-token-current",
		secret: "W8mXZdEqcE0p1nUTEVHXDjqV-MTMvBGX",
		sample: `FASTLY_API_TOKEN = "W8mXZdEqcE0p1nUTEVHXDjqV-MTMvBGX"`,
		path:   "/tokens/self", token: headerToken("Fastly-Key"),
		live:         reply{body: `{"id":"5Yo3XXnrQpjc20u0ybrf2g","user_id":"4y5K5trZocEAQYkesWlk7M","name":"deploy","scope":"global:read purge_select","services":[],"access_token":null,"created_at":"2026-01-01T00:00:00Z","expires_at":null}`},
		invalid:      reply{status: http.StatusUnauthorized, body: `{"msg":"Provided credentials are missing or invalid"}`},
		wantDetail:   "Fastly token deploy (scope global:read purge_select)",
		wantAccess:   func(a *finding.Access) bool { return len(a.Scopes) == 2 && a.Scopes[0] == "global:read" },
		revokeMethod: "DELETE", revokePath: "/tokens/self",
		revoked: reply{status: http.StatusNoContent},
	},
	{
		rule: "google-oauth-access-token", docs: "https://developers.google.com/identity/protocols/oauth2/javascript-implicit-flow#tokeninfo-validation",
		secret: "ya29.2sopdnmEbdRRYk0s5ZxtbKfY2fcDNRLQZBq7vyp0hyuPw_nKO8ocpNxea4e7hcGPLpBjqqNphDSJwItnJZkGaiibKj5WPnwEvBD5PmL887pKs7kIiHXhor3QmtiG90NCd6RnPYUzEGz7wR_6BeCEAz",
		path:   "/tokeninfo?access_token=*", token: queryToken("access_token"),
		live:       reply{body: `{"azp":"407408718192.apps.googleusercontent.com","aud":"407408718192.apps.googleusercontent.com","sub":"110248495921238986420","scope":"https://www.googleapis.com/auth/drive.readonly openid","exp":"1767312000","expires_in":"3599","email":"grace@example.com","email_verified":"true","access_type":"offline"}`},
		invalid:    reply{status: http.StatusBadRequest, body: `{"error":"invalid_token","error_description":"Invalid Value"}`},
		wantDetail: "Google OAuth token for client 407408718192.apps.googleusercontent.com grace@example.com",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "grace@example.com" && len(a.Scopes) == 2 && strings.HasSuffix(a.Scopes[0], "drive.readonly")
		},
		revokePath: "/revoke", revokeToken: formToken("token"),
		revoked: reply{body: `{}`},
	},
	{
		rule: "gcp-api-key", docs: "https://ai.google.dev/api/models#method:-models.list",
		secret: "AIzaSy_hG3vAVF44THZPs2f7qF2bArvE2KfL0xe",
		path:   "/v1beta/models?pageSize=1", token: headerToken("X-Goog-Api-Key"),
		live:       reply{body: `{"models":[{"name":"models/gemini-2.5-flash","version":"001","displayName":"Gemini 2.5 Flash","inputTokenLimit":1048576,"outputTokenLimit":65536,"supportedGenerationMethods":["generateContent","countTokens"]}],"nextPageToken":"Ch5tb2RlbHM"}`},
		invalid:    reply{status: http.StatusBadRequest, body: gcpKeyInvalid},
		wantDetail: "Google API key (may call the Gemini API)",
	},
	{
		rule: "gcp-api-key", docs: "https://cloud.google.com/apis/design/errors",
		secret: "AIzaSy_hG3vAVF44THZPs2f7qF2bArvE2KfL0xe",
		path:   "/v1beta/models?pageSize=1", token: headerToken("X-Goog-Api-Key"),
		live:       reply{status: http.StatusForbidden, body: `{"error":{"code":403,"message":"Generative Language API has not been used in project 123456789012 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com","consumer":"projects/123456789012"}}]}}`},
		invalid:    reply{status: http.StatusBadRequest, body: gcpKeyInvalid},
		failing:    &reply{status: http.StatusForbidden, body: `{"error":{"code":403,"message":"Permission denied: Consumer 'api_key:x' has been suspended.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"CONSUMER_SUSPENDED","domain":"googleapis.com"}]}}`},
		wantDetail: "exists but may not call the Gemini API (SERVICE_DISABLED)",
	},
	{
		rule: "ibm-cloud-api-key", docs: "https://cloud.ibm.com/docs/account?topic=account-iamtoken_from_apikey",
		secret: "fVK2UkpOZt-SNG0y1ZiMkGhc2vA5G8iZkxvR6WHum-DX",
		sample: `IBMCLOUD_API_KEY := "fVK2UkpOZt-SNG0y1ZiMkGhc2vA5G8iZkxvR6WHum-DX"`,
		method: "POST", path: "/identity/token", token: formToken("apikey"),
		live:         reply{body: `{"access_token":"` + ibmIAMToken + `","refresh_token":"not_supported","token_type":"Bearer","expires_in":3600,"expiration":1767312000,"scope":"ibm openid"}`},
		invalid:      reply{status: http.StatusBadRequest, body: `{"errorCode":"BXNIM0415E","errorMessage":"Provided API key could not be found.","context":{"requestId":"Y2Q0Mzc"}}`},
		wantDetail:   "IBM Cloud API key (IAM token issued, expires in 3600s)",
		also:         map[string]reply{"GET /v1/apikeys/details": {body: `{"id":"ApiKey-5ea8c2c6-0f2a-4b2b-9b59-3d9a1c0e7f11","entity_tag":"1-9f3c","crn":"crn:v1:bluemix:public:iam-identity::a/1234567890abcdef::apikey:ApiKey-5ea8c2c6-0f2a-4b2b-9b59-3d9a1c0e7f11","locked":false,"name":"ci","iam_id":"IBMid-550000ABCD","account_id":"1234567890abcdef"}`}},
		revokeMethod: "DELETE", revokePath: "/v1/apikeys/ApiKey-5ea8c2c6-0f2a-4b2b-9b59-3d9a1c0e7f11",
		// The delete carries only the key's IAM token, issued by the verify call.
		revokeToken: func(r *http.Request, _ []byte) string {
			if bearerToken(r, nil) == ibmIAMToken {
				return "fVK2UkpOZt-SNG0y1ZiMkGhc2vA5G8iZkxvR6WHum-DX"
			}
			return ""
		},
		revoked: reply{status: http.StatusNoContent},
	},
}

const ibmIAMToken = "eyJraWQiOiIyMDI2MDEwMSIsImFsZyI6IlJTMjU2In0.e30.c2ln"

const gcpKeyInvalid = `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}}`

func digitalOceanCase(rule, secret string) providerCase {
	return providerCase{
		rule: rule, docs: "https://docs.digitalocean.com/reference/api/digitalocean/#tag/Account/operation/account_get",
		secret: secret, path: "/v2/account", token: bearerToken,
		live:       reply{body: `{"account":{"droplet_limit":25,"floating_ip_limit":5,"email":"sammy@example.com","name":"Sammy","uuid":"b6fr89dbf6d9156cace5f3c78dc9851d957381ef","email_verified":true,"status":"active","status_message":""}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"id":"Unauthorized","message":"Unable to authenticate you."}`},
		wantDetail: "DigitalOcean account sammy@example.com (active, droplet limit 25)",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "sammy@example.com" && a.Account == "b6fr89dbf6d9156cace5f3c78dc9851d957381ef" && a.Properties["droplet_limit"] == "25"
		},
		revokePath: "/v1/oauth/revoke",
		revoked:    reply{body: ``},
	}
}

func herokuCase(rule, secret, sample string) providerCase {
	return providerCase{
		rule: rule, docs: "https://devcenter.heroku.com/articles/platform-api-reference#account-info",
		secret: secret, sample: sample, path: "/account", token: bearerToken,
		live:       reply{body: `{"allow_tracking":true,"beta":false,"created_at":"2012-01-01T12:00:00Z","email":"username@example.com","id":"01234567-89ab-cdef-0123-456789abcdef","name":"Tina Edmonds","two_factor_authentication":false,"verified":false}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"id":"unauthorized","message":"Invalid credentials provided."}`},
		wantDetail: "Heroku account username@example.com",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "username@example.com" },
	}
}

func netlifyCase(rule, secret, sample string) providerCase {
	return providerCase{
		rule: rule, docs: "https://open-api.netlify.com/#tag/user/operation/getCurrentUser",
		secret: secret, sample: sample, path: "/api/v1/user", token: bearerToken,
		live:       reply{body: `{"id":"5c9a3a1d4c2b6a0001a1b2c3","uid":"u1","full_name":"Grace Hopper","avatar_url":"","email":"grace@example.com","affiliate_id":"","site_count":3,"created_at":"2026-01-01T00:00:00Z","last_login":"2026-02-01T00:00:00Z"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"code":401,"message":"Access Denied: Invalid token"}`},
		wantDetail: "Netlify user Grace Hopper <grace@example.com>",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "grace@example.com" && a.Account == "5c9a3a1d4c2b6a0001a1b2c3"
		},
	}
}

func init() { providerCases = append(providerCases, cloudCases...) }

package verify

import (
	"net/http"

	"github.com/tokenward/tokenward/finding"
)

var registryCases = []providerCase{
	{
		rule: "npm-access-token", docs: "https://docs.npmjs.com/cli/v10/commands/npm-whoami",
		secret: "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",
		path:   "/-/whoami", token: bearerToken,
		live:       reply{body: `{"username":"grace"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"Unauthorized"}`},
		wantDetail: "npm user grace",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace" },
	},
}

func init() { providerCases = append(providerCases, registryCases...) }

var registryCases2 = []providerCase{
	{
		rule: "rubygems-api-token", docs: "https://guides.rubygems.org/rubygems-org-api/#gem-methods",
		secret: "rubygems_053459d430dbb37282d9368f436e3bdf38be98f4e6bae3a4",
		path:   "/api/v1/gems.json", token: headerToken("Authorization"),
		live:       reply{body: `[{"name":"rails","downloads":7528417,"version":"3.2.1","version_downloads":47,"platform":"ruby","authors":"David Heinemeier Hansson"}]`},
		invalid:    reply{status: http.StatusUnauthorized, body: `Access Denied. Please sign up for an account at https://rubygems.org`, header: map[string]string{"Content-Type": "text/plain"}},
		wantDetail: "RubyGems API key (owns rails)",
	},
	{
		rule: "hex-pm-api-key", docs: "https://hexdocs.pm/hex_core/hex_api_user.html#me/1",
		secret: "2704ae5249912968dc765cad640a440e", sample: `$config['HEX_API_KEY'] = '2704ae5249912968dc765cad640a440e';`,
		path: "/api/users/me", token: headerToken("Authorization"),
		live:       reply{body: `{"email":"user@example.com","full_name":"John Doe","handles":{},"inserted_at":"2014-04-21T17:20:12Z","level":"full","updated_at":"2019-08-04T19:28:05Z","url":"https://hex.pm/api/users/user","username":"user"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"status":401,"message":"invalid API key"}`},
		wantDetail: "Hex user user",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "user" },
	},
}

func init() { providerCases = append(providerCases, registryCases2...) }

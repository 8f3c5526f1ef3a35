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

package verify

import (
	"net/http"
	"strings"

	"github.com/tokenward/tokenward/finding"
)

// slackAuthTest is the documented auth.test / auth.revoke exchange shared by
// Slack's token types.
func slackAuthTest(rule, secret, what string) providerCase {
	return providerCase{
		rule: rule, docs: "https://docs.slack.dev/reference/methods/auth.test",
		secret: secret, method: "POST", path: "/auth.test", token: bearerToken,
		live:       reply{body: `{"ok":true,"url":"https://acme.slack.com/","team":"Acme","user":"grace","team_id":"T12345678","user_id":"U12345678"}`},
		invalid:    reply{body: `{"ok":false,"error":"invalid_auth"}`},
		wantDetail: "Slack " + what + " of grace in workspace Acme",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace" && a.Account == "Acme" },
		revokePath: "/auth.revoke", revoked: reply{body: `{"ok":true,"revoked":true}`},
	}
}

var slackGitLabCases = []providerCase{
	slackAuthTest("slack-config-access-token", "xoxe.xoxp-1-jO2OdNVuxa5Dm6DhB7Qc9D8Qwr0DtHTRNE73RRehnXG176KAw5sl8lpTxCsDKFebWAqE7uZpV07H7nwJQql6lFUlZlfGr8AUmD4aYadkM76HNElzJamifJYOAOrJKjAf7xxRp6RWlrxpeQ076VivbbqcpeV01QvXKjnC22", "app configuration token"),
	slackAuthTest("slack-legacy-token", "xoxs-5718360283-181332835-1750908528-3c5e95be99", "legacy token"),
	slackAuthTest("slack-legacy-workspace-token", "xoxa-2-43643087349-561348470873-065320121019-9b3812cf279ea8114e", "workspace app token"),
	{
		rule: "slack-app-token", docs: "https://docs.slack.dev/reference/methods/apps.connections.open",
		secret: "xapp-1-A5GSUKWRHTQ-4647653926756-e6ec2ef2d36344b29e483389bbe82d30529f9477b89ab8fc57d3e71fc793ec9c",
		method: "POST", path: "/apps.connections.open", token: bearerToken,
		live:       reply{body: `{"ok":true,"url":"wss://wss-primary.slack.com/link/?ticket=12348&app_id=5678"}`},
		invalid:    reply{body: `{"ok":false,"error":"invalid_auth"}`},
		wantDetail: "Slack app-level token",
	},
	{
		rule: "slack-webhook-url", docs: "https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks#handling_errors",
		secret: "services/TWSP6BT4P/B4WTQGAPDRK/3wH1I0DuOWMxwNgPG41sJFjj", sample: "SLACK_WEBHOOK=https://hooks.slack.com/services/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",
		groups: map[string]string{"team": "TWSP6BT4P", "hook": "B4WTQGAPDRK", "key": "3wH1I0DuOWMxwNgPG41sJFjj"},
		method: "POST", path: "/services/*/*/*", token: slackWebhook,
		live:       reply{status: http.StatusBadRequest, body: "no_text", header: map[string]string{"Content-Type": "text/html"}},
		invalid:    reply{status: http.StatusForbidden, body: "invalid_token", header: map[string]string{"Content-Type": "text/html"}},
		wantDetail: "Slack incoming webhook",
	},
	{
		rule: "gitlab-runner-authentication-token", docs: "https://docs.gitlab.com/api/runners/#verify-authentication-for-a-registered-runner",
		secret: "glrt-BMmtOhHIy8Lcl7ohFFT7",
		method: "POST", path: "/runners/verify", token: formToken("token"),
		live:         reply{body: `{"id":12345,"token":"glrt-BMmtOhHIy8Lcl7ohFFT7","token_expires_at":null}`},
		invalid:      reply{status: http.StatusForbidden, body: `{"message":"403 Forbidden"}`},
		wantDetail:   "GitLab runner 12345",
		wantAccess:   func(a *finding.Access) bool { return a.Identity == "runner 12345" },
		revokeMethod: "DELETE", revokePath: "/runners", revoked: reply{status: http.StatusNoContent},
	},
	{
		rule: "gitlab-runner-authentication-token-routable", docs: "https://docs.gitlab.com/api/runners/#verify-authentication-for-a-registered-runner",
		secret: "glrt-t1_WyueN4dxeoR-idhly86Q6qdzhfNXhZWgkwW4Oh8WJlQmzfOZpl.01n8eq7at",
		method: "POST", path: "/runners/verify", token: formToken("token"),
		live:         reply{body: `{"id":67890,"token":"glrt-t1_WyueN4dxeoR-idhly86Q6qdzhfNXhZWgkwW4Oh8WJlQmzfOZpl.01n8eq7at","token_expires_at":"2026-06-01T00:00:00.000Z"}`},
		invalid:      reply{status: http.StatusForbidden, body: `{"message":"403 Forbidden"}`},
		wantDetail:   "GitLab runner 67890 (token expires: 2026-06-01T00:00:00.000Z)",
		revokeMethod: "DELETE", revokePath: "/runners", revoked: reply{status: http.StatusNoContent},
	},
	{
		rule: "gitlab-cicd-job-token", docs: "https://docs.gitlab.com/api/jobs/#get-job-tokens-job",
		secret: "glcbt-11_zTrt0SAqOXgEjrwHOwOA",
		path:   "/job", token: headerToken("JOB-TOKEN"),
		live: reply{body: `{"id":8,"status":"running","stage":"test","name":"rspec","ref":"main","tag":false,"user":{"id":1,"name":"Grace","username":"grace","state":"active"},` +
			`"pipeline":{"id":6,"project_id":1,"ref":"main","sha":"0ff3ae198f8601a285adcf5c0fff204ee6fba5fd","status":"running"}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"401 Unauthorized"}`},
		wantDetail: "GitLab CI job 8 (running) of project 1, run by grace",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace" && a.Account == "project 1" },
	},
	{
		rule: "gitlab-session-cookie", docs: "https://docs.gitlab.com/api/rest/authentication/#session-cookie",
		secret: "cqjtxht64e76988dss9bte2z9erd534x", sample: "Cookie: _gitlab_session=cqjtxht64e76988dss9bte2z9erd534x",
		path: "/user", token: cookieToken("_gitlab_session"),
		live:       reply{body: `{"id":1,"username":"grace","name":"Grace H","state":"active","web_url":"https://gitlab.com/grace"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"401 Unauthorized"}`},
		wantDetail: "GitLab web session of grace",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace" },
	},
	{
		rule: "gitlab-feed-token", docs: "https://docs.gitlab.com/security/tokens/#feed-token",
		secret: "glft-vbWNTcmu61r07ou4gZG3",
		path:   "/dashboard/projects.atom", token: queryToken("feed_token"),
		live: reply{body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<feed xmlns="http://www.w3.org/2005/Atom"><title>Activity</title><updated>2025-01-01T00:00:00Z</updated></feed>`,
			header: map[string]string{"Content-Type": "application/atom+xml; charset=utf-8"}},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"You need to sign in or sign up before continuing."}`},
		wantDetail: "GitLab feed token",
	},
}

// slackWebhook reads the webhook path back as the rule reports it.
func slackWebhook(r *http.Request, _ []byte) string {
	return strings.TrimPrefix(r.URL.Path, "/")
}

func cookieToken(name string) func(*http.Request, []byte) string {
	return func(r *http.Request, _ []byte) string {
		c, err := r.Cookie(name)
		if err != nil {
			return ""
		}
		return c.Value
	}
}

func init() { providerCases = append(providerCases, slackGitLabCases...) }

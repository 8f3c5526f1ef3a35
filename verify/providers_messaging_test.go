package verify

import (
	"net/http"
	"slices"
	"strings"

	"github.com/tokenward/tokenward/finding"
)

// Fakes of messaging, e-mail and social APIs, from each provider's documented
// responses.
var messagingCases = []providerCase{
	{
		rule: "sendgrid-api-token", docs: "https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions/retrieve-a-list-of-scopes-for-which-this-user-has-access",
		secret: "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",
		path:   "/scopes", token: bearerToken,
		live:       reply{body: `{"scopes":["mail.send","alerts.read","stats.read"]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"errors":[{"field":null,"message":"authorization required"}]}`},
		wantDetail: "SendGrid key with 3 scopes",
		wantAccess: func(a *finding.Access) bool {
			return slices.Equal(a.Scopes, []string{"mail.send", "alerts.read", "stats.read"})
		},
		groups:       map[string]string{"id": "7qiSr8gZlzGP66aAJxgLNR"},
		revokeMethod: "DELETE", revokePath: "/api_keys/7qiSr8gZlzGP66aAJxgLNR", revoked: reply{status: http.StatusNoContent},
	},
	{
		rule: "sendinblue-api-token", docs: "https://developers.brevo.com/reference/getaccount",
		secret: "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",
		path:   "/account", token: headerToken("api-key"),
		live:       reply{body: `{"email":"ops@acme.example","firstName":"Grace","lastName":"H","companyName":"Acme","address":{"city":"Paris","country":"France"},"plan":[{"type":"free","creditsType":"sendLimit","credits":300}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"code":"unauthorized","message":"Key not found"}`},
		wantDetail: "Brevo account ops@acme.example (Acme), plan free",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "ops@acme.example" && a.Account == "Acme" },
	},
	{
		rule: "resend-api-key", docs: "https://resend.com/docs/api-reference/domains/list-domains",
		secret: "re_jXHTEpEo_YQbTp03pRFJBN5PtjvNQJdtk",
		path:   "/domains", token: bearerToken,
		live:       reply{body: `{"object":"list","has_more":false,"data":[{"id":"d91cd9bd-1176-453e-8fc1-35364d380206","name":"acme.example","status":"verified","created_at":"2023-04-26T20:21:26.347412+00:00","region":"us-east-1"}]}`},
		invalid:    reply{status: http.StatusForbidden, body: `{"statusCode":403,"message":"API key is invalid","name":"validation_error"}`},
		wantDetail: "Resend full-access key; 1 domains",
	},
	{
		rule: "resend-api-key", docs: "https://resend.com/docs/api-reference/errors",
		secret: "re_OJRrjaGr_s74Nk6RMGcvX7kkuGkTddQK6",
		path:   "/domains", token: bearerToken,
		live:       reply{status: http.StatusUnauthorized, body: `{"statusCode":401,"message":"This API key is restricted to only send emails","name":"restricted_api_key"}`},
		invalid:    reply{status: http.StatusBadRequest, body: `{"statusCode":400,"message":"API key is invalid","name":"validation_error"}`},
		wantDetail: "sending-access key",
	},
	{
		rule: "messagebird-api-token", docs: "https://developers.messagebird.com/api/balance/",
		secret: "u8AFsBHqfshzcsS8CRQ48yzkx", sample: `MESSAGEBIRD_ACCESS_KEY = "u8AFsBHqfshzcsS8CRQ48yzkx"`,
		path: "/balance", token: schemeToken("AccessKey"),
		live:       reply{body: `{"payment":"prepaid","type":"euros","amount":48.5}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"errors":[{"code":2,"description":"Request not allowed (incorrect access_key)","parameter":"access_key"}]}`},
		wantDetail: "balance 48.5 euros",
	},
	{
		rule: "discord-bot-token", docs: "https://discord.com/developers/docs/resources/user#get-current-user",
		secret: "MTtV2mOmPIibCSqmTrGcdbD24W.eiTUtI.ZYHfg5Hkh4neasiUWirmdsKoGdoyPeAUzU8a7Q",
		path:   "/users/@me", token: schemeToken("Bot"),
		live:       reply{body: `{"id":"80351110224678912","username":"acme-bot","discriminator":"0","global_name":null,"avatar":null,"bot":true,"mfa_enabled":true,"flags":0}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"401: Unauthorized","code":0}`},
		wantDetail: "Discord bot acme-bot (80351110224678912)",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "acme-bot" && a.Properties["user_id"] == "80351110224678912"
		},
	},
	{
		rule: "discord-webhook-url", docs: "https://discord.com/developers/docs/resources/webhook#get-webhook-with-token",
		secret: "https://discord.com/api/webhooks/2506223005981612202/IfbTgorsT-0DmawPQZCt5qtvM2L3riFZevMKtK37QHPqqcY_uMbdASDWSkWUS4TfP4k6",
		groups: map[string]string{"id": "2506223005981612202", "token": "IfbTgorsT-0DmawPQZCt5qtvM2L3riFZevMKtK37QHPqqcY_uMbdASDWSkWUS4TfP4k6"},
		path:   "/webhooks/*/*", token: discordWebhook,
		live: reply{body: `{"application_id":null,"avatar":null,"channel_id":"199737254929760256","guild_id":"199737254929760256","id":"2506223005981612202",` +
			`"name":"deploys","type":1,"user":null,"token":"IfbTgorsT-0DmawPQZCt5qtvM2L3riFZevMKtK37QHPqqcY_uMbdASDWSkWUS4TfP4k6"}`},
		invalid:      reply{status: http.StatusUnauthorized, body: `{"message":"Invalid Webhook Token","code":50027}`},
		wantDetail:   "Discord webhook deploys posting to channel 199737254929760256",
		wantAccess:   func(a *finding.Access) bool { return a.Identity == "deploys" && a.Account == "199737254929760256" },
		revokeMethod: "DELETE", revokePath: "/webhooks/*/*",
		revoked: reply{status: http.StatusNoContent},
	},
	{
		rule: "telegram-bot-api-token", docs: "https://core.telegram.org/bots/api#getme",
		secret: "1988925630:AAepqpweRO3-hxPAfXKrqMBHOERhmQ_iBM7",
		path:   "/*/getMe", token: telegramToken,
		live:       reply{body: `{"ok":true,"result":{"id":1988925630,"is_bot":true,"first_name":"Acme","username":"acme_deploy_bot","can_join_groups":true,"can_read_all_group_messages":false,"supports_inline_queries":false}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"ok":false,"error_code":401,"description":"Unauthorized"}`},
		wantDetail: "Telegram bot @acme_deploy_bot (1988925630)",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "acme_deploy_bot" },
	},
	{
		rule: "twitch-access-token", docs: "https://dev.twitch.tv/docs/authentication/validate-tokens/",
		secret: "h2kfq8v0s3n1wz5yx7c4m6e9ptr0ab", sample: `TWITCH_OAUTH_TOKEN=oauth:h2kfq8v0s3n1wz5yx7c4m6e9ptr0ab`,
		path: "/validate", token: schemeToken("OAuth"),
		live:       reply{body: `{"client_id":"wbmytr93xzw8zbg0p1izqyzzc5mbiz","login":"twitchdev","scopes":["channel:read:subscriptions"],"user_id":"141981764","expires_in":5520838}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"status":401,"message":"invalid access token"}`},
		wantDetail: "Twitch token of client wbmytr93xzw8zbg0p1izqyzzc5mbiz for user twitchdev",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "twitchdev" && slices.Equal(a.Scopes, []string{"channel:read:subscriptions"}) && a.Properties["client_id"] == "wbmytr93xzw8zbg0p1izqyzzc5mbiz"
		},
		revokePath: "/revoke", revokeToken: twitchRevoke,
		revoked: reply{body: ``},
	},
	{
		rule: "gitter-access-token", docs: "https://developer.gitter.im/docs/user-resource",
		secret: "ubrhdt1yln95bggkfeno32zkohr1250yvojmna6x", sample: `"GITTER_TOKEN": "ubrhdt1yln95bggkfeno32zkohr1250yvojmna6x",`,
		path: "/user", token: bearerToken,
		live:       reply{body: `[{"id":"53307734c3599d1de448e192","username":"malditogeek","displayName":"Mauro Pompilio","url":"/malditogeek","avatarUrlSmall":"https://avatars.githubusercontent.com/u/14751?","avatarUrlMedium":"https://avatars.githubusercontent.com/u/14751?"}]`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"Unauthorized"}`},
		wantDetail: "Gitter user malditogeek",
	},
	{
		rule: "intercom-api-key", docs: "https://developers.intercom.com/docs/references/rest-api/api.intercom.io/admins/identifyadmin",
		secret: "DoGtfFscAHd2mIhC9e1xxTI91t8vSRGXZHaIyqVbXXjmtxJ-l4PhtaaLSzh=", sample: `<INTERCOM_ACCESS_TOKEN>DoGtfFscAHd2mIhC9e1xxTI91t8vSRGXZHaIyqVbXXjmtxJ-l4PhtaaLSzh=</INTERCOM_ACCESS_TOKEN>`,
		path: "/me", token: bearerToken,
		live: reply{body: `{"type":"admin","id":"991267460","email":"admin@acme.example","name":"Ciaran Lee","email_verified":true,` +
			`"app":{"type":"app","id_code":"this_is_an_id","name":"Acme Support","created_at":1734537243,"secure":false,"identity_verification":false,"timezone":"America/Los_Angeles","region":"US"},"avatar":{"type":"avatar","image_url":null},"has_inbox_seat":true}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"type":"error.list","request_id":"b3c4f2a0-0000-0000-0000-000000000000","errors":[{"code":"unauthorized","message":"Access Token Invalid"}]}`},
		wantDetail: "Intercom admin admin@acme.example of app Acme Support (US)",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "admin@acme.example" && a.Account == "Acme Support" },
	},
	{
		rule: "line-channel-access-token", docs: "https://developers.line.biz/en/reference/messaging-api/#get-bot-info",
		secret: "sJOpWSPT6ohDzkxLkHbH50EY8OGGNXYSMU1G6xFqtytN08YvnM3z2LuYw6DfEoRZzDrKGci519q/UcewxRlbcDuxZFSjtdVPFeTX2MsnMCjVqM2xIMKaMBwausc7vj3qwA03Zu3Q4oVO6qc3z5Rscve2kq3o/dmy8H/B2Gg4//k4=",
		sample: `LINE_CHANNEL_ACCESS_TOKEN = "sJOpWSPT6ohDzkxLkHbH50EY8OGGNXYSMU1G6xFqtytN08YvnM3z2LuYw6DfEoRZzDrKGci519q/UcewxRlbcDuxZFSjtdVPFeTX2MsnMCjVqM2xIMKaMBwausc7vj3qwA03Zu3Q4oVO6qc3z5Rscve2kq3o/dmy8H/B2Gg4//k4="`,
		path:   "/v2/bot/info", token: bearerToken,
		live:       reply{body: `{"userId":"Ub9952f8e0b9d14e2a5d8e6f3c1a2b3c4","basicId":"@216ru...","displayName":"Acme bot","pictureUrl":"https://profile.line-scdn.net/abcdefghijklmn","chatMode":"chat","markAsReadMode":"manual"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"Authentication failed. Confirm that the access token in the authorization header is valid."}`},
		wantDetail: "LINE bot Acme bot",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "Acme bot" },
		revokePath: "/v2/oauth/revoke", revokeToken: formToken("access_token"),
		revoked: reply{body: `{}`},
	},
	{
		rule: "twitter-bearer-token", docs: "https://docs.x.com/x-api/fundamentals/response-codes-and-errors",
		secret: "Ls4Jo8os2fIipnI0oGnYLCANKEq8TZKuVDHxMEvIutQIpLTUuJD70dX9Ek5Zn6kgL7fqT1OS5lDaktMBXG1A1N0KPz",
		sample: `export TWITTER_BEARER_TOKEN="AAAAAAAAAAAAAAAAAAAAAALs4Jo8os2fIipnI0oGnYLCANKEq8TZKuVDHxMEvIutQIpLTUuJD70dX9Ek5Zn6kgL7fqT1OS5lDaktMBXG1A1N0KPz"`,
		path:   "/2/users/me", token: twitterBearer,
		live: reply{status: http.StatusForbidden, body: `{"title":"Unsupported Authentication","detail":"Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",` +
			`"type":"https://api.twitter.com/2/problems/unsupported-authentication","status":403}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`},
		wantDetail: "X app-only bearer token",
	},
	{
		rule: "facebook-access-token", docs: "https://developers.facebook.com/docs/graph-api/overview#me",
		secret: "EAAMJbQi5UnR3debcKobEJXU8bL2lM6ESTy3s7pzZm80y9F8I5VPtrAGgKZutHUzpZiwnuFjsoQWJG6UFtpRMIRj4BFJvKvwYrXRUwPQRTwPXJK0zAGThrjXAxNMabORJFjZhy77IbUXNpVpUDyUdaet7tUymOurxojPq8WGmjBGji0EnHJiqcJm",
		path:   "/me?fields=id,name", token: bearerToken,
		live:         reply{body: `{"id":"10158791234567890","name":"Grace Hopper"}`},
		invalid:      reply{status: http.StatusBadRequest, body: `{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"AbCdEf"}}`},
		wantDetail:   "Facebook token of Grace Hopper (10158791234567890)",
		wantAccess:   func(a *finding.Access) bool { return a.Identity == "Grace Hopper" },
		revokeMethod: "DELETE", revokePath: "/me/permissions", revoked: reply{body: `{"success":true}`},
	},
	{
		rule: "facebook-app-access-token", docs: "https://developers.facebook.com/docs/graph-api/reference/application/",
		secret: "882203992104822|kIy72ZqxmycoUyNZ2-OqDFXjdSN",
		path:   "/app?fields=id,name", token: bearerToken,
		live:       reply{body: `{"id":"882203992104822","name":"Acme Login"}`},
		invalid:    reply{status: http.StatusBadRequest, body: `{"error":{"message":"Invalid OAuth access token signature.","type":"OAuthException","code":190,"fbtrace_id":"AbCdEf"}}`},
		wantDetail: "Facebook app Acme Login (882203992104822)",
		wantAccess: func(a *finding.Access) bool { return a.Properties["app_id"] == "882203992104822" },
	},
	{
		rule: "postmark-server-token", docs: "https://postmarkapp.com/developer/api/server-api#get-server",
		secret: "89cfe4ea-7c87-4586-a89c-5e38f52949c7", sample: `POSTMARK_SERVER_TOKEN := "89cfe4ea-7c87-4586-a89c-5e38f52949c7"`,
		path: "/server", token: headerToken("X-Postmark-Server-Token"),
		live:       reply{body: `{"ID":1,"Name":"Staging Testing","ApiTokens":["89cfe4ea-7c87-4586-a89c-5e38f52949c7"],"Color":"red","SmtpApiActivated":true,"RawEmailEnabled":false,"DeliveryType":"Live","ServerLink":"https://postmarkapp.com/servers/1/streams","InboundAddress":"yourhash@inbound.postmarkapp.com","TrackOpens":false,"TrackLinks":"None"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"ErrorCode":10,"Message":"Request does not contain a valid Server token."}`},
		wantDetail: "Postmark server Staging Testing",
		wantAccess: func(a *finding.Access) bool {
			return a.Account == "Staging Testing" && a.Properties["delivery"] == "Live"
		},
	},
	{
		rule: "postmark-account-token", docs: "https://postmarkapp.com/developer/api/servers-api#list-servers",
		secret: "9a61234c-932d-8cb0-d88d-c8ed3ca551ed", sample: `POSTMARK_ACCOUNT_TOKEN=9a61234c-932d-8cb0-d88d-c8ed3ca551ed`,
		path: "/servers?count=1&offset=0", token: headerToken("X-Postmark-Account-Token"),
		live:       reply{body: `{"TotalCount":2,"Servers":[{"ID":1,"Name":"Production01","ApiTokens":["fe83e26a-5a1f-4bd0-b6e4-ba2e25dcbe3b"],"Color":"red","DeliveryType":"Live"}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"ErrorCode":10,"Message":"Request does not contain a valid Account token."}`},
		wantDetail: "Postmark account token; 2 servers",
		wantAccess: func(a *finding.Access) bool { return a.Resources != nil && *a.Resources == 2 },
	},
	{
		rule: "strava-access-token", docs: "https://developers.strava.com/docs/reference/#api-Athletes-getLoggedInAthlete",
		secret: "c54bce6a497b4a1e2f3e2c27dc77cb13fe1577ca", sample: `STRAVA_ACCESS_TOKEN=c54bce6a497b4a1e2f3e2c27dc77cb13fe1577ca`,
		path: "/api/v3/athlete", token: bearerToken,
		live:       reply{body: `{"id":1234567890987654400,"username":"marianne_t","resource_state":3,"firstname":"Marianne","lastname":"Teutenberg","city":"San Francisco","country":"US","premium":true}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"Authorization Error","errors":[{"resource":"Athlete","field":"access_token","code":"invalid"}]}`},
		wantDetail: "Strava athlete marianne_t",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "marianne_t" },
		revokePath: "/oauth/deauthorize", revokeToken: formToken("access_token"),
		revoked: reply{body: `{"access_token":"c54bce6a497b4a1e2f3e2c27dc77cb13fe1577ca"}`},
	},
	{
		rule: "mailersend-api-token", docs: "https://developers.mailersend.com/api/v1/domains.html#get-a-list-of-domains",
		secret: "mlsn.c9a7c2461c1c3dc46752acb08b47d88439b04f07a310c25ca2415ca4843eab99",
		path:   "/domains?limit=10", token: bearerToken,
		live:       reply{body: `{"data":[{"id":"2nxjrw5p1wlqrgj3","name":"acme.example","dkim":true,"spf":true,"is_verified":true,"created_at":"2025-01-01T00:00:00.000000Z"}],"links":{"first":"https://api.mailersend.com/v1/domains?page=1"},"meta":{"current_page":1,"per_page":10}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"Unauthenticated."}`},
		wantDetail: "MailerSend token; domain acme.example",
	},
	{
		rule: "sparkpost-api-key", docs: "https://developers.sparkpost.com/api/account/#account-get-retrieve-account-information",
		secret: "9d4a398e58906724e374e6f0f17d5c81a149726c", sample: `SPARKPOST_API_KEY=9d4a398e58906724e374e6f0f17d5c81a149726c`,
		path: "/api/v1/account", token: headerToken("Authorization"),
		live:       reply{body: `{"results":{"company_name":"Example Inc","customer_id":123456,"status":"active","anniversary_date":"2015-01-11T08:00:00.000Z","options":{"smtp_tracking_default":false}}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"errors":[{"message":"Unauthorized."}]}`},
		wantDetail: "SparkPost account Example Inc (123456)",
		wantAccess: func(a *finding.Access) bool { return a.Account == "Example Inc" },
	},
	{
		rule: "pushbullet-access-token", docs: "https://docs.pushbullet.com/#get-user",
		secret: "o.vQMagV46CGODvE6Gp2TwCf2MT6JtnSiT", sample: `PUSHBULLET_TOKEN=o.vQMagV46CGODvE6Gp2TwCf2MT6JtnSiT`,
		path: "/v2/users/me", token: headerToken("Access-Token"),
		live:       reply{body: `{"active":true,"iden":"ujpah72o0","created":1381092887.398433,"modified":1441054560.741007,"email":"elon@teslamotors.com","email_normalized":"elon@teslamotors.com","name":"Elon Musk","max_upload_size":26214400}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"code":"invalid_access_token","type":"invalid_request","message":"Access token is missing or invalid.","cat":"(=^..^=)"}}`},
		wantDetail: "Pushbullet user Elon Musk",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "elon@teslamotors.com" },
	},
	{
		rule: "klaviyo-private-api-key", docs: "https://developers.klaviyo.com/en/reference/get_accounts",
		secret: "pk_773fd306bb505ac001131972433e89dc1b",
		path:   "/api/accounts/", token: schemeToken("Klaviyo-API-Key"),
		live:       reply{body: `{"data":[{"type":"account","id":"AbC123","attributes":{"contact_information":{"default_sender_name":"Acme","organization_name":"Acme Shop","website_url":"https://acme.example"},"industry":"Retail","timezone":"US/Eastern"}}]}`, header: map[string]string{"Content-Type": "application/vnd.api+json"}},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"errors":[{"id":"7f1d3c2a","status":401,"code":"not_authenticated","title":"Authentication credentials were not provided.","detail":"Missing or invalid private key."}]}`, header: map[string]string{"Content-Type": "application/vnd.api+json"}},
		wantDetail: "Klaviyo account Acme Shop (AbC123)",
		wantAccess: func(a *finding.Access) bool { return a.Account == "Acme Shop" },
	},
	{
		rule: "loops-api-key", docs: "https://loops.so/docs/api-reference/api-key",
		secret: "a413fe4d99356e3a333e44f2de94d59d", sample: `LOOPS_API_KEY=a413fe4d99356e3a333e44f2de94d59d`,
		path: "/api-key", token: bearerToken,
		live:       reply{body: `{"success":true,"teamName":"Acme"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"Invalid API key"}`},
		wantDetail: "Loops key of team Acme",
	},
}

// discordWebhook reads the webhook URL back from /webhooks/{id}/{token}.
func discordWebhook(r *http.Request, _ []byte) string {
	return "https://discord.com/api" + r.URL.Path
}

// telegramToken reads the token from /bot<token>/getMe.
func telegramToken(r *http.Request, _ []byte) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	tok, ok := strings.CutPrefix(seg, "bot")
	if !ok {
		return ""
	}
	return tok
}

// twitterBearer reads the part of an app-only bearer token after its 22 A's
// (what the rule reports as the secret).
func twitterBearer(r *http.Request, _ []byte) string {
	tok, ok := strings.CutPrefix(bearerToken(r, nil), strings.Repeat("A", 22))
	if !ok {
		return ""
	}
	return tok
}

// twitchRevoke reads the token of POST /oauth2/revoke, which Twitch accepts
// only with the client id the token belongs to.
func twitchRevoke(r *http.Request, body []byte) string {
	if formToken("client_id")(r, body) != "wbmytr93xzw8zbg0p1izqyzzc5mbiz" {
		return ""
	}
	return formToken("token")(r, body)
}

func init() { providerCases = append(providerCases, messagingCases...) }

package verify

import (
	"net/http"
	"slices"

	"github.com/tokenward/tokenward/finding"
)

// Fakes of AI platform APIs, from each provider's documented responses.
var aiCases = []providerCase{
	{
		rule: "openai-api-key", docs: "https://platform.openai.com/docs/api-reference/models/list",
		secret: "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",
		path:   "/models", token: bearerToken,
		live: reply{body: `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},{"id":"o3-mini","object":"model","created":1737146383,"owned_by":"system"}]}`,
			header: map[string]string{"openai-organization": "acme-research", "openai-project": "proj_abc123", "openai-version": "2020-10-01"}},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"Incorrect API key provided: sk-proj-****. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`},
		wantDetail: "OpenAI organization acme-research; 2 models",
		wantAccess: func(a *finding.Access) bool {
			return a.Account == "acme-research" && a.Resources != nil && *a.Resources == 2 && a.Properties["project"] == "proj_abc123"
		},
	},
	{
		rule: "anthropic-api-key", docs: "https://docs.anthropic.com/en/api/models-list",
		secret: "sk-ant-api03-kUD13udU5v9DXPTVn2TOC2uvNeKhJ3nNZh9QNZ5Pv2-Mju5mj8T4Ztr7OpTolkQg1dKczOMYYh2cNln1oFRR6CTAuj-tWAA",
		path:   "/models?limit=1", token: anthropicKey,
		live:       reply{body: `{"data":[{"type":"model","id":"claude-sonnet-4-20250514","display_name":"Claude Sonnet 4","created_at":"2025-05-22T00:00:00Z"}],"has_more":true,"first_id":"claude-sonnet-4-20250514","last_id":"claude-sonnet-4-20250514"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`},
		failing:    &reply{status: 529, body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`},
		wantDetail: "Anthropic API key",
	},
	{
		rule: "anthropic-admin-api-key", docs: "https://docs.anthropic.com/en/api/admin-api/organization/get-me",
		secret: "sk-ant-admin01-xe2T28pSRZPXQmFpLYV1SyRof5ZWyueN4dxeoR_idhly86Q6qdzhfNXhZWgkwW4Oh8WJlQmzfOZplaIgAmuBjR8DVthoXAA",
		path:   "/organizations/me", token: anthropicKey,
		live:       reply{body: `{"id":"12345678-1234-5678-1234-567812345678","type":"organization","name":"Acme Labs"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`},
		wantDetail: "organization Acme Labs",
		wantAccess: func(a *finding.Access) bool {
			return a.Account == "Acme Labs" && a.Properties["organization_id"] == "12345678-1234-5678-1234-567812345678"
		},
	},
	{
		rule: "huggingface-access-token", docs: "https://huggingface.co/docs/hub/api#get-apiwhoami-v2",
		secret: "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",
		path:   "/whoami-v2", token: bearerToken,
		live: reply{body: `{"type":"user","id":"6461b2d5f5c5e6a1b2c3d4e5","name":"grace","fullname":"Grace H","email":"grace@example.com","emailVerified":true,"isPro":false,` +
			`"orgs":[{"type":"org","name":"acme","fullname":"Acme","roleInOrg":"admin"},{"type":"org","name":"labs","fullname":"Labs","roleInOrg":"read"}],` +
			`"auth":{"type":"access_token","accessToken":{"displayName":"ci-token","role":"write","createdAt":"2025-01-01T00:00:00.000Z"}}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"Invalid credentials in Authorization header"}`},
		wantDetail: "Hugging Face user grace; token ci-token role write; 2 organizations",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "grace" && slices.Equal(a.Scopes, []string{"write"}) && a.Resources != nil && *a.Resources == 2
		},
	},
	{
		rule: "huggingface-organization-api-token", docs: "https://huggingface.co/docs/hub/api#get-apiwhoami-v2",
		secret: "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",
		path:   "/whoami-v2", token: bearerToken,
		live:       reply{body: `{"type":"org","name":"acme","fullname":"Acme","auth":{"type":"access_token","accessToken":{"displayName":"org-api","role":"read"}}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"Invalid credentials in Authorization header"}`},
		wantDetail: "Hugging Face org acme; role read",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "acme" && a.Properties["type"] == "org" },
	},
	{
		rule: "groq-api-key", docs: "https://console.groq.com/docs/api-reference#models-list",
		secret: "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",
		path:   "/models", token: bearerToken,
		live:       reply{body: `{"object":"list","data":[{"id":"llama-3.3-70b-versatile","object":"model","created":1733447754,"owned_by":"Meta","active":true,"context_window":131072}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}}`},
		wantDetail: "Groq API key",
	},
	{
		rule: "perplexity-api-key", docs: "https://docs.perplexity.ai/api-reference/async-chat-completions-get",
		secret: "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",
		path:   "/async/chat/completions", token: bearerToken,
		live:       reply{body: `{"requests":[{"id":"req_123","model":"sonar-deep-research","created_at":1735689600,"status":"COMPLETED"}],"next_token":null}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"Invalid API key","type":"invalid_api_key","code":401}}`},
		wantDetail: "Perplexity API key",
	},
	{
		rule: "replicate-api-token", docs: "https://replicate.com/docs/reference/http#account.get",
		secret: "r8_QMXlmhiql87ATSNW2v8kPGZKJadh3sFxFZiQi",
		path:   "/account", token: bearerToken,
		live:       reply{body: `{"type":"organization","username":"acme","name":"Acme Corp, Inc.","github_url":"https://github.com/acme"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"title":"Unauthenticated","detail":"You did not pass a valid authentication token","status":401}`},
		wantDetail: "Replicate organization acme",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "acme" && a.Properties["type"] == "organization" },
	},
	{
		rule: "xai-api-key", docs: "https://docs.x.ai/docs/api-reference#api-key",
		secret: "xai-aRSYM2BQ1ZV2dtRQwscVHcYSCBm2sx1Dp1eLb8aillTe02UrdLIFj9A67EwR7vFCLL5yzGkwUwHQJTBg",
		path:   "/api-key", token: bearerToken,
		live: reply{body: `{"redacted_api_key":"xai-...TBg","user_id":"59fbe5f2-040b-46d5-8325-868bb8f23eb2","name":"ci key","create_time":"2024-01-01T12:55:18.139305Z",` +
			`"modify_time":"2024-08-28T17:20:12.343321Z","modified_by":"3d38b4dc-4eb7-4785-ae26-c3fa8997ffc7","team_id":"5ea6f6bd-7815-4b8a-9135-28b2d7ba6722",` +
			`"acls":["api-key:model:*","api-key:endpoint:*"],"api_key_id":"ae1e1841-4326-4b36-a8a9-8a1a7237db11","team_blocked":false,"api_key_blocked":false,"api_key_disabled":false}`},
		invalid:    reply{status: http.StatusBadRequest, body: `{"code":"Client specified an invalid argument","error":"Incorrect API key provided: xa***Bg. You can obtain an API key from https://console.x.ai."}`},
		wantDetail: "xAI key ci key of team 5ea6f6bd-7815-4b8a-9135-28b2d7ba6722",
		wantAccess: func(a *finding.Access) bool {
			return a.Account == "5ea6f6bd-7815-4b8a-9135-28b2d7ba6722" && slices.Equal(a.Scopes, []string{"api-key:model:*", "api-key:endpoint:*"})
		},
	},
	{
		rule: "openrouter-api-key", docs: "https://openrouter.ai/docs/api-reference/api-keys/get-current-key",
		secret: "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",
		path:   "/key", token: bearerToken,
		live:       reply{body: `{"data":{"label":"sk-or-v1-696...ca2","limit":100,"usage":12.5,"limit_remaining":87.5,"is_free_tier":false,"rate_limit":{"requests":200,"interval":"10s"}}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"No auth credentials found","code":401}}`},
		wantDetail: "usage 12.5 of limit 100",
		wantAccess: func(a *finding.Access) bool {
			return a.Properties["limit"] == "100" && a.Properties["usage"] == "12.5" && a.Properties["free_tier"] == "false"
		},
	},
	{
		rule: "langsmith-api-key", docs: "https://docs.langchain.com/langsmith/manage-organization-by-api",
		secret: "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",
		path:   "/workspaces", token: headerToken("X-Api-Key"),
		live:       reply{body: `[{"id":"a3866f07-2cf5-4e9c-a287-59ed817c2ecd","display_name":"Demo Workspace","organization_id":"0c6b2e8e-5b0e-4a57-9a4a-0e2f3c1d2b3a"}]`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"detail":"Invalid token"}`},
		wantDetail: "workspace Demo Workspace",
		wantAccess: func(a *finding.Access) bool { return a.Account == "Demo Workspace" },
	},
	{
		rule: "tavily-api-key", docs: "https://docs.tavily.com/documentation/api-reference/endpoint/usage",
		secret: "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",
		path:   "/usage", token: bearerToken,
		live:       reply{body: `{"key":{"usage":150,"limit":1000},"account":{"current_plan":"Bootstrap","plan_usage":500,"plan_limit":15000,"paygo_usage":25,"paygo_limit":100}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"detail":{"error":"Unauthorized: missing or invalid API key."}}`},
		wantDetail: "plan Bootstrap; 150 credits used",
	},
	{
		rule: "cohere-api-key", docs: "https://docs.cohere.com/reference/checkapikey",
		secret: "PP58WGrS6hoPuOCey2qYen4FoNjcJbN3VNbWd69J", sample: `export COHERE_API_KEY="PP58WGrS6hoPuOCey2qYen4FoNjcJbN3VNbWd69J"`,
		method: "POST", path: "/check-api-key", token: bearerToken,
		live:       reply{body: `{"valid":true,"organization_id":"org-8a6c1d2e","owner_id":"user-1f2e3d4c"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"invalid api token"}`},
		wantDetail: "Cohere key of organization org-8a6c1d2e",
		wantAccess: func(a *finding.Access) bool { return a.Account == "org-8a6c1d2e" },
	},
	{
		rule: "mistral-api-key", docs: "https://docs.mistral.ai/api/#tag/models/operation/list_models_v1_models_get",
		secret: "r76BLQGAGmIgd8STrGNVzVJis6CFo202", sample: `export MISTRAL_API_KEY="r76BLQGAGmIgd8STrGNVzVJis6CFo202"`,
		path: "/models", token: bearerToken,
		live:       reply{body: `{"object":"list","data":[{"id":"mistral-large-latest","object":"model","created":1732000000,"owned_by":"mistralai"}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"Unauthorized","request_id":"5b8e2c1a9d"}`},
		wantDetail: "Mistral API key",
	},
	{
		rule: "deepseek-api-key", docs: "https://api-docs.deepseek.com/api/get-user-balance",
		secret: "sk-23cedee5351ce854a7c9f6e2816c2c35", sample: `"DEEPSEEK_API_KEY": "sk-23cedee5351ce854a7c9f6e2816c2c35",`,
		path: "/user/balance", token: bearerToken,
		live:       reply{body: `{"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"Authentication Fails, Your api key: ****2c35 is invalid","type":"authentication_error","param":null,"code":"invalid_request_error"}}`},
		wantDetail: "balance 110.00 CNY",
		wantAccess: func(a *finding.Access) bool { return a.Properties["balance"] == "110.00 CNY" },
	},
	{
		rule: "together-api-key", docs: "https://docs.together.ai/reference/models-1",
		secret: "8607bf6d7b1603189b3bf28bfd9198942876baa02ab5add425a4bc90eaa9c0a1", sample: `TOGETHER_API_KEY = "8607bf6d7b1603189b3bf28bfd9198942876baa02ab5add425a4bc90eaa9c0a1"`,
		path: "/models", token: bearerToken,
		live:       reply{body: `[{"id":"meta-llama/Llama-3.3-70B-Instruct-Turbo","object":"model","created":1733443200,"type":"chat","display_name":"Llama 3.3 70B"}]`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`},
		wantDetail: "Together AI API key",
	},
	{
		rule: "elevenlabs-api-key", docs: "https://elevenlabs.io/docs/api-reference/user/get",
		secret: "sk_07f4fb1f4f420cb48197bfba98b7c32f6e5d6c71b5e5ec01", sample: `ELEVENLABS_API_KEY=sk_07f4fb1f4f420cb48197bfba98b7c32f6e5d6c71b5e5ec01`,
		path: "/user", token: headerToken("xi-api-key"),
		live:       reply{body: `{"user_id":"u_1a2b3c","subscription":{"tier":"creator","character_count":1200,"character_limit":100000,"status":"active"},"is_new_user":false,"first_name":"Grace"}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}`},
		wantDetail: "ElevenLabs user u_1a2b3c on tier creator",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "u_1a2b3c" && a.Properties["tier"] == "creator" },
	},
	{
		rule: "assemblyai-api-key", docs: "https://www.assemblyai.com/docs/api-reference/transcripts/list",
		secret: "f5b376147a2374c29430ca0687bc8ad7", sample: `ASSEMBLYAI_API_KEY := "f5b376147a2374c29430ca0687bc8ad7"`,
		path: "/transcript?limit=1", token: headerToken("Authorization"),
		live:       reply{body: `{"page_details":{"limit":1,"result_count":1,"current_url":"https://api.assemblyai.com/v2/transcript?limit=1","prev_url":null,"next_url":null},"transcripts":[{"id":"tr_1","status":"completed","created":"2025-01-01T00:00:00"}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":"Authentication error, API token missing/invalid"}`},
		wantDetail: "AssemblyAI API key",
	},
	{
		rule: "deepgram-api-key", docs: "https://developers.deepgram.com/reference/management-api/projects/list",
		secret: "018315cd28554823600afe2918894b7bc052e598", sample: `DEEPGRAM_API_KEY=018315cd28554823600afe2918894b7bc052e598`,
		path: "/projects", token: schemeToken("Token"),
		live:       reply{body: `{"projects":[{"project_id":"3fa85f64-5717-4562-b3fc-2c963f66afa6","name":"Transcription","company":"Acme"}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"err_code":"INVALID_AUTH","err_msg":"Invalid credentials.","request_id":"e1f2"}`},
		wantDetail: "Deepgram key; 1 projects (Transcription",
		wantAccess: func(a *finding.Access) bool {
			return a.Resources != nil && *a.Resources == 1 && a.ResourceKind == "projects"
		},
	},
	{
		rule: "pinecone-api-key", docs: "https://docs.pinecone.io/reference/api/2025-01/control-plane/list_indexes",
		secret: "b943563f-0486-44b7-a7e9-73d02d2ffd7e", sample: `export PINECONE_API_KEY="b943563f-0486-44b7-a7e9-73d02d2ffd7e"`,
		path: "/indexes", token: headerToken("Api-Key"),
		live:       reply{body: `{"indexes":[{"name":"docs","dimension":1536,"metric":"cosine","host":"docs-abc123.svc.aped-4627-b74a.pinecone.io","status":{"ready":true,"state":"Ready"}},{"name":"faq","dimension":768,"metric":"dotproduct","host":"faq-def456.svc.aped-4627-b74a.pinecone.io","status":{"ready":true,"state":"Ready"}}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"code":"UNAUTHENTICATED","message":"Invalid API Key"},"status":401}`},
		wantDetail: "Pinecone key; 2 indexes",
		wantAccess: func(a *finding.Access) bool { return a.Resources != nil && *a.Resources == 2 },
	},
}

// anthropicKey reads x-api-key, as Anthropic does, and requires the
// anthropic-version header its API demands.
func anthropicKey(r *http.Request, _ []byte) string {
	if r.Header.Get("anthropic-version") == "" {
		return ""
	}
	return r.Header.Get("X-Api-Key")
}

func init() { providerCases = append(providerCases, aiCases...) }

var aiCases2 = []providerCase{
	{
		rule: "openai-admin-api-key", docs: "https://platform.openai.com/docs/api-reference/users/list",
		secret: "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",
		path:   "/organization/users?limit=1", token: bearerToken,
		live: reply{body: `{"object":"list","data":[{"object":"organization.user","id":"user_abc","name":"First Last","email":"user@example.com","role":"owner","added_at":1711471533}],"first_id":"user_abc","last_id":"user_abc","has_more":true}`,
			header: map[string]string{"openai-organization": "acme-research"}},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"error":{"message":"Incorrect API key provided: sk-admin-****.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`},
		wantDetail: "OpenAI Admin API key of organization acme-research",
		wantAccess: func(a *finding.Access) bool { return a.Account == "acme-research" },
	},
	{
		rule: "stability-ai-api-key", docs: "https://platform.stability.ai/docs/api-reference#tag/User/paths/~1v1~1user~1account/get",
		secret: "sk-ca0DAAJTGZSJADQjZ835H8yr7kuE7uyKU0riUzAJH2V2DM5o", sample: `STABILITY_API_KEY=sk-ca0DAAJTGZSJADQjZ835H8yr7kuE7uyKU0riUzAJH2V2DM5o`,
		path: "/v1/user/account", token: bearerToken,
		live:       reply{body: `{"id":"user-1234","email":"example@stability.ai","profile_picture":"https://example.stability.ai/pic.png","organizations":[{"id":"org-123","name":"My Organization","role":"MEMBER","is_default":true}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"id":"9160aa70222f4e2f9c2f3e8f7e6d5c4b","name":"unauthorized","errors":["Incorrect API key provided"]}`},
		wantDetail: "Stability AI account example@stability.ai; organization My Organization",
		wantAccess: func(a *finding.Access) bool {
			return a.Identity == "example@stability.ai" && a.Resources != nil && *a.Resources == 1
		},
	},
	{
		rule: "cerebras-api-key", docs: "https://inference-docs.cerebras.ai/api-reference/models",
		secret: "csk-11a5krrb0d50dfmym2dcx9jo5qke5phu4ibu1rldothiwymw",
		path:   "/models", token: bearerToken,
		live:       reply{body: `{"object":"list","data":[{"id":"llama3.1-8b","object":"model","created":0,"owned_by":"Meta"}]}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"message":"Wrong API Key","type":"invalid_request_error","param":"api_key","code":"wrong_api_key"}`},
		wantDetail: "Cerebras API key",
	},
	{
		rule: "firecrawl-api-key", docs: "https://docs.firecrawl.dev/api-reference/endpoint/credit-usage",
		secret: "fc-45cddad44c3fa0170e061af36f236fa7",
		path:   "/team/credit-usage", token: bearerToken,
		live:       reply{body: `{"success":true,"data":{"remaining_credits":1000}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"success":false,"error":"Unauthorized: Invalid token"}`},
		wantDetail: "Firecrawl key; 1000 credits remaining",
	},
	{
		rule: "llamacloud-api-key", docs: "https://docs.cloud.llamaindex.ai/API/list-projects-api-v-1-projects-get",
		secret: "llx-H5iD56d1Ejx34fNUOwOLm0tlp8whccT18sAdNhBm2WMPgboF",
		path:   "/projects", token: bearerToken,
		live:       reply{body: `[{"name":"Default","id":"3fa85f64-5717-4562-b3fc-2c963f66afa6","organization_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","is_default":true}]`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"detail":"Invalid API Key"}`},
		wantDetail: "LlamaCloud key; project Default",
		wantAccess: func(a *finding.Access) bool { return a.Account == "7c9e6679-7425-40de-944b-e07fc1f90ae7" },
	},
	{
		rule: "wandb-api-key", docs: "https://docs.wandb.ai/guides/track/public-api-guide/",
		secret: "57ea133a76ecf3780630c311d9129450ed3c4870", sample: `export WANDB_API_KEY="57ea133a76ecf3780630c311d9129450ed3c4870"`,
		method: "POST", path: "/graphql", token: wandbKey,
		live:       reply{body: `{"data":{"viewer":{"id":"VXNlcjoxMjM0NQ==","username":"grace","entity":"acme-ml"}}}`},
		invalid:    reply{status: http.StatusUnauthorized, body: `{"errors":[{"message":"user is not logged in","path":["viewer"]}],"data":{"viewer":null}}`},
		wantDetail: "W&B user grace (entity acme-ml)",
		wantAccess: func(a *finding.Access) bool { return a.Identity == "grace" && a.Account == "acme-ml" },
	},
}

// wandbKey reads the password of basic auth user "api", as W&B's API does.
func wandbKey(r *http.Request, _ []byte) string {
	u, p, ok := r.BasicAuth()
	if !ok || u != "api" {
		return ""
	}
	return p
}

func init() { providerCases = append(providerCases, aiCases2...) }

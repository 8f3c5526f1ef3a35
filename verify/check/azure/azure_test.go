package azure

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
)

const (
	tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	client = "535fb089-9ff3-47b6-9bfb-4f1264799865"
	secret = "wN70Q~pUXIczc5vKeD2ggAO3nQMwjHORQSF1-ur3"
)

// fakeEntra is the v2.0 token endpoint as documented for the client
// credentials grant with a shared secret: a token on success, AADSTS7000215
// for a wrong secret, AADSTS700016 for an app the tenant lacks, AADSTS90002
// for an unknown tenant.
type fakeEntra struct {
	mu     sync.Mutex
	status int // forced reply
	bad    []string
}

func aadErr(w http.ResponseWriter, status int, e string, code int, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": e, "error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: 0000\r\nTimestamp: 2026-12-02 06:00:00Z", code, desc),
		"error_codes": []int{code}, "timestamp": "2026-12-02 06:00:00Z", "trace_id": "0000", "correlation_id": "1111"})
}

func (f *fakeEntra) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status != 0 {
		w.WriteHeader(f.status)
		return
	}
	ten, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/v2.0/token")
	if r.Method != http.MethodPost || !ok || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != Scope {
		f.bad = append(f.bad, r.Method+" "+r.URL.String())
		aadErr(w, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	switch {
	case ten != tenant && ten != "contoso.onmicrosoft.com":
		aadErr(w, 400, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found.", ten))
	case r.PostForm.Get("client_id") != client:
		aadErr(w, 400, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", r.PostForm.Get("client_id"), ten))
	case r.PostForm.Get("client_secret") != secret:
		aadErr(w, 401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+client+"'.")
	default:
		payload, _ := json.Marshal(map[string]any{"aud": "https://graph.microsoft.com", "tid": tenant, "appid": client, "app_displayname": "ci-deployer", "roles": []string{"User.Read.All", "Group.Read.All"}})
		tok := "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
	}
}

func TestClientSecret(t *testing.T) {
	fake := &fakeEntra{}
	ts := httptest.NewServer(fake)
	defer ts.Close()
	env := &check.Env{HTTP: ts.Client(), Endpoint: ts.URL, Timeout: 5 * time.Second}
	parts := func(ten, cl string) map[string]string { return map[string]string{TenantPart: ten, ClientPart: cl} }
	for _, c := range []struct {
		name   string
		cred   check.Credential
		status int
		want   string
		detail string
	}{
		{"live", check.Credential{Secret: secret, Parts: parts(tenant, client)}, 0, finding.StatusLive, "issued a Microsoft Graph token"},
		{"live by tenant domain, from named groups", check.Credential{Secret: secret, Groups: map[string]string{TenantGroup: "Contoso.onmicrosoft.com", ClientGroup: client}}, 0, finding.StatusLive, "contoso.onmicrosoft.com"},
		{"wrong secret", check.Credential{Secret: "xYz1Q~aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Parts: parts(tenant, client)}, 0, finding.StatusInvalid, "AADSTS7000215"},
		{"app not in the tenant", check.Credential{Secret: secret, Parts: parts(tenant, "00000000-0000-0000-0000-000000000001")}, 0, finding.StatusUnknown, "AADSTS700016"},
		{"unknown tenant", check.Credential{Secret: secret, Parts: parts("11111111-1111-1111-1111-111111111111", client)}, 0, finding.StatusUnknown, "AADSTS90002"},
		{"throttled", check.Credential{Secret: secret, Parts: parts(tenant, client)}, 429, finding.StatusUnknown, "429"},
		{"failing", check.Credential{Secret: secret, Parts: parts(tenant, client)}, 503, finding.StatusUnknown, "503"},
		{"no parts", check.Credential{Secret: secret}, 0, finding.StatusUnknown, TenantPart},
		{"tenant that would change the path", check.Credential{Secret: secret, Parts: parts("evil.test/x?", client)}, 0, finding.StatusUnknown, "neither a GUID"},
		{"tenant that would change the host", check.Credential{Secret: secret, Parts: parts("@evil.test", client)}, 0, finding.StatusUnknown, "neither a GUID"},
		{"client id not a GUID", check.Credential{Secret: secret, Parts: parts(tenant, "../../x")}, 0, finding.StatusUnknown, "not a GUID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake.mu.Lock()
			fake.status = c.status
			fake.mu.Unlock()
			r := ClientSecret{}.Verify(context.Background(), env, c.cred)
			if r.Status != c.want || !strings.Contains(r.Detail, c.detail) {
				t.Fatalf("got %s %q, want %s containing %q", r.Status, r.Detail, c.want, c.detail)
			}
			texts := []string{r.Detail}
			if r.Access != nil {
				texts = append(texts, r.Access.Summary())
			}
			for _, s := range texts {
				if strings.Contains(s, c.cred.Secret) || strings.Contains(s, "eyJ") {
					t.Errorf("secret or token shown: %q", s)
				}
			}
			if c.want == finding.StatusLive && (r.Access == nil || r.Access.Identity != "ci-deployer ("+client+")" || r.Access.Account != tenant ||
				strings.Join(r.Access.Scopes, ",") != "User.Read.All,Group.Read.All") {
				t.Errorf("access %+v", r.Access)
			}
		})
	}
	if len(fake.bad) > 0 {
		t.Errorf("unexpected requests: %v", fake.bad)
	}
}

func TestValidTenant(t *testing.T) {
	for s, want := range map[string]bool{
		tenant: true, "contoso.onmicrosoft.com": true, "login.example.co.uk": true,
		"common": false, "evil.test/x": false, "a@b.com": false, "x..y.com": false, "-a.com": false, "a.com:443": false, "": false,
	} {
		if validTenant(s) != want {
			t.Errorf("validTenant(%q) = %v", s, !want)
		}
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

// The built-in composites of the Go checks form one finding each from the
// lines of a .env: the secret with its companions as parts, absorbed.
func TestBuiltinCompositesForm(t *testing.T) {
	for _, c := range []struct {
		name, env string
		rule      string
		parts     []string
	}{
		{"alibaba", "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI4jAK6i8q0r9IttyS\nALIBABA_CLOUD_ACCESS_KEY_SECRET=79IGlstUYCFM9axas3FBHZKDGG4Xby\n",
			"alibaba-access-key-id", []string{"alibaba-secret-key"}},
		{"tencent", "TENCENTCLOUD_SECRET_ID=AKID4VT21y5oLHAf556FUpFzH2pJB4ehwsLz\nTENCENTCLOUD_SECRET_KEY=rkiJhwSHJdHaFquEp6PkmH1DOPMLIssh\n",
			"tencent-cloud-secret-id", []string{"tencent-cloud-secret-key"}},
		{"azure", "AZURE_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47\nAZURE_CLIENT_ID=0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b\nAZURE_CLIENT_SECRET=wN70Q~pUXIczc5vKeD2ggAO3nQMwjHORQSF1-ur3\n",
			"azure-ad-client-secret", []string{"azure-client-id", "azure-tenant-id"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := tree(t, map[string]string{".env": c.env})
			r := tokenward(t, dir, "", "scan", "--format", "json", ".")
			var fs []finding.Finding
			if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil || r.code != 1 {
				t.Fatalf("exit %d %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
			}
			if len(fs) != 1 || fs[0].RuleID != c.rule {
				t.Fatalf("want one %s finding, got:\n%s", c.rule, r.stdout)
			}
			var got []string
			for _, p := range fs[0].Parts {
				got = append(got, p.RuleID)
			}
			if strings.Join(got, ",") != strings.Join(c.parts, ",") {
				t.Errorf("parts %v, want %v", got, c.parts)
			}
		})
	}
}

// An Entra ID client secret with its tenant and client id verifies live
// through the client-credentials grant against a fake token endpoint, which
// sees all three parts; a wrong secret is invalid (AADSTS7000215).
func TestScanVerifyAzureClientSecret(t *testing.T) {
	const (
		tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
		client = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
		secret = "wN70Q~pUXIczc5vKeD2ggAO3nQMwjHORQSF1-ur3"
	)
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.Method != "POST" || r.URL.Path != "/"+tenant+"/oauth2/v2.0/token" || r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != client {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_request","error_codes":[900144]}`)
			return
		}
		if r.PostForm.Get("client_secret") != secret {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`)
			return
		}
		fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0."}`)
	}))
	defer srv.Close()
	for _, c := range []struct{ secret, want string }{{secret, finding.StatusLive}, {"Kp83Q~mZ4vR9tLq2Wn7xYb5cHs1dJf6gUe0aPo-k", finding.StatusInvalid}} {
		env := "AZURE_TENANT_ID=" + tenant + "\nAZURE_CLIENT_ID=" + client + "\nAZURE_CLIENT_SECRET=" + c.secret + "\n"
		dir := tree(t, map[string]string{".env": env})
		r := tokenward(t, dir, "", "scan", "--format", "json", "--verify", "--endpoint", "azure="+srv.URL, ".")
		var fs []finding.Finding
		if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil || len(fs) != 1 {
			t.Fatalf("exit %d %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
		}
		if v := fs[0].Verification; v == nil || v.Status != c.want {
			t.Errorf("secret %s: verification %+v, want %s", finding.Redact(c.secret), v, c.want)
		}
		if strings.Contains(r.stdout+r.stderr, c.secret) {
			t.Errorf("the secret is in the output")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Errorf("token endpoint saw %v", seen)
	}
}

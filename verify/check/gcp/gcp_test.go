package gcp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
	"github.com/tokenward/tokenward/verify/check/gcp/gcpfake"
)

// KeyFile is a service-account key file for rsa key k, and the credential the
// built-in rule gives for it (the escaped PEM as secret, the fields around it
// in the sa_key group).
func keyFile(t *testing.T, k *rsa.PrivateKey, email string) (string, check.Credential) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	esc, _ := json.Marshal(pemText)
	secret := string(esc[1 : len(esc)-1])
	file := `{"type": "service_account", "project_id": "acme-prod", "private_key_id": "7c32f6e5d6c71b5e5ec018fe03c874b8fc712f73",
  "private_key": "` + secret + `",
  "client_email": "` + email + `", "token_uri": "https://evil.test/token"}`
	i := strings.Index(file, `"private_key":`)
	j := strings.Index(file, `"client_email"`) + len(`"client_email": "`+email+`"`)
	return file, check.Credential{RuleID: "gcp-service-account-key", Secret: secret, Groups: map[string]string{KeyGroup: file[i:j]}}
}

func genKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestServiceAccount(t *testing.T) {
	liveKey, deadKey := genKey(t), genKey(t)
	const email = "ci@acme-prod.iam.gserviceaccount.com"
	fake := gcpfake.Start(t, map[string]*rsa.PublicKey{email: &liveKey.PublicKey})
	env := &check.Env{HTTP: fake.Client(), Endpoint: fake.URL, Timeout: 5 * time.Second, Now: time.Now}
	_, live := keyFile(t, liveKey, email)
	_, dead := keyFile(t, deadKey, email)
	_, noEmail := keyFile(t, liveKey, email)
	noEmail.Groups = map[string]string{KeyGroup: `"private_key": "…"`}
	for _, c := range []struct {
		name   string
		env    *check.Env
		cred   check.Credential
		status int // fake's forced status
		want   string
		detail string
	}{
		{"live", env, live, 0, finding.StatusLive, "issued an access token for service account " + email},
		{"deleted or foreign key", env, dead, 0, finding.StatusInvalid, "Invalid JWT Signature."},
		{"no client_email", env, noEmail, 0, finding.StatusUnknown, "no client_email"},
		{"rate limited", env, live, http.StatusTooManyRequests, finding.StatusUnknown, "429"},
		{"failing", env, live, http.StatusServiceUnavailable, finding.StatusUnknown, "503"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake.Status = c.status
			r := ServiceAccount{}.Verify(context.Background(), c.env, c.cred)
			if r.Status != c.want || !strings.Contains(r.Detail, c.detail) {
				t.Fatalf("got %s %q, want %s containing %q", r.Status, r.Detail, c.want, c.detail)
			}
			if strings.Contains(r.Detail, "ya29.") || strings.Contains(r.Detail, "PRIVATE KEY") {
				t.Errorf("detail holds a token or the key: %q", r.Detail)
			}
			if r.Status == finding.StatusLive && (r.Access == nil || r.Access.Identity != email || r.Access.Account != "acme-prod") {
				t.Errorf("access %+v", r.Access)
			}
		})
	}
	fake.Status = 0
	// The key is deleted: the same file is now invalid.
	fake.Revoke(email)
	if r := (ServiceAccount{}).Verify(context.Background(), env, live); r.Status != finding.StatusInvalid {
		t.Errorf("after the key is deleted: %+v", r)
	}
	if len(fake.Bad) > 0 {
		t.Errorf("unexpected requests: %v", fake.Bad)
	}
}

func TestDeadKey(t *testing.T) {
	for _, c := range []struct {
		status int
		e      tokenError
		want   bool
	}{
		{400, tokenError{"invalid_grant", "Invalid JWT Signature."}, true},
		{400, tokenError{"invalid_grant", "Invalid grant: account not found"}, true},
		{401, tokenError{"invalid_client", "The OAuth client was not found."}, true},
		{400, tokenError{"invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."}, false},
		{500, tokenError{"invalid_grant", "Invalid JWT Signature."}, false},
		{400, tokenError{"invalid_scope", "Invalid OAuth scope"}, false},
	} {
		if got := deadKey(c.status, c.e); got != c.want {
			t.Errorf("%d %+v: %v, want %v", c.status, c.e, got, c.want)
		}
	}
}

type recorder struct{ urls []string }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.urls = append(r.urls, req.URL.String())
	return &http.Response{StatusCode: 503, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
}

// The key file's token_uri is never where the assertion goes.
func TestHostIgnoresTokenURI(t *testing.T) {
	file, cred := keyFile(t, genKey(t), "ci@acme-prod.iam.gserviceaccount.com")
	if !strings.Contains(file, "evil.test") {
		t.Fatal("the key file should name a hostile token_uri")
	}
	rec := &recorder{}
	r := ServiceAccount{}.Verify(context.Background(), &check.Env{HTTP: &http.Client{Transport: rec}}, cred)
	if r.Status != finding.StatusUnknown || len(rec.urls) != 1 || rec.urls[0] != TokenURL {
		t.Errorf("%+v sent to %v, want only %s", r, rec.urls, TokenURL)
	}
	if h := (ServiceAccount{}).Host(""); h != "oauth2.googleapis.com" {
		t.Errorf("host %q", h)
	}
	if h := (ServiceAccount{}).Host("http://127.0.0.1:9"); h != "127.0.0.1:9" {
		t.Errorf("host with endpoint %q", h)
	}
}

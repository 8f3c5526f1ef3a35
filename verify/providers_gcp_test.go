package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check/gcp/gcpfake"
)

// The built-in gcp-service-account-key rule gives the check the client_email
// whether it follows the private key (as Google writes key files) or comes
// first (keys sorted by a formatter), and the check proves the key live at a
// fake token endpoint that verifies the signature; no form of the key shows
// in the detail, the access map or the log.
func TestGCPServiceAccountKey(t *testing.T) {
	set := builtinTOML(t)
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	esc, _ := json.Marshal(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	pk := string(esc[1 : len(esc)-1])
	const email = "deploy@acme-prod.iam.gserviceaccount.com"
	fake := gcpfake.Start(t, map[string]*rsa.PublicKey{email: &k.PublicKey})
	files := map[string]string{
		"google's order": `{
  "type": "service_account",
  "project_id": "acme-prod",
  "private_key_id": "7c32f6e5d6c71b5e5ec018fe03c874b8fc712f73",
  "private_key": "` + pk + `",
  "client_email": "` + email + `",
  "client_id": "104167840392011711234",
  "token_uri": "https://oauth2.googleapis.com/token"
}`,
		"sorted keys": `{
  "auth_uri": "https://accounts.google.com/o/oauth2/auth",
  "client_email": "` + email + `",
  "client_id": "104167840392011711234",
  "private_key": "` + pk + `",
  "private_key_id": "7c32f6e5d6c71b5e5ec018fe03c874b8fc712f73",
  "project_id": "acme-prod",
  "type": "service_account"
}`,
	}
	for name, file := range files {
		t.Run(name, func(t *testing.T) {
			f := ruleFinding(t, set, "gcp-service-account-key", file)
			if f.Secret != pk {
				t.Fatalf("secret is not the private key")
			}
			var logs bytes.Buffer
			o := fastOpts("", slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			o.Endpoints = map[string]string{"gcp": fake.URL}
			v, err := New(set, o)
			if err != nil {
				t.Fatal(err)
			}
			got := v.Verify(context.Background(), []finding.Finding{f})[0].Verification
			if got.Status != finding.StatusLive || got.Access == nil || got.Access.Identity != email || got.Access.Account != "acme-prod" {
				t.Fatalf("%+v access %+v", got, got.Access)
			}
			for _, s := range []string{got.Detail, got.Access.Summary(), logs.String()} {
				if strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, pk[40:80]) || strings.Contains(s, "ya29.") {
					t.Errorf("key or token shown: %q", s)
				}
			}
		})
	}
	if len(fake.Bad) > 0 {
		t.Errorf("unexpected requests: %v", fake.Bad)
	}
}

// Package gcpfake is Google's OAuth 2.0 token endpoint for tests, as its
// documentation describes the JWT bearer grant: it verifies the assertion's
// RS256 signature with the public keys it knows, its claims, and answers an
// access token, or 400 invalid_grant "Invalid JWT Signature.".
package gcpfake

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Server is the fake token endpoint (POST /token).
type Server struct {
	*httptest.Server
	mu   sync.Mutex
	keys map[string]*rsa.PublicKey // client_email -> its live key
	// Status, when set, is answered to every request (a failing endpoint).
	Status int
	// Bad lists requests the fake did not expect.
	Bad []string
	// Assertions counts the assertions received.
	Assertions int
}

// Start runs the fake on loopback; live maps service-account emails to the
// public halves of their live keys.
func Start(t testing.TB, live map[string]*rsa.PublicKey) *Server {
	s := &Server{keys: live}
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

// Revoke forgets email's key (deleted in the console).
func (s *Server) Revoke(email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, email)
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Status != 0 {
		w.WriteHeader(s.Status)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/token" || r.ParseForm() != nil ||
		r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		s.Bad = append(s.Bad, r.Method+" "+r.URL.String())
		reply(w, 400, map[string]string{"error": "unsupported_grant_type", "error_description": "Invalid grant_type: "})
		return
	}
	s.Assertions++
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		reply(w, 400, map[string]string{"error": "invalid_request", "error_description": "Invalid JWT."})
		return
	}
	var hdr map[string]string
	var claims struct {
		Iss, Scope, Aud string
		Iat, Exp        int64
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil || err != nil || hdr["alg"] != "RS256" {
		reply(w, 400, map[string]string{"error": "invalid_request", "error_description": "Invalid JWT."})
		return
	}
	if claims.Aud != s.URL+"/token" || claims.Scope == "" || claims.Exp <= claims.Iat || claims.Exp-claims.Iat > 3600 {
		reply(w, 400, map[string]string{"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."})
		return
	}
	pub := s.keys[claims.Iss]
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if pub == nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil {
		reply(w, 400, map[string]string{"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
		return
	}
	reply(w, 200, map[string]any{"access_token": fmt.Sprintf("ya29.c.fake-%d", s.Assertions), "expires_in": 3599, "token_type": "Bearer"})
}

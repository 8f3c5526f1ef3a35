// Package awsfake is a fake AWS STS and IAM for tests (httptest, loopback): it
// checks each request's SigV4 signature by signing the request again with the
// SDK's v4 signer and the secret key it knows, and answers as the documented
// query APIs do, errors included.
//
// docs: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
// docs: https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
// docs: https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccessKey.html
// docs: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html
package awsfake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Key is an access key the fake knows.
type Key struct {
	Secret  string
	ARN     string // arn:aws:iam::123456789012:user/alice
	UserID  string
	Account string
	Active  bool
	// CanDeactivate: the key's user may call iam:UpdateAccessKey on itself.
	CanDeactivate bool
	// SessionToken, for a temporary (ASIA) key, must come with each request.
	SessionToken string
}

// Server is the fake. Its fields may be changed under Mu.
type Server struct {
	Mu       sync.Mutex
	Keys     map[string]*Key
	Throttle bool     // answer every request with the documented Throttling error
	Log      []string // "sts GetCallerIdentity AKIA…" per signed, accepted call
	Bad      []string // requests no documented API sends (not signed, wrong action…)
}

// New returns a fake knowing keys.
func New(keys map[string]*Key) *Server { return &Server{Keys: keys} }

const (
	stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"
	iamNS = "https://iam.amazonaws.com/doc/2010-05-08/"
)

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	form, err := url.ParseQuery(string(body))
	if r.Method != http.MethodPost || r.URL.Path != "/" || err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.Bad = append(s.Bad, r.Method+" "+r.URL.Path)
		writeErr(w, stsNS, 400, "InvalidAction", "Could not find operation for the request")
		return
	}
	action, version := form.Get("Action"), form.Get("Version")
	service, ns := "", ""
	switch {
	case action == "GetCallerIdentity" && version == "2011-06-15":
		service, ns = "sts", stsNS
	case action == "UpdateAccessKey" && version == "2010-05-08":
		service, ns = "iam", iamNS
	default:
		s.Bad = append(s.Bad, "action "+action+" version "+version)
		writeErr(w, stsNS, 400, "InvalidAction", "Could not find operation "+action+" for version "+version)
		return
	}
	if s.Throttle {
		writeErr(w, ns, 400, "Throttling", "Rate exceeded")
		return
	}
	id, code, msg := s.authenticate(r, body, service)
	if code != "" {
		writeErr(w, ns, 403, code, msg)
		return
	}
	k := s.Keys[id]
	s.Log = append(s.Log, service+" "+action+" "+id)
	switch action {
	case "GetCallerIdentity":
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="%s">
  <GetCallerIdentityResult>
    <Arn>%s</Arn>
    <UserId>%s</UserId>
    <Account>%s</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>`, stsNS, k.ARN, k.UserID, k.Account)
	case "UpdateAccessKey":
		if form.Get("UserName") != "" || form.Get("AccessKeyId") != id || form.Get("Status") != "Inactive" {
			s.Bad = append(s.Bad, "UpdateAccessKey of another key or user, or not to Inactive")
			writeErr(w, iamNS, 400, "ValidationError", "unexpected UpdateAccessKey")
			return
		}
		if !k.CanDeactivate {
			writeErr(w, iamNS, 403, "AccessDenied", "User: "+k.ARN+" is not authorized to perform: iam:UpdateAccessKey on resource: "+k.ARN)
			return
		}
		k.Active = false
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<UpdateAccessKeyResponse xmlns="%s">
  <ResponseMetadata>
    <RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>
  </ResponseMetadata>
</UpdateAccessKeyResponse>`, iamNS)
	}
}

// authenticate checks the SigV4 signature: it returns the key id, or the
// documented error code and message.
func (s *Server) authenticate(r *http.Request, body []byte, service string) (id, code, msg string) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		s.Bad = append(s.Bad, "unsigned request")
		return "", "MissingAuthenticationToken", "Request is missing Authentication Token"
	}
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || scope[3] != service || scope[2] != "us-east-1" {
		s.Bad = append(s.Bad, "credential scope "+fields["Credential"])
		return "", "IncompleteSignature", "Credential scope is not valid for " + service
	}
	id = scope[0]
	k := s.Keys[id]
	if k == nil || !k.Active || r.Header.Get("X-Amz-Security-Token") != k.SessionToken {
		return "", "InvalidClientTokenId", "The security token included in the request is invalid."
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || at.Format("20060102") != scope[1] {
		return "", "IncompleteSignature", "X-Amz-Date is missing or does not match the credential scope"
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	again.Host = r.Host
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		if h == "host" || h == "content-length" {
			continue
		}
		for _, v := range r.Header.Values(h) {
			again.Header.Add(h, v)
		}
	}
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: k.Secret, SessionToken: r.Header.Get("X-Amz-Security-Token")},
		again, payload, service, "us-east-1", at)
	if err != nil {
		return "", "InternalFailure", err.Error()
	}
	want := ""
	for _, f := range strings.Split(strings.TrimPrefix(again.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(f), "Signature="); ok {
			want = v
		}
	}
	if want == "" || want != fields["Signature"] {
		return "", "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."
	}
	return id, "", ""
}

func writeErr(w http.ResponseWriter, ns string, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="%s">
  <Error>
    <Type>Sender</Type>
    <Code>%s</Code>
    <Message>%s</Message>
  </Error>
  <RequestId>4b4bd8a1-1c3f-4d3b-9c6b-EXAMPLE</RequestId>
</ErrorResponse>`, ns, code, msg)
}

package alibaba

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
)

const (
	keyID  = "LTAI4jAK6i8q0r9IttyS"
	secret = "CFpP6BJHm5ojJ34QmyVges94u84nMH"
)

// fakeSTS recomputes the RPC v1 signature of each request with the secret it
// holds for the key id, and answers as STS documents.
func fakeSTS(t *testing.T, status *int, bad *[]string) *httptest.Server {
	keys := map[string]string{keyID: secret, "LTAIdisabled00000000": "x"}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *status != 0 {
			w.WriteHeader(*status)
			return
		}
		q := r.URL.Query()
		reply := func(code int, v map[string]string) {
			w.Header().Set("Content-Type", "application/json;charset=utf-8")
			w.WriteHeader(code)
			v["RequestId"] = "5A9E1C64-0000"
			json.NewEncoder(w).Encode(v)
		}
		if r.Method != "GET" || r.URL.Path != "/" || q.Get("Action") != "GetCallerIdentity" || q.Get("Version") != "2015-04-01" ||
			q.Get("SignatureMethod") != "HMAC-SHA1" || q.Get("SignatureNonce") == "" {
			*bad = append(*bad, r.Method+" "+r.URL.String())
			reply(400, map[string]string{"Code": "MissingParameter"})
			return
		}
		ts, err := time.Parse("2006-01-02T15:04:05Z", q.Get("Timestamp"))
		if err != nil || time.Since(ts).Abs() > 15*time.Minute {
			reply(400, map[string]string{"Code": "InvalidTimeStamp.Expired", "Message": "Specified time stamp or date value is expired."})
			return
		}
		sec, ok := keys[q.Get("AccessKeyId")]
		if !ok {
			reply(404, map[string]string{"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."})
			return
		}
		if q.Get("AccessKeyId") == "LTAIdisabled00000000" {
			reply(400, map[string]string{"Code": "InvalidAccessKeyId.Inactive", "Message": "Specified access key is disabled."})
			return
		}
		sig := q.Get("Signature")
		q.Del("Signature")
		if Sign("GET", q, sec) != sig {
			reply(400, map[string]string{"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched with our calculation."})
			return
		}
		reply(200, map[string]string{"IdentityType": "RAMUser", "AccountId": "1234567890123456", "PrincipalId": "270880", "UserId": "270880",
			"Arn": "acs:ram::1234567890123456:user/ci"})
	}))
}

func TestCallerIdentity(t *testing.T) {
	var status int
	var bad []string
	ts := fakeSTS(t, &status, &bad)
	defer ts.Close()
	env := &check.Env{HTTP: ts.Client(), Endpoint: ts.URL, Timeout: 5 * time.Second}
	idFirst := func(id, sec string) check.Credential {
		return check.Credential{RuleID: KeyIDRule, Secret: id, Parts: map[string]string{SecretRule: sec}}
	}
	for _, c := range []struct {
		name   string
		cred   check.Credential
		status int
		want   string
		detail string
	}{
		{"live", idFirst(keyID, secret), 0, finding.StatusLive, "acs:ram::1234567890123456:user/ci"},
		{"live, secret as the finding", check.Credential{RuleID: SecretRule, Secret: secret, Parts: map[string]string{KeyIDRule: keyID}}, 0, finding.StatusLive, "RAMUser"},
		{"wrong secret", idFirst(keyID, "CFpP6BJHm5ojJ34QmyVges94u84nMX"), 0, finding.StatusInvalid, "SignatureDoesNotMatch"},
		{"deleted key", idFirst("LTAIdeleted000000000", secret), 0, finding.StatusInvalid, "NotFound"},
		{"disabled key", idFirst("LTAIdisabled00000000", "x"), 0, finding.StatusInvalid, "Inactive"},
		{"throttled", idFirst(keyID, secret), 429, finding.StatusUnknown, "429"},
		{"failing", idFirst(keyID, secret), 503, finding.StatusUnknown, "503"},
		{"no secret part", check.Credential{RuleID: KeyIDRule, Secret: keyID}, 0, finding.StatusUnknown, "as a pair"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status = c.status
			r := CallerIdentity{}.Verify(context.Background(), env, c.cred)
			if r.Status != c.want || !strings.Contains(r.Detail, c.detail) {
				t.Fatalf("got %s %q, want %s containing %q", r.Status, r.Detail, c.want, c.detail)
			}
			if strings.Contains(r.Detail, secret) || (r.Access != nil && strings.Contains(r.Access.Summary(), secret)) {
				t.Errorf("secret shown")
			}
			if c.want == finding.StatusLive && (r.Access == nil || r.Access.Account != "1234567890123456") {
				t.Errorf("access %+v", r.Access)
			}
		})
	}
	if len(bad) > 0 {
		t.Errorf("unexpected requests: %v", bad)
	}
}

// The signature of the documented example of the RPC signature page
// (DescribeRegions, AccessKey testid / testsecret).
func TestSignDocumentedExample(t *testing.T) {
	p := url.Values{"Timestamp": {"2016-02-23T12:46:24Z"}, "Format": {"XML"}, "AccessKeyId": {"testid"}, "Action": {"DescribeRegions"},
		"SignatureMethod": {"HMAC-SHA1"}, "SignatureNonce": {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"}, "Version": {"2014-05-26"}, "SignatureVersion": {"1.0"}}
	if got, want := Sign("GET", p, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

func TestEncode(t *testing.T) {
	for in, want := range map[string]string{"a b*c~d/e": "a%20b%2Ac~d%2Fe", "2016-02-23T12:46:24Z": "2016-02-23T12%3A46%3A24Z"} {
		if got := Encode(in); got != want {
			t.Errorf("Encode(%q) = %q, want %q", in, got, want)
		}
	}
}

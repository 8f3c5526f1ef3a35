package tencent

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/verify/check"
)

// The signature of the worked example on the TC3-HMAC-SHA256 documentation
// page (CVM DescribeInstances, timestamp 1551113065, the page's masked keys).
func TestAuthorizationDocumentedExample(t *testing.T) {
	got := Authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******", "cvm", "cvm.tencentcloudapi.com",
		"DescribeInstances", "application/json; charset=utf-8", `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`, 1551113065)
	if !strings.HasSuffix(got, "Signature=be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3") ||
		!strings.Contains(got, "Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request") {
		t.Errorf("got %s", got)
	}
}

const (
	secretID  = "AKID4VT21y5oLHAf556FUpFzH2pJB4ehwsLz"
	secretKey = "rkiJhwSHJdHaFquEp6PkmH1DOPMLIssh"
)

func TestCallerIdentity(t *testing.T) {
	var status int
	var bad []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		body, _ := io.ReadAll(r.Body)
		reply := func(v map[string]any) {
			v["RequestId"] = "6ef60bec-0242-43af-bb20-270359fb54a7"
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"Response": v})
		}
		fail := func(code, msg string) {
			reply(map[string]any{"Error": map[string]string{"Code": code, "Message": msg}})
		}
		if r.Method != "POST" || r.URL.Path != "/" || r.Header.Get("X-TC-Action") != "GetCallerIdentity" || r.Header.Get("X-TC-Version") != "2018-08-13" {
			bad = append(bad, r.Method+" "+r.URL.String())
			fail("InvalidAction", "")
			return
		}
		tsv, _ := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
		if time.Since(time.Unix(tsv, 0)).Abs() > 5*time.Minute {
			fail("AuthFailure.SignatureExpire", "The signature expired.")
			return
		}
		auth := r.Header.Get("Authorization")
		id, _, _ := strings.Cut(strings.TrimPrefix(auth, "TC3-HMAC-SHA256 Credential="), "/")
		keys := map[string]string{secretID: secretKey}
		key, ok := keys[id]
		switch {
		case !ok:
			fail("AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure that your SecretId is correct.")
		case auth != Authorization(id, key, "sts", r.Host, "GetCallerIdentity", r.Header.Get("Content-Type"), string(body), tsv):
			fail("AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct.")
		default:
			reply(map[string]any{"Arn": "qcs::cam::uin/100000000001:uin/100000000011", "AccountId": "100000000001", "UserId": "100000000011",
				"PrincipalId": "100000000011", "Type": "CAMUser"})
		}
	}))
	defer ts.Close()
	env := &check.Env{HTTP: ts.Client(), Endpoint: ts.URL, Timeout: 5 * time.Second}
	idFirst := func(id, key string) check.Credential {
		return check.Credential{RuleID: IDRule, Secret: id, Parts: map[string]string{KeyRule: key}}
	}
	for _, c := range []struct {
		name   string
		cred   check.Credential
		status int
		want   string
		detail string
	}{
		{"live", idFirst(secretID, secretKey), 0, finding.StatusLive, "qcs::cam::uin/100000000001:uin/100000000011"},
		{"live, key as the finding", check.Credential{RuleID: KeyRule, Secret: secretKey, Parts: map[string]string{IDRule: secretID}}, 0, finding.StatusLive, "CAMUser"},
		{"wrong key", idFirst(secretID, "rkiJhwSHJdHaFquEp6PkmH1DOPMLIssX"), 0, finding.StatusInvalid, "SignatureFailure"},
		{"deleted id", idFirst("AKIDzD1Qzdaw59WVtU5FxB19OUz1raVfvG7S", secretKey), 0, finding.StatusInvalid, "SecretIdNotFound"},
		{"clock skew", check.Credential{RuleID: IDRule, Secret: secretID, Parts: map[string]string{KeyRule: secretKey}}, -1, finding.StatusUnknown, "SignatureExpire"},
		{"throttled", idFirst(secretID, secretKey), 429, finding.StatusUnknown, "429"},
		{"failing", idFirst(secretID, secretKey), 503, finding.StatusUnknown, "503"},
		{"no key part", check.Credential{RuleID: IDRule, Secret: secretID}, 0, finding.StatusUnknown, "as a pair"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := *env
			status = c.status
			if c.status == -1 {
				status = 0
				e.Now = func() time.Time { return time.Now().Add(-time.Hour) }
			}
			r := CallerIdentity{}.Verify(context.Background(), &e, c.cred)
			if r.Status != c.want || !strings.Contains(r.Detail, c.detail) {
				t.Fatalf("got %s %q, want %s containing %q", r.Status, r.Detail, c.want, c.detail)
			}
			if strings.Contains(r.Detail, secretKey) || (r.Access != nil && strings.Contains(r.Access.Summary(), secretKey)) {
				t.Errorf("secret shown")
			}
			if c.want == finding.StatusLive && (r.Access == nil || r.Access.Account != "100000000001") {
				t.Errorf("access %+v", r.Access)
			}
		})
	}
	if len(bad) > 0 {
		t.Errorf("unexpected requests: %v", bad)
	}
}

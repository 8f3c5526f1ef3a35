package verify

import (
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

func TestReadReport(t *testing.T) {
	cases := []struct {
		name, in string
		n        int
		err      string
	}{
		{"json array", `[{"rule_id":"a","secret":"s1","fingerprint":"f1"},{"rule_id":"b"}]`, 2, ""},
		{"jsonl", "{\"rule_id\":\"a\",\"secret\":\"s1\"}\n\n{\"rule_id\":\"b\"}\n", 2, ""},
		{"empty", "  \n", 0, ""},
		{"sarif", `{"version":"2.1.0","runs":[]}`, 0, "SARIF"},
		{"no rule id", `[{"secret":"x"}]`, 0, "has no rule_id"},
		{"garbage", "hello", 0, "record 1"},
	}
	for _, c := range cases {
		fs, err := ReadReport(strings.NewReader(c.in), "r.json")
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "r.json")):
			t.Errorf("%s: error %v, want ~%q", c.name, err, c.err)
		case c.err == "" && (err != nil || len(fs) != c.n):
			t.Errorf("%s: %d findings, %v", c.name, len(fs), err)
		}
	}
	fs, _ := ReadReport(strings.NewReader(`{"rule_id":"a","secret":"s1","verification":{"status":"live"}}`), "x")
	if fs[0].Secret != "s1" || fs[0].Verification.Status != "live" {
		t.Errorf("decoded %+v", fs[0])
	}
}

func TestFindingsForFingerprints(t *testing.T) {
	set := testRules(t, `
[[rule]]
id = "pair"
description = "user and key"
regex = '''(?P<user>[a-z]+):(?P<key>pk_[a-z0-9]{12})'''
secret_group = 2
[[rule]]
id = "plain"
description = "plain"
regex = '''\b(pl_[a-z0-9]{12})\b'''
`)
	plain := "pl_abcdefabcdef"
	fpPlain := finding.Fingerprint("plain", plain)
	fpPair := finding.Fingerprint("pair", "pk_0123456789ab")
	fs, err := FindingsForFingerprints(set, []string{fpPair, fpPlain}, "  "+plain+"  \nexport CRED=alice:pk_0123456789ab\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].RuleID != "pair" || fs[0].Secret != "pk_0123456789ab" || fs[0].Groups["user"] != "alice" ||
		fs[1].RuleID != "plain" || fs[1].Secret != plain || fs[1].Fingerprint != fpPlain {
		t.Errorf("got %+v", fs)
	}
	_, err = FindingsForFingerprints(set, []string{fpPlain, "sha256:00"}, plain)
	if err == nil || !strings.Contains(err.Error(), "sha256:00") || strings.Contains(err.Error(), plain) {
		t.Errorf("missing fingerprint: %v", err)
	}
}

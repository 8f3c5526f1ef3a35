package verify

import (
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

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

package finding

import (
	"strings"
	"testing"
)

func TestCompositeFingerprint(t *testing.T) {
	a := []Part{{RuleID: "b", Secret: "s2"}, {RuleID: "a", Secret: "s1"}}
	b := []Part{{RuleID: "a", Secret: "s1"}, {RuleID: "b", Secret: "s2"}}
	if CompositeFingerprint("r", "x", a) != CompositeFingerprint("r", "x", b) {
		t.Error("part order changes the fingerprint")
	}
	for _, other := range []string{
		CompositeFingerprint("r", "x", []Part{{RuleID: "a", Secret: "s1"}}),
		CompositeFingerprint("r", "x", []Part{{RuleID: "a", Secret: "s1"}, {RuleID: "b", Secret: "s3"}}),
		CompositeFingerprint("q", "x", a),
		Fingerprint("r", "x"),
	} {
		if other == CompositeFingerprint("r", "x", a) {
			t.Errorf("a different set has the same fingerprint %s", other)
		}
	}
	if got := CompositeFingerprint("r", "x", nil); got != Fingerprint("r", "x") || !ValidFingerprint(got) {
		t.Errorf("no parts: %s", got)
	}
}

func TestRedactorLearnsParts(t *testing.T) {
	r := NewRedactor()
	r.AddFindings([]Finding{{RuleID: "aws-access-key-id", Secret: "AKIAHGSNHTUMTLKOEQCN",
		Parts: []Part{{RuleID: "aws-secret-access-key", Secret: "VYJ9pIaDEaj5vbWNTcmu61r07ou4gZG3gbBEonQu"}}}})
	if out := r.Redact("key VYJ9pIaDEaj5vbWNTcmu61r07ou4gZG3gbBEonQu"); strings.Contains(out, "VYJ9pIaDEaj5vbWNTcmu61r07ou4gZG3gbBEonQu") {
		t.Errorf("the part's secret is not redacted: %s", out)
	}
}

package engine

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/rules"
)

// peerSamples is gitleaks' labelled rule-test corpus, kept next to the repository
// (see ../shared/peer-samples/README.md). It is read, never copied into the project.
var peerSamples = filepath.Join("..", "..", "shared", "peer-samples", "gitleaks-rule-samples.jsonl")

// Accuracy targets from the rule-catalogue issue.
const (
	minRecall = 0.97
	maxFPRate = 0.05
)

type peerSample struct {
	Label string `json:"label"` // "tp": the line holds a secret; "fp": it must not be reported
	Path  string `json:"path"`
	Rule  string `json:"rule"` // the gitleaks rule the label belongs to
	Text  string `json:"text"`
}

// key identifies a sample without storing its text: the first 16 hex digits of
// SHA-256 over label, rule, path and text. Anyone holding the corpus can recompute it.
func (s peerSample) key() string {
	h := sha256.Sum256([]byte(s.Label + "\x00" + s.Rule + "\x00" + s.Path + "\x00" + s.Text))
	return hex.EncodeToString(h[:8])
}

// TestAccuracyPeerSamples scans every labelled line with the built-in rules and
// reports recall on `tp` lines and the flag rate on `fp` lines, with misses grouped
// by gitleaks rule. Samples documented in accuracyExclusions (and, with reasons, in
// bench/RESULTS.md under "Accuracy") are counted separately: `tp` lines whose value
// is a placeholder, a public identifier or a malformed token, and `fp` lines that
// hold a valid secret of another provider's format (the label says only "not this
// gitleaks rule"). The test fails when the adjusted recall or flag rate misses its
// target. Run with -v to read the report; set TOKENWARD_ACCURACY_KEYS=1 to also list
// the key of every miss and false positive (for maintaining the exclusion table).
func TestAccuracyPeerSamples(t *testing.T) {
	f, err := os.Open(peerSamples)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("peer samples not present at %s", peerSamples)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	set, err := rules.Builtin()
	if err != nil {
		t.Fatalf("built-in rules: %v", err)
	}
	eng, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}

	var (
		tp, tpHit, tpExcl, tpExclHit int
		fp, fpHit, fpExcl, fpExclHit int
		misses                       = map[string][]int{} // gitleaks rule -> line numbers
		flags                        = map[string][]string{}
		missKeys, flagKeys           []string
		needless                     []string // documented samples the scanner now handles as the label says
		seenKeys                     = map[string]bool{}
		byCategory                   = map[string]int{}
	)
	dumpKeys := os.Getenv("TOKENWARD_ACCURACY_KEYS") != ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var s peerSample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%s:%d: %v", peerSamples, line, err)
		}
		key := s.key()
		seenKeys[key] = true
		found, err := eng.Scan(Blob{ID: fmt.Sprintf("sample-%d", line), Path: s.Path, Data: []byte(s.Text)})
		if err != nil {
			t.Fatalf("%s:%d: scan: %v", peerSamples, line, err)
		}
		hit := len(found) > 0
		category, excluded := accuracyExclusions[key]
		if excluded {
			byCategory[category]++
		}
		switch s.Label {
		case "tp":
			tp++
			switch {
			case excluded:
				tpExcl++
				if hit {
					tpExclHit++
					needless = append(needless, fmt.Sprintf("%s %s line %d (tp, now found)", key, s.Rule, line))
				}
			case hit:
				tpHit++
			default:
				misses[s.Rule] = append(misses[s.Rule], line)
				missKeys = append(missKeys, fmt.Sprintf("%s %s line %d", key, s.Rule, line))
			}
		case "fp":
			fp++
			if !hit {
				if excluded {
					needless = append(needless, fmt.Sprintf("%s %s line %d (fp, no longer flagged)", key, s.Rule, line))
				}
				break
			}
			if excluded {
				fpExcl++
				fpExclHit++
				break
			}
			fpHit++
			var ids []string
			for _, fd := range found {
				if !slices.Contains(ids, fd.RuleID) {
					ids = append(ids, fd.RuleID)
				}
			}
			flags[s.Rule] = append(flags[s.Rule], fmt.Sprintf("line %d by %s", line, strings.Join(ids, ",")))
			flagKeys = append(flagKeys, fmt.Sprintf("%s %s line %d", key, s.Rule, line))
		default:
			t.Fatalf("%s:%d: unknown label %q", peerSamples, line, s.Label)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if tp < 1000 || fp < 100 {
		t.Fatalf("%s holds %d tp and %d fp lines: not the corpus this test was written for", peerSamples, tp, fp)
	}

	rawRecall := float64(tpHit+tpExclHit) / float64(tp)
	rawFP := float64(fpHit+fpExclHit) / float64(fp)
	recall := float64(tpHit) / float64(tp-tpExcl)
	fpRate := float64(fpHit) / float64(fp-fpExcl)
	t.Logf("rules: %d built-in", len(set.Rules))
	t.Logf("raw:      recall %.4f (%d/%d tp lines)   fp flag rate %.4f (%d/%d fp lines)", rawRecall, tpHit+tpExclHit, tp, rawFP, fpHit+fpExclHit, fp)
	t.Logf("adjusted: recall %.4f (%d/%d)   fp flag rate %.4f (%d/%d)   [%d tp and %d fp lines documented in bench/RESULTS.md]",
		recall, tpHit, tp-tpExcl, fpRate, fpHit, fp-fpExcl, tpExcl, fpExcl)
	var cats []string
	for c, n := range byCategory {
		cats = append(cats, fmt.Sprintf("%s=%d", c, n))
	}
	sort.Strings(cats)
	t.Logf("documented samples by reason: %s", strings.Join(cats, " "))
	logGrouped(t, "misses (tp lines with no finding), by gitleaks rule", misses)
	logGroupedStrings(t, "flagged fp lines, by gitleaks rule", flags)
	if dumpKeys {
		for _, k := range missKeys {
			t.Logf("miss-key %s", k)
		}
		for _, k := range flagKeys {
			t.Logf("flag-key %s", k)
		}
	}
	stale := 0
	for k := range accuracyExclusions {
		if !seenKeys[k] {
			stale++
		}
	}
	if stale > 0 {
		t.Logf("%d documented keys match no sample (the corpus changed?)", stale)
	}

	// An exclusion is a claim about what the scanner does with a sample; once the
	// scanner handles the sample as its label says, the claim is stale.
	for _, n := range needless {
		t.Errorf("documented sample %s: remove its key from accuracyExclusions (and bench/RESULTS.md)", n)
	}
	if recall < minRecall {
		t.Errorf("recall %.4f is below %.2f: read the misses above, fix the rules or document the samples", recall, minRecall)
	}
	if fpRate > maxFPRate {
		t.Errorf("fp flag rate %.4f is above %.2f: read the flagged lines above", fpRate, maxFPRate)
	}
}

func logGrouped(t *testing.T, title string, m map[string][]int) {
	t.Helper()
	total := 0
	for _, v := range m {
		total += len(v)
	}
	t.Logf("%s: %d", title, total)
	for _, r := range sortedKeys(m) {
		lines := m[r]
		shown := lines[:min(len(lines), 8)]
		more := ""
		if len(lines) > len(shown) {
			more = fmt.Sprintf(" (+%d more)", len(lines)-len(shown))
		}
		t.Logf("  %-45s %3d  lines %v%s", r, len(lines), shown, more)
	}
}

func logGroupedStrings(t *testing.T, title string, m map[string][]string) {
	t.Helper()
	total := 0
	for _, v := range m {
		total += len(v)
	}
	t.Logf("%s: %d", title, total)
	for _, r := range sortedKeys(m) {
		t.Logf("  %-45s %s", r, strings.Join(m[r], "; "))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// accuracyExclusions lists peer samples, by key, that are scored apart, with the
// reason (explained per gitleaks rule in bench/RESULTS.md, "Accuracy"):
//
//	placeholder  a tp value made of sequential or repeated characters or a
//	             well-known dummy (12345678-ABCD-..., QQQQ..., cafebabe:deadbeef);
//	             tokenward rejects these by design
//	identifier   a tp value that is a public identifier, not a credential (OAuth
//	             client ids, Discord snowflakes, Asana object ids)
//	malformed    a tp value that cannot be a working credential of its format
//	             (a JOSE header that is not JSON, a public certificate, a header
//	             with an empty password)
//	other-secret an fp line (labelled "not this gitleaks rule") that holds a
//	             valid secret of another format, which tokenward rightly reports
var accuracyExclusions = map[string]string{
	// asana-client-id: identifier (26 lines)
	"0be94bd1167deba1": "identifier", "0bef92280fdc28d3": "identifier", "164ff783b26e251c": "identifier",
	"240e164b70d6b00b": "identifier", "2a6e54b09cc960de": "identifier", "2e3f4ac0980c53f8": "identifier",
	"2ed9745212581119": "identifier", "331ae8d9393acef1": "identifier", "3c312e89650aa430": "identifier",
	"4f9e1e485f4fd5b5": "identifier", "58d37040f68eca63": "identifier", "84af85fb76135ce7": "identifier",
	"965bc7e9e7739678": "identifier", "96fa9c4cc02913dd": "identifier", "9a3e62f1eee84480": "identifier",
	"a26ceb99c0126788": "identifier", "af9a8576f607fa30": "identifier", "bd173baa610481eb": "identifier",
	"bf7d843a0e4c1e2e": "identifier", "c1d91839c5107ff4": "identifier", "cff1cccdd4b703ae": "identifier",
	"d376a2e8da1ccf7b": "identifier", "d698beedb693dd5b": "identifier", "db591aec07c78cfc": "identifier",
	"e7abf0ecc134b463": "identifier",
	// discord-client-id: identifier (26 lines)
	"0c217172b8eaaa7e": "identifier", "0dadb8620f461bd6": "identifier", "167ed1769b28138f": "identifier",
	"189b9d81555de061": "identifier", "1b9959ad8e429f97": "identifier", "44a21efbd1ded72e": "identifier",
	"4bbc037eece9e9aa": "identifier", "4be96fab42a6714b": "identifier", "4e6a8b56d2673671": "identifier",
	"62a6e9fb25a373ca": "identifier", "650e966366e2fd7c": "identifier", "66297b224796fcbf": "identifier",
	"7b69a6d1f89a9261": "identifier", "914376a2093a77a6": "identifier", "96bbf839ffb2fce5": "identifier",
	"9abf68254fb34018": "identifier", "a40d16a41e70e244": "identifier", "b046010655716d12": "identifier",
	"b8aec6b0ecae741a": "identifier", "b9bd9773f56162cc": "identifier", "b9dacdfbe86fa2c6": "identifier",
	"d43a29bcd913cbe7": "identifier", "db9d66b21de889cf": "identifier", "ec4767572143c2d9": "identifier",
	"f9f80a506af5cbb9": "identifier",
	// linkedin-client-id: identifier (25 lines)
	"0eb1c26a53d1f136": "identifier", "1c52761f32219b7e": "identifier", "2387199efe09fcdf": "identifier",
	"28514e88159c884d": "identifier", "36718b5611068959": "identifier", "44be972c5e013447": "identifier",
	"49369bfd681546bc": "identifier", "4c9b701b50749e33": "identifier", "5016f4e621d5b75b": "identifier",
	"531d33c00bbd40e5": "identifier", "5ff836eaa48b0f84": "identifier", "70ecf108ebcb97c1": "identifier",
	"8e9d6b97e52cab29": "identifier", "969deca042c82126": "identifier", "ac75f73bd5e2f1c2": "identifier",
	"b404aa6fd2f3081e": "identifier", "b60717623fc2a3d5": "identifier", "b70ae8dc73784bae": "identifier",
	"b7af9c6fe41461c7": "identifier", "c162f1f0ca27154a": "identifier", "cc1d128f980408b0": "identifier",
	"d4e8fa18c1d5ae6e": "identifier", "dac7b4f3cb792cf9": "identifier", "ee1335179c47f7fb": "identifier",
	// curl-auth-header: malformed (2 lines)
	"0a0ffe970424e03e": "malformed", "bb8a502b80f26af2": "malformed",
	// jwt-base64: malformed (8 lines)
	"68a04d46eab6930a": "malformed", "a7bc076a370c239a": "malformed", "ebcd204440dbaf55": "malformed",
	// cloudflare-api-key: other-secret (5 lines)
	"0a3526cd137039f2": "other-secret", "15a09cac6e128a9a": "other-secret", "24acfbe1f8399eca": "other-secret",
	"6117b25ed628fee1": "other-secret", "a2f4c59427e9a3c7": "other-secret",
	// cloudflare-global-api-key: other-secret (5 lines)
	"0153d5ce9ea8c766": "other-secret", "442be5b410201f8e": "other-secret", "4a98786d207a82fa": "other-secret",
	"6a5b34b0d523d1de": "other-secret", "fe2494b34ed66b3f": "other-secret",
	// cloudflare-origin-ca-key: other-secret (6 lines)
	"26db41e9940f71e9": "other-secret", "2763d389380e4549": "other-secret", "3236b7aa1f14ba52": "other-secret",
	"36fe1c13599a7156": "other-secret", "69500168345047a0": "other-secret", "c636322fb3520705": "other-secret",
	// curl-auth-header: other-secret (1 lines)
	"d6d8c5d854b1aaad": "other-secret",
	// mailchimp-api-key: other-secret (1 lines)
	"4acfd44e5bbf0e5e": "other-secret",
	// age-secret-key: placeholder (26 lines)
	"0aee28f8883ffe04": "placeholder", "13109c97db6c1354": "placeholder", "23859bce945feae6": "placeholder",
	"323b324f47e4e254": "placeholder", "361fe4246ac981f7": "placeholder", "3b289f1981fc092d": "placeholder",
	"3b4ab7a845c280dc": "placeholder", "499b902ca953f6b6": "placeholder", "4a0c67c071ead44b": "placeholder",
	"730417e984761c3c": "placeholder", "73d82e4ed35a4cce": "placeholder", "7b2b81dc14f9e58b": "placeholder",
	"7c07c24f71e7b0b8": "placeholder", "8186d3cad3b8b719": "placeholder", "98ca311fb29de008": "placeholder",
	"abe13bae2f134532": "placeholder", "ae01b71608944baf": "placeholder", "bf82c707ab4367c0": "placeholder",
	"c4a75e75cb2b1fe2": "placeholder", "d86fa84e65b35c11": "placeholder", "e1038bc0b8cf495d": "placeholder",
	"e686abc0d6c9f580": "placeholder", "fb8598643a35c7f0": "placeholder", "fba5e45fdfb488bd": "placeholder",
	"ffa19384d9114d14": "placeholder",
	// anthropic-admin-api-key: placeholder (1 lines)
	"9c9962da9188120f": "placeholder",
	// anthropic-api-key: placeholder (1 lines)
	"871acab04b3147fe": "placeholder",
	// aws-amazon-bedrock-api-key-long-lived: placeholder (1 lines)
	"5e33088c2935aeb5": "placeholder",
	// curl-auth-user: placeholder (1 lines)
	"2965fb57f6107e57": "placeholder",
	// hashicorp-tf-password: placeholder (1 lines)
	"3b80215ccb66e7d3": "placeholder",
	// heroku-api-key: placeholder (1 lines)
	"fab009ee7c6f06ea": "placeholder",
	// hubspot-api-key: placeholder (1 lines)
	"45a77bf02bd4e06c": "placeholder",
	// messagebird-client-id: placeholder (27 lines)
	"0b39466a3f7474e4": "placeholder", "1e3d0583dda52223": "placeholder", "2151577d0748d343": "placeholder",
	"244906317c65323e": "placeholder", "2af29fcabee06391": "placeholder", "390b2690fe1f0304": "placeholder",
	"484a3f2fcb1d462a": "placeholder", "488032a090f48801": "placeholder", "4ae64c8bc08af312": "placeholder",
	"55713a3b73507be7": "placeholder", "579b216ec0e0e369": "placeholder", "5e5d320bf0315f4c": "placeholder",
	"74ea196fedd96886": "placeholder", "759a428d294d1111": "placeholder", "84dec83ee1b9318d": "placeholder",
	"9fb3f6c88c4ed157": "placeholder", "a63c1f4e5b3388d2": "placeholder", "b696cc008491c549": "placeholder",
	"bc0bca3f6a488bd8": "placeholder", "c5a55f943d8b3e27": "placeholder", "cd25348500e2b853": "placeholder",
	"cd3316ff9b79f340": "placeholder", "db93f5323e165227": "placeholder", "dff92d7ded925a81": "placeholder",
	"e8195227ea4652bb": "placeholder", "e87c82a9e9a19166": "placeholder",
	// sidekiq-sensitive-url: placeholder (12 lines)
	"085031cc1af35354": "placeholder", "1e6d7a736adbe2d5": "placeholder", "252d432c56cd4aad": "placeholder",
	"5341a5b4834816ed": "placeholder", "561267c5b25523d7": "placeholder", "6c59535a3769268f": "placeholder",
	"6e4cad92e77eaada": "placeholder", "79aea891053dd5b5": "placeholder", "9d1f2f04625c9a57": "placeholder",
	"b9a079cb76d9034b": "placeholder", "e9e61ce1051f83e6": "placeholder", "ea85fa0e3b1459ff": "placeholder",
	// slack-legacy-bot-token: placeholder (1 lines)
	"541242a17e0142d1": "placeholder",
	// slack-legacy-workspace-token: placeholder (27 lines)
	"05691808ee35fa1c": "placeholder", "0633d0df64e75811": "placeholder", "136b72cab72c6280": "placeholder",
	"1f86a262c347a21d": "placeholder", "22b25b41a9a4fa8b": "placeholder", "236367a25759bab5": "placeholder",
	"24be3ef694f93042": "placeholder", "26ffc63f96a276c8": "placeholder", "36f91a5fbe3c2e95": "placeholder",
	"428fef768ddc9e0a": "placeholder", "49bf3310e3d0f600": "placeholder", "6502dc7e6d3cb6e2": "placeholder",
	"760466fe984f8326": "placeholder", "799af25aa92e68e5": "placeholder", "8a911767afbdcd64": "placeholder",
	"9d2b942608bc30ec": "placeholder", "9f40f21a49314adb": "placeholder", "af2e0be19cb2cb31": "placeholder",
	"b0101a85f6daa068": "placeholder", "b429e8beb07be986": "placeholder", "c6c67aa9d6942fe7": "placeholder",
	"ced3ac93f93d9859": "placeholder", "d07ac8164947ac03": "placeholder", "d8326403b74df7bd": "placeholder",
	"e6bcc5293a92ff9b": "placeholder", "f1769f17fe47ceb6": "placeholder",
	// snyk-api-token: placeholder (35 lines)
	"02380bf42bfefdb1": "placeholder", "04f16dc86d04e665": "placeholder", "21f2b8fae98f490c": "placeholder",
	"29d6f74fcc99c44e": "placeholder", "2afe31d6c988365b": "placeholder", "2d6d21bfbf8885ea": "placeholder",
	"2f8ddf36a237bcf0": "placeholder", "31be6a257833c0cd": "placeholder", "382aa3365449617d": "placeholder",
	"39c1060fbcfb72a1": "placeholder", "52ede30c0c3628cb": "placeholder", "5f04a1f9a1aae9d6": "placeholder",
	"6234b2f6c117618f": "placeholder", "70f16d478f68a003": "placeholder", "794e335b409411eb": "placeholder",
	"87e521c11089b843": "placeholder", "97a9f7623905364c": "placeholder", "9c1cf3cf1b2fc42a": "placeholder",
	"a2e3aa9ab412aa45": "placeholder", "aee2996213f4db9b": "placeholder", "bc8424756715e25e": "placeholder",
	"bf5f64046a122a8b": "placeholder", "c1f99e4085a514b1": "placeholder", "c77d46f3b6d7c6a5": "placeholder",
	"ca882e68c2fe52ee": "placeholder", "d8a420b33efb408c": "placeholder", "e103da1fb8307ae7": "placeholder",
	"e2d43f1eab49ecd7": "placeholder", "e993876b90af1fdc": "placeholder", "ebb83dea77619849": "placeholder",
	"ed6cd7d33d0b3425": "placeholder", "ef0269cda3e6bc7e": "placeholder", "ef497bd2c00531e1": "placeholder",
	"f59221fdf7f2ad13": "placeholder",
	// sonar-api-token: placeholder (34 lines)
	"01d5442f1a3f0709": "placeholder", "058348f0e4d85558": "placeholder", "0b822ea1adea4cf8": "placeholder",
	"0f2ad478efdf65ac": "placeholder", "1a1ded268459c569": "placeholder", "2d474c386eedd9eb": "placeholder",
	"33980833f6faccc8": "placeholder", "3f6b83ab8d8e5ae5": "placeholder", "429f684839cb391b": "placeholder",
	"4fc134314a137caa": "placeholder", "4fd9ae1de24d939d": "placeholder", "51dae2b02b912c49": "placeholder",
	"58b0ef5cf3d80d6e": "placeholder", "58f7f8262d8425f8": "placeholder", "7b51bd26770b670a": "placeholder",
	"81d0c5f36eba1a56": "placeholder", "8db14fc5bcc1b2cf": "placeholder", "90969ebd8d9ef125": "placeholder",
	"94956e3bf1e9b3be": "placeholder", "98efd92984fd6a24": "placeholder", "a692c3e82aa88bd6": "placeholder",
	"ab02717dcec83be6": "placeholder", "b3129b4a5733bb2d": "placeholder", "c40a0b2518024762": "placeholder",
	"c4d0be360ea669a4": "placeholder", "c5df1f0c99f86392": "placeholder", "c7122be304ad2697": "placeholder",
	"cc7f50c0fdabbbf1": "placeholder", "d247c7cf7ec2e6ae": "placeholder", "d9e05a776011d83c": "placeholder",
	"dc4cc94511920c20": "placeholder", "f4d6993bb9f57f5d": "placeholder", "fba6fc042760cb49": "placeholder",
	// square-access-token: placeholder (1 lines)
	"b8e81be39d55ec88": "placeholder",
}

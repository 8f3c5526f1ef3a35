package engine

import (
	"strings"
	"testing"

	"github.com/tokenward/tokenward/rules"
)

// A rule with an unbounded repeat finds matches as long as its max_length; without
// it the window around the anchor assumes 64 bytes per unbounded repeat.
func TestMaxLengthWidensTheWindow(t *testing.T) {
	body := strings.Repeat("q7Zk", 100) // 400 bytes after the prefix
	for _, tc := range []struct {
		name, maxLength string
		multiLine       bool
		want            int
	}{
		{"derived window is too short", "", false, 0},
		{"max_length covers the match", "max_length = 600\n", false, 1},
		{"multi-line rule", "max_length = 600\n", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			re := `(lngtk_[A-Za-z0-9]{40,})`
			if tc.multiLine {
				re = `(lngtk_[A-Za-z0-9\n]{40,})`
			}
			e := engineFromTOML(t, "[[rule]]\nid = \"long\"\nregex = '''"+re+"'''\n"+tc.maxLength, Options{})
			fs, err := e.Scan(Blob{Path: "f.txt", Data: []byte("x = \"lngtk_" + body + "\"\n")})
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != tc.want {
				t.Fatalf("%d findings, want %d", len(fs), tc.want)
			}
			if tc.want == 1 && fs[0].Secret != "lngtk_"+body {
				t.Errorf("secret %d bytes, want the whole %d-byte token", len(fs[0].Secret), len("lngtk_"+body))
			}
		})
	}
	for _, bad := range []string{"max_length = -1\n", "max_length = 100000\n"} {
		if _, err := rules.Parse("t.toml", []byte("[[rule]]\nid = \"long\"\nregex = '''lngtk_[a-z]+'''\n"+bad)); err == nil || !strings.Contains(err.Error(), "max_length") {
			t.Errorf("%q: error %v, want one about max_length", bad, err)
		}
	}
}

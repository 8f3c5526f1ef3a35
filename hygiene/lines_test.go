package hygiene

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// hygieneLines are lines the URL and header checks flag, or nearly flag, in
// several shapes; lineLocalSamples adds every catalogue example at a line-local path.
var hygieneLines = []string{
	`	u := "https://deploy:Zq8vW2mN4xR7tK1p@git.internal.corp/repo.git"`,
	`	resp, _ := http.Get("https://api.vendor.io/v2/items?page=2&access_token=Zq8vW2mN4xR7tK1pQ3sL9")`,
	`	url := "https://api.vendor.io/v2/items?api_key=" + os.Getenv("KEY")`,
	`	url := base + "?token=" + tok`,
	`	req.Header.Set("Authorization", "Bearer "+token)`,
	`	req.Header.Set("Authorization", "Bearer" + token)`,
	`	req.Header.Set("Authorisation", "Bearer "+token)`,
	`	headers = {"Authorization": "Basic dXNlcjpaeThtTjR4UjdrMXBRM3M="}`,
	`	curl -H "Authorization: Zq8vW2mN4xR7tK1pQ3sL9xY2" https://api.vendor.io/`,
	`	h := "Bearer" + tok // joined`,
	`	Authorization: Token`,
	`	x := "https://x:y@example.com/" // documentation host`,
	`# ?token=abc heading`,
	`	f.write(f"Bearer{tok}")`,
	`	ws := "wss://bot:Kq8vW2mN4xR7tK1p@chat.vendor.io:443/socket?sig=Zq8vW2mN4xR7tK1pQ3sL9xY2aB&x=1"`,
}

func lineLocalSamples() []string {
	out := slices.Clone(hygieneLines)
	for _, hc := range Catalogue {
		if hc.ExamplePath != "" && lineLocalPath(hc.ExamplePath) && !strings.Contains(hc.Example, "\n") {
			out = append(out, hc.Example)
		}
	}
	return out
}

// TestLineLocal: at line-local paths, Check's findings are exactly CheckLines'
// on parts cut at random line starts (lines renumbered), for documents mixing
// flagged lines, ordinary code, long lines and lines without a final newline.
func TestLineLocal(t *testing.T) {
	c := New(DefaultConfig())
	samples := lineLocalSamples()
	total := 0
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		var b bytes.Buffer
		for range 5 + r.IntN(60) {
			switch k := r.IntN(10); {
			case k < 4:
				b.WriteString(samples[r.IntN(len(samples))])
			case k < 5:
				b.WriteString(strings.Repeat("a=b&", 200+r.IntN(800)) + samples[r.IntN(len(samples))])
			case k < 6:
				s := samples[r.IntN(len(samples))]
				b.WriteString(s[:r.IntN(len(s)+1)]) // a part of one
			default:
				fmt.Fprintf(&b, "\tvalue%d := compute(%d)", r.IntN(1000), r.IntN(1000))
			}
			if r.IntN(20) > 0 {
				b.WriteString([]string{"\n", "\r\n"}[r.IntN(2)])
			}
		}
		data := b.Bytes()
		for _, path := range []string{"pkg/client.go", "README.md", "web/app.js", "notes.txt"} {
			if !c.LineLocal(path, data) {
				t.Fatalf("%s: not line-local", path)
			}
			want := c.Check(path, data)
			total += len(want)
			var got []string
			line, at := 1, 0
			for at < len(data) {
				end := len(data)
				for range 1 + r.IntN(4) { // a few lines per part
					if i := bytes.IndexByte(data[at:end], '\n'); i >= 0 && at+i+1 < len(data) {
						end = at + i + 1
					}
				}
				if r.IntN(3) == 0 {
					end = len(data)
				}
				for _, f := range c.CheckLines(path, data[at:end]) {
					f.Line += line - 1
					f.EndLine += line - 1
					got = append(got, fmt.Sprintf("%s %s %d:%d-%d:%d %q", f.RuleID, f.Fingerprint, f.Line, f.Column, f.EndLine, f.EndColumn, f.Context))
				}
				line += bytes.Count(data[at:end], []byte{'\n'})
				at = end
			}
			var ws []string
			for _, f := range want {
				ws = append(ws, fmt.Sprintf("%s %s %d:%d-%d:%d %q", f.RuleID, f.Fingerprint, f.Line, f.Column, f.EndLine, f.EndColumn, f.Context))
			}
			sort.Strings(ws)
			sort.Strings(got)
			if !slices.Equal(ws, got) {
				t.Fatalf("seed %d, %s: CheckLines on parts differs from Check\n whole %q\n parts %q", seed, path, ws, got)
			}
		}
	}
	if total < 1000 {
		t.Errorf("only %d findings in all: the documents do not exercise the checks", total)
	}
}

// TestLineLocalStructure: where the checks judge structure, a line's findings
// depend on other lines, so such content must not be line-local; nor is content
// whose whole-file limits are not met.
func TestLineLocalStructure(t *testing.T) {
	c := New(DefaultConfig())
	for _, tt := range []struct {
		path       string
		base, targ string // the same flagged line under a different parent
	}{
		{"config/app.yaml", "api:\n  key: \"Zq8vW2mN4xR7tK1pQ3sL9xY2\"\n", "images:\n  key: \"Zq8vW2mN4xR7tK1pQ3sL9xY2\"\n"},
		{"config/app.json", "{\"api\": {\n  \"key\": \"Zq8vW2mN4xR7tK1pQ3sL9xY2\"}}\n", "{\"images\": {\n  \"key\": \"Zq8vW2mN4xR7tK1pQ3sL9xY2\"}}\n"},
		{"settings.ini", "[api]\nkey = Zq8vW2mN4xR7tK1pQ3sL9xY2\n", "[images]\nkey = Zq8vW2mN4xR7tK1pQ3sL9xY2\n"},
	} {
		if c.LineLocal(tt.path, []byte(tt.base)) {
			t.Errorf("%s: line-local, but its checks judge structure", tt.path)
		}
		onLine2 := func(s string) int {
			n := 0
			for _, f := range c.Check(tt.path, []byte(s)) {
				if f.Line == 2 {
					n++
				}
			}
			return n
		}
		if a, b := onLine2(tt.base), onLine2(tt.targ); a == b {
			t.Errorf("%s: line 2 is the same in both and so are its findings (%d): the case does not show a line depending on another", tt.path, a)
		}
	}
	for _, p := range []string{".netrc", ".env", "deploy/.git-credentials", ".npmrc", "x.properties", "a/.kube/config", ".pgpass"} {
		if c.LineLocal(p, []byte("x\n")) {
			t.Errorf("%s: a credential or configuration file is not line-local", p)
		}
	}
	big := New(DefaultConfig())
	big.MaxFileBytes = 10
	if big.LineLocal("a.go", []byte("0123456789abc\n")) {
		t.Error("content over MaxFileBytes (not checked at all) is not line-local")
	}
	if c.LineLocal("a.go", []byte("a\x00b\n")) {
		t.Error("binary content (not checked) is not line-local")
	}
	off := DefaultConfig()
	off.Enabled = false
	if !New(off).LineLocal("a.yaml", []byte("x: y\n")) {
		t.Error("with the checks off every content is line-local (no findings)")
	}
}

package objstore_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/engine/enginetest"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/internal/s3fake"
	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/source"
	"github.com/tokenward/tokenward/source/objstore"
)

const tok = "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" // checksum valid: github-pat

// safeEnv keeps the SDK off the network and away from this user's
// configuration: static credentials, no instance metadata, empty config files.
func safeEnv(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": "fake-secret-for-loopback-tests",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": "", "AWS_REGION": "us-east-1",
	} {
		t.Setenv(k, v)
	}
}

// loopbackOnly is an HTTP client that cannot dial anything but loopback.
func loopbackOnly() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("test dialer: %s is not loopback", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func client(t *testing.T, fake *s3fake.Server) *s3.Client {
	t.Helper()
	safeEnv(t)
	return s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAFAKEFAKEFAKEFAKE", "fake-secret-for-loopback-tests", ""),
		BaseEndpoint: aws.String(fake.URL()),
		UsePathStyle: true,
		HTTPClient:   loopbackOnly(),
		Retryer:      aws.NopRetryer{},
	})
}

var (
	engOnce sync.Once
	eng     *engine.Engine
)

// scanner is the pipeline's content scanner over the built-in rules (archives
// opened four deep, as the CLI does).
func scanner(t *testing.T) source.Scanner {
	engOnce.Do(func() { eng = enginetest.Builtin(t) })
	return pipeline.NewContentScanner(eng, nil, pipeline.ContentOptions{MaxArchiveDepth: 4})
}

func zipOf(t *testing.T, name, body string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	fw, err := w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte(body))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func files(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s:%d:%s", f.File, f.Line, f.RuleID))
	}
	return out
}

// mapCache is an in-memory Cache.
type mapCache struct {
	mu sync.Mutex
	m  map[string][]finding.Finding
}

func (c *mapCache) Get(bucket, key, etag string) ([]finding.Finding, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fs, ok := c.m[bucket+"\x00"+key+"\x00"+etag]
	return fs, ok
}

func (c *mapCache) Put(bucket, key, etag string, size int64, fs []finding.Finding) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]finding.Finding{}
	}
	c.m[bucket+"\x00"+key+"\x00"+etag] = fs
}

func TestScan(t *testing.T) {
	fake := s3fake.New()
	defer fake.Close()
	big := strings.Repeat("filler line without anything in it at all\n", 150_000) + "token = " + tok + "\n" // > 4 MiB: streamed
	fake.Put("acme", "config/app.env", []byte("# app\nGITHUB_TOKEN="+tok+"\n"))
	fake.Put("acme", "clean.txt", []byte("nothing here\n"))
	fake.Put("acme", "empty/", nil)
	fake.Put("acme", "dist/bundle.zip", zipOf(t, "conf/settings.ini", "[gh]\ntoken = "+tok+"\n"))
	fake.Put("acme", "logs/big.log", []byte(big))
	fake.Put("acme", "evil\n\x1b[31mkey.txt", []byte("x = "+tok+"\n"))
	fake.Put("other", "a.txt", []byte("x = "+tok+"\n"))
	c := client(t, fake)

	tests := []struct {
		name string
		locs []objstore.Location
		want []string
	}{
		{"bucket", []objstore.Location{{Bucket: "acme"}}, []string{
			"s3://acme/config/app.env:2:github-pat",
			"s3://acme/dist/bundle.zip!conf/settings.ini:2:github-pat",
			"s3://acme/evil%0A%1B[31mkey.txt:1:github-pat",
			"s3://acme/logs/big.log:150001:github-pat",
		}},
		{"prefix", []objstore.Location{{Bucket: "acme", Prefix: "config/"}}, []string{"s3://acme/config/app.env:2:github-pat"}},
		{"several, nested ones once", []objstore.Location{{Bucket: "other"}, {Bucket: "acme", Prefix: "dist"}, {Bucket: "acme", Prefix: "dist/b"}}, []string{
			"s3://acme/dist/bundle.zip!conf/settings.ini:2:github-pat",
			"s3://other/a.txt:1:github-pat",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := objstore.New(objstore.Options{Client: c, Locations: tt.locs, Workers: 3})
			res := src.Scan(context.Background(), scanner(t))
			if len(res.Problems) > 0 || !src.Stats.ListedAll {
				t.Fatalf("problems: %v (listed all: %v)", res.Problems, src.Stats.ListedAll)
			}
			got := files(res.Findings)
			if fake.Gets("acme", "empty/") != 0 {
				t.Error("an empty object is read")
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestErrorsNameTheKeyAndKeepFindings(t *testing.T) {
	fake := s3fake.New()
	defer fake.Close()
	fake.Put("b", "denied.txt", []byte("x = "+tok+"\n"))
	fake.Put("b", "cut.txt", []byte("x = "+tok+"\n"+strings.Repeat("more text\n", 1000)))
	fake.Put("b", "bigcut.log", []byte("x = "+tok+"\n"+strings.Repeat("more text\n", 600_000)))
	fake.Put("b", "ok.txt", []byte("y = "+tok+"\n"))
	fake.Deny("b", "denied.txt")
	fake.Truncate("b", "cut.txt")
	fake.Truncate("b", "bigcut.log")
	cache := &mapCache{}
	src := objstore.New(objstore.Options{Client: client(t, fake), Locations: []objstore.Location{{Bucket: "b"}}, Cache: cache})
	res := src.Scan(context.Background(), scanner(t))
	want := map[string]string{
		"s3://b/denied.txt": "AccessDenied",
		"s3://b/cut.txt":    "truncated body",
		"s3://b/bigcut.log": "truncated body",
	}
	if len(res.Problems) != len(want) {
		t.Fatalf("problems %v, want %d", res.Problems, len(want))
	}
	for _, p := range res.Problems {
		if w, ok := want[p.Path]; !ok || !strings.Contains(p.Err.Error(), w) {
			t.Errorf("problem %q: want %q", p.Error(), w)
		}
	}
	// What the cut bodies held before the cut is still scanned.
	got := strings.Join(files(res.Findings), " ")
	for _, w := range []string{"s3://b/ok.txt:1", "s3://b/cut.txt:1", "s3://b/bigcut.log:1"} {
		if !strings.Contains(got, w) {
			t.Errorf("findings %s: want %s", got, w)
		}
	}
	// Only complete results are cached.
	if len(cache.m) != 1 {
		t.Errorf("cached %d results, want 1 (ok.txt)", len(cache.m))
	}
}

func TestCacheSkipsUnchangedObjects(t *testing.T) {
	fake := s3fake.New()
	defer fake.Close()
	fake.Put("b", "a.txt", []byte("x = "+tok+"\n"))
	fake.Put("b", "b.txt", []byte("nothing\n"))
	c := client(t, fake)
	cache := &mapCache{}
	run := func() ([]string, objstore.Stats) {
		src := objstore.New(objstore.Options{Client: c, Locations: []objstore.Location{{Bucket: "b"}}, Cache: cache})
		res := src.Scan(context.Background(), scanner(t))
		if len(res.Problems) > 0 {
			t.Fatal(res.Problems)
		}
		return files(res.Findings), src.Stats
	}
	first, st := run()
	if st.Gets != 2 || fake.TotalGets() != 2 {
		t.Fatalf("first run: %d gets (fake %d), want 2", st.Gets, fake.TotalGets())
	}
	second, st := run()
	if st.Gets != 0 || st.Cached != 2 || fake.TotalGets() != 2 {
		t.Errorf("second run: %+v, fake gets %d: want every object from the cache", st, fake.TotalGets())
	}
	if strings.Join(first, " ") != strings.Join(second, " ") {
		t.Errorf("cached findings %v, want %v", second, first)
	}
	fake.Put("b", "b.txt", []byte("now = "+tok+"\n")) // a new ETag
	third, st := run()
	if st.Gets != 1 || fake.Gets("b", "b.txt") != 2 || fake.Gets("b", "a.txt") != 1 {
		t.Errorf("after a change: %+v; want only b.txt read again", st)
	}
	if len(third) != 2 {
		t.Errorf("findings after the change: %v", third)
	}
}

func TestPagination(t *testing.T) {
	fake := s3fake.New()
	defer fake.Close()
	fake.MaxKeys = 7
	const n = 1234
	for i := range n {
		body := "nothing\n"
		if i%100 == 0 {
			body = "x = " + tok + "\n"
		}
		fake.Put("many", fmt.Sprintf("k/%05d.txt", i), []byte(body))
	}
	c := client(t, fake)
	for _, maxKeys := range []int32{0, 50} {
		t.Run(fmt.Sprint(maxKeys), func(t *testing.T) {
			src := objstore.New(objstore.Options{Client: c, Locations: []objstore.Location{{Bucket: "many"}}, MaxKeys: maxKeys})
			res := src.Scan(context.Background(), scanner(t))
			if len(res.Problems) > 0 {
				t.Fatal(res.Problems)
			}
			if src.Stats.Listed != n || src.Stats.Pages != (n+6)/7 || len(res.Findings) != 13 {
				t.Errorf("stats %+v, %d findings: want %d listed in %d pages, 13 findings", src.Stats, len(res.Findings), n, (n+6)/7)
			}
		})
	}
	t.Run("S3's page size", func(t *testing.T) {
		fake.MaxKeys = 0 // 1000
		defer func() { fake.MaxKeys = 7 }()
		src := objstore.New(objstore.Options{Client: c, Locations: []objstore.Location{{Bucket: "many"}}})
		res := src.Scan(context.Background(), scanner(t))
		if len(res.Problems) > 0 || src.Stats.Listed != n || src.Stats.Pages != 2 || len(res.Findings) != 13 {
			t.Errorf("stats %+v, %d findings, problems %v", src.Stats, len(res.Findings), res.Problems)
		}
	})
	t.Run("max objects", func(t *testing.T) {
		src := objstore.New(objstore.Options{Client: c, Locations: []objstore.Location{{Bucket: "many"}}, MaxObjects: 100})
		res := src.Scan(context.Background(), scanner(t))
		if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Error(), "more than 100 objects") {
			t.Errorf("problems %v", res.Problems)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		src := objstore.New(objstore.Options{Client: c, Locations: []objstore.Location{{Bucket: "many"}}})
		res := src.Scan(ctx, scanner(t))
		if len(res.Problems) == 0 || len(res.Problems) > 2 {
			t.Errorf("an interrupted scan: %d problems, want the interruption named once or twice (listing, run): %v", len(res.Problems), res.Problems)
		}
	})
}

func TestMissingBucket(t *testing.T) {
	fake := s3fake.New()
	defer fake.Close()
	src := objstore.New(objstore.Options{Client: client(t, fake), Locations: []objstore.Location{{Bucket: "nope"}}})
	res := src.Scan(context.Background(), scanner(t))
	if len(res.Problems) != 1 || res.Problems[0].Path != "s3://nope" || !strings.Contains(res.Problems[0].Error(), "NoSuchBucket") {
		t.Errorf("problems %v", res.Problems)
	}
	if src.Stats.ListedAll {
		t.Error("a failed listing is said to be complete")
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		want objstore.Location
		err  string
	}{
		{"s3://bucket", objstore.Location{Bucket: "bucket"}, ""},
		{"s3://bucket/", objstore.Location{Bucket: "bucket"}, ""},
		{"s3://my.bucket-1/logs/2026/", objstore.Location{Bucket: "my.bucket-1", Prefix: "logs/2026/"}, ""},
		{"s3://b/evil%0Akey%25", objstore.Location{Bucket: "b", Prefix: "evil\nkey%"}, ""},
		{"s3://b/100%", objstore.Location{}, "%25"},
		{"https://b/x", objstore.Location{}, "want s3://"},
		{"s3://", objstore.Location{}, "empty"},
		{"s3://host:80/x", objstore.Location{}, "only letters"},
		{"s3://a@b/x", objstore.Location{}, "only letters"},
	}
	for _, tt := range tests {
		got, err := objstore.ParseURL(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseURL(%q) = %v, %v: want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseURL(%q) = %+v, %v: want %+v", tt.in, got, err, tt.want)
		}
		if back, err := objstore.ParseURL(got.String()); err != nil || back != got {
			t.Errorf("ParseURL(%q.String() = %q) = %+v, %v", tt.in, got.String(), back, err)
		}
	}
}

func TestEscapeKey(t *testing.T) {
	for in, want := range map[string]string{
		"plain/key.txt":    "plain/key.txt",
		"a b+c!d":          "a b+c!d",
		"new\nline":        "new%0Aline",
		"esc\x1b[2J":       "esc%1B[2J",
		"100%":             "100%25",
		"bad\xffutf8":      "bad%FFutf8",
		"rtl\u202eexe.txt": "rtl%E2%80%AEexe.txt",
		"ünïcödé/ファイル.txt": "ünïcödé/ファイル.txt",
		"c1\u0085x":        "c1%C2%85x",
	} {
		if got := objstore.EscapeKey(in); got != want {
			t.Errorf("EscapeKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMain(m *testing.M) {
	// No test may reach the instance metadata service or this user's files.
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Exit(m.Run())
}

// A reported location parses back to its key, and holds nothing a terminal
// would act on.
func FuzzEscapeKey(f *testing.F) {
	for _, s := range []string{"a/b.txt", "new\nline", "%41", "\x1b]8;;http://x\x07", "\xff\xfe", "\u202e", "a+b c?d#e!f", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		esc := objstore.EscapeKey(key)
		for _, r := range esc {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x202e || r == 0x2028 {
				t.Fatalf("EscapeKey(%q) = %q holds %U", key, esc, r)
			}
		}
		loc, err := objstore.ParseURL("s3://b/" + esc)
		if err != nil || loc.Prefix != key {
			t.Fatalf("ParseURL(EscapeKey(%q) = %q) = %q, %v", key, esc, loc.Prefix, err)
		}
	})
}

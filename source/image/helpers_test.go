package image

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/source"
)

const testRules = `
[[rule]]
id = "test-header"
description = "Authorization Token header"
regex = '''Authorization:\s*Token\s+([A-Za-z0-9]{32,64})'''
keywords = ["authorization"]
`

// tokenN is a distinct header line per n.
func tokenN(n int) string {
	return "Authorization: Token 8f3kQ9zLm2Xv7Rt5Wp1Yb6Nc4Hd0Js3" + string(rune('A'+n))
}

func testScanner(t testing.TB, opts pipeline.ContentOptions) source.Scanner {
	t.Helper()
	p, err := rules.Parse("test.toml", []byte(testRules))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(&rules.Set{Rules: p.Rules()}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return pipeline.NewContentScanner(e, nil, opts)
}

// entry is one tar member of a test layer.
type entry struct {
	name, body string
	typ        byte   // 0: regular file
	link       string // symlink and hardlink target
}

func tarBytes(t testing.TB, es ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: e.typ, Linkname: e.link, Format: tar.FormatPAX}
		if e.typ == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func layerOf(t testing.TB, data []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// buildImage stacks layers (each with a history line) on an empty image and
// sets the config's Env.
func buildImage(t testing.TB, env []string, layers ...v1.Layer) v1.Image {
	t.Helper()
	var adds []mutate.Addendum
	for i, l := range layers {
		adds = append(adds, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: "COPY layer " + string(rune('1'+i)) + " /"}})
	}
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.Env = env
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// serve starts go-containerregistry's in-memory registry on loopback and
// returns its host:port.
func serve(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func push(t testing.TB, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
}

func scan(t testing.TB, opts Options, copts pipeline.ContentOptions) (*Source, source.Result) {
	t.Helper()
	if opts.Keychain == nil {
		opts.Keychain = anonymous{}
	}
	src := New(opts)
	return src, src.Scan(context.Background(), testScanner(t, copts))
}

// mapCache is a LayerCache in memory.
type mapCache struct {
	mu   sync.Mutex
	m    map[string][]byte
	gets int
}

func (c *mapCache) Get(id string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	d, ok := c.m[id]
	return d, ok
}

func (c *mapCache) Put(id string, d []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	c.m[id] = d
}

// anonymous is a keychain with no credentials (tests never read the machine's
// Docker config).
type anonymous struct{}

func (anonymous) Resolve(authn.Resource) (authn.Authenticator, error) { return authn.Anonymous, nil }

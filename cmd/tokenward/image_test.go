package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/tokenward/tokenward/finding"
)

// testLayer is a layer of the given files (a name ending in "/" is a directory;
// a body of "" a whiteout or empty file).
func testLayer(t *testing.T, files ...[2]string) v1.Layer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		h := &tar.Header{Name: f[0], Mode: 0o644, Size: int64(len(f[1])), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if strings.HasSuffix(f[0], "/") {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func testImage(t *testing.T, env []string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.Config(img, v1.Config{Env: env}); err != nil {
		t.Fatal(err)
	}
	return img
}

// testRegistry serves go-containerregistry's in-memory registry on loopback
// and pushes imgs to it; it returns the registry's host:port.
func testRegistry(t *testing.T, imgs map[string]v1.Image) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	for repo, img := range imgs {
		ref, err := name.ParseReference(host + "/" + repo)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
	}
	return host
}

// deletedEnvImage copies a .env holding a token in, deletes it in the next
// layer, and sets a token in ENV.
func deletedEnvImage(t *testing.T) v1.Image {
	return testImage(t, []string{"API_AUTH=" + leaked},
		testLayer(t, [2]string{"app/", ""}, [2]string{"app/.env", "# deploy\n" + leaked}),
		testLayer(t, [2]string{"app/.wh..env", ""}))
}

func TestImageCommand(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials of this machine
	img := deletedEnvImage(t)
	host := testRegistry(t, map[string]v1.Image{"acme/app:1": img})
	ref := host + "/acme/app:1"
	id, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := tokenward(t, dir, "", "image", ref, "--format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var out struct{ Findings []finding.Finding }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		// json writes either an array or an object: accept both.
		if err := json.Unmarshal([]byte(r.stdout), &out.Findings); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
	}
	got := map[string]string{}
	for _, f := range out.Findings {
		got[f.File] = f.Deleted
	}
	layer := ref + "@" + id.String() + ":layer-1/app/.env"
	env := ref + "@" + id.String() + ":config/Env"
	if d, ok := got[layer]; !ok || d != "layer-2" {
		t.Errorf("want %s deleted in layer-2; got %v", layer, got)
	}
	if _, ok := got[env]; !ok {
		t.Errorf("want a finding at %s; got %v", env, got)
	}
	if strings.Contains(r.stdout, token) {
		t.Error("the secret is printed without --show-secrets")
	}

	// The same image saved with docker save: the same findings after IMAGE.
	file := filepath.Join(dir, "app.tar")
	if err := tarball.WriteToFile(file, name.MustParseReference("acme/app:1").(name.Tag), img); err != nil {
		t.Fatal(err)
	}
	r = tokenward(t, dir, "", "image", file)
	if r.code != 1 || !strings.Contains(r.stdout, "deleted in layer-2") || !strings.Contains(r.stdout, file+"@"+id.String()+":layer-1/app/.env") {
		t.Errorf("text: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = tokenward(t, dir, "", "image", file, "--format", "sarif")
	if r.code != 1 || !strings.Contains(r.stdout, `"deleted": "layer-2"`) {
		t.Errorf("sarif: exit %d, no deleted property\n%s", r.code, r.stdout)
	}
}

func TestImageCommandErrors(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	dir := t.TempDir()
	// A file name with a newline and an escape sequence is printed escaped.
	img := testImage(t, nil, testLayer(t, [2]string{"etc/x\n\x1b[31mevil", leaked}))
	file := filepath.Join(dir, "evil.tar")
	if err := tarball.WriteToFile(file, name.MustParseReference("acme/evil:1").(name.Tag), img); err != nil {
		t.Fatal(err)
	}
	r := tokenward(t, dir, "", "image", file)
	if r.code != 1 || strings.Contains(r.stdout, "\x1b[31m") || !strings.Contains(r.stdout, `layer-1/etc/x\x0a\x1b[31mevil:1:`) {
		t.Errorf("exit %d: the name is not escaped\n%q", r.code, r.stdout)
	}
	// A truncated layer: exit 2, the findings before it reported.
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	_ = tw.WriteHeader(&tar.Header{Name: "first.txt", Mode: 0o644, Size: int64(len(leaked)), Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte(leaked))
	_ = tw.WriteHeader(&tar.Header{Name: "second.txt", Mode: 0o644, Size: 5000, Typeflag: tar.TypeReg})
	_, _ = tw.Write(bytes.Repeat([]byte("y"), 1000))
	data := b.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	host := testRegistry(t, map[string]v1.Image{"acme/bad:1": testImage(t, nil, l)})
	r = tokenward(t, dir, "", "image", host+"/acme/bad:1", "--format", "jsonl")
	if r.code != 2 || !strings.Contains(r.stdout, "first.txt") || !strings.Contains(r.stderr, "corrupt layer") {
		t.Errorf("truncated layer: exit %d, want 2 with first.txt reported\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Not a file, not a reference.
	r = tokenward(t, dir, "", "image", "Not A Reference!")
	if r.code != 2 {
		t.Errorf("bad reference: exit %d\n%s", r.code, r.stderr)
	}
	r = tokenward(t, dir, "", "image", file, "--platform", "///")
	if r.code != 2 {
		t.Errorf("bad --platform: exit %d", r.code)
	}
}

// TestSweepImages: two images share a base layer holding a secret; the
// second image's sweep takes that layer from the store, and its later layer
// deletes the file, which the store keeps and report --db shows.
func TestSweepImages(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	base := testLayer(t, [2]string{"etc/app.conf", leaked})
	a := testImage(t, nil, base, testLayer(t, [2]string{"a.txt", "nothing here"}))
	b := testImage(t, nil, base, testLayer(t, [2]string{"etc/.wh.app.conf", ""}))
	host := testRegistry(t, map[string]v1.Image{"acme/a:1": a, "acme/b:1": b})
	work := t.TempDir()
	refA, refB := host+"/acme/a:1", host+"/acme/b:1"
	r := tokenward(t, work, "", "sweep", "--images", refA, "--db", "img.db", "--cache", "cache", "--progress", "log")
	if r.code != 1 || !strings.Contains(r.stderr, "image "+refA+": scanned, 2 layers (2 read, 0 from the store)") {
		t.Fatalf("first sweep: exit %d\n%s", r.code, r.stderr)
	}
	r = tokenward(t, work, "", "sweep", "--images", refB+","+refA, "--db", "img.db", "--cache", "cache", "--progress", "log", "--format", "jsonl")
	if r.code != 1 || !strings.Contains(r.stderr, "image "+refB+": scanned, 2 layers (1 read, 1 from the store)") ||
		!strings.Contains(r.stderr, "image "+refA+": scanned, 2 layers (0 read, 2 from the store)") {
		t.Fatalf("second sweep: exit %d\n%s", r.code, r.stderr)
	}
	fs := decodeFindings(t, r.stdout)
	if len(fs) != 2 {
		t.Fatalf("%d findings, want 2: %+v", len(fs), fs)
	}
	idB, _ := b.ConfigName()
	r = tokenward(t, work, "", "report", "--db", "img.db", "-f", "jsonl")
	got := map[string]string{}
	for _, f := range decodeFindings(t, r.stdout) {
		got[f.File] = f.Deleted
	}
	if d, ok := got[refB+"@"+idB.String()+":layer-1/etc/app.conf"]; !ok || d != "layer-2" {
		t.Errorf("report --db: %v; want image b's file deleted in layer-2", got)
	}
	if len(got) != 2 {
		t.Errorf("report --db: %v", got)
	}
}

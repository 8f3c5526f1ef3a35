package image

import (
	"archive/tar"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/source"
)

// located is a finding's location without the IMAGE part, its line and what
// deletes it: what must agree whatever the image was read from.
func located(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		loc := f.File
		if i := strings.Index(loc, "@sha256:"); i >= 0 {
			loc = loc[i:]
		}
		out = append(out, loc+"|"+f.Secret+"|"+f.Deleted+"|"+string(rune('0'+f.Line)))
	}
	slices.Sort(out)
	return out
}

func imageID(t *testing.T, img v1.Image) string {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// deletedImage has a .env copied in and deleted by the next layer, a
// directory made opaque, and a file that stays.
func deletedImage(t *testing.T) v1.Image {
	l1 := layerOf(t, tarBytes(t,
		entry{name: "app/", typ: tar.TypeDir},
		entry{name: "app/.env", body: "X=1\n" + tokenN(1) + "\n"},
		entry{name: "./data/cache/creds.txt", body: tokenN(2) + "\n"},
		entry{name: "/srv/kept.txt", body: tokenN(3) + "\n"},
	))
	l2 := layerOf(t, tarBytes(t,
		entry{name: "app/.wh..env"},
		entry{name: "data/.wh..wh..opq"},
	))
	return buildImage(t, []string{"PATH=/usr/bin", "API=" + tokenN(4)}, l1, l2)
}

func TestDeletedAndConfig(t *testing.T) {
	img := deletedImage(t)
	host := serve(t)
	ref := host + "/acme/app:1"
	push(t, ref, img)
	_, res := scan(t, Options{Input: ref}, pipeline.ContentOptions{})
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	id := imageID(t, img)
	want := map[string]string{
		ref + "@" + id + ":layer-1/app/.env":             "layer-2",
		ref + "@" + id + ":layer-1/data/cache/creds.txt": "layer-2",
		ref + "@" + id + ":layer-1/srv/kept.txt":         "",
		ref + "@" + id + ":config/Env":                   "",
	}
	got := map[string]string{}
	for _, f := range res.Findings {
		got[f.File] = f.Deleted
	}
	for loc, del := range want {
		d, ok := got[loc]
		if !ok {
			t.Errorf("no finding at %s; got %v", loc, got)
			continue
		}
		if d != del {
			t.Errorf("%s: deleted %q, want %q", loc, d, del)
		}
	}
	if len(got) != len(want) {
		t.Errorf("findings at %v, want %v", got, want)
	}
	for _, f := range res.Findings {
		if f.File == ref+"@"+id+":config/Env" && f.Line != 2 {
			t.Errorf("config/Env finding on line %d, want 2", f.Line)
		}
	}
}

func TestHistoryAndLabels(t *testing.T) {
	img := buildImage(t, nil, layerOf(t, tarBytes(t, entry{name: "a.txt", body: "nothing"})))
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Config.Labels = map[string]string{"org.example.auth": tokenN(5), "a": "b"}
	cf.Config.Cmd = []string{"curl", "-H", tokenN(6)}
	cf.Config.Entrypoint = []string{"/bin/sh", "-c", "echo " + tokenN(7)}
	cf.History = append(cf.History, v1.History{CreatedBy: "RUN curl -H '" + tokenN(8) + "' https://example.test", EmptyLayer: true})
	img, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "save.tar")
	if err := tarball.WriteToFile(file, name.MustParseReference("acme/app:1").(name.Tag), img); err != nil {
		t.Fatal(err)
	}
	_, res := scan(t, Options{Input: file}, pipeline.ContentOptions{})
	if len(res.Problems) > 0 {
		t.Fatal(res.Problems)
	}
	var locs []string
	for _, f := range res.Findings {
		locs = append(locs, strings.TrimPrefix(f.File, file+"@"+imageID(t, img)+":"))
	}
	want := []string{"config/Cmd", "config/Entrypoint", "config/Labels", "config/history/2"}
	if !slices.Equal(locs, want) {
		t.Errorf("findings at %q, want %q", locs, want)
	}
}

// TestSameFindingsEverywhere is the differential test: one image read from a
// registry, a docker save tarball and an OCI layout gives the same findings.
func TestSameFindingsEverywhere(t *testing.T) {
	img := deletedImage(t)
	host := serve(t)
	ref := host + "/acme/app:2"
	push(t, ref, img)
	dir := t.TempDir()
	file := filepath.Join(dir, "save.tar")
	if err := tarball.WriteToFile(file, name.MustParseReference("acme/app:2").(name.Tag), img); err != nil {
		t.Fatal(err)
	}
	lay := filepath.Join(dir, "layout")
	p, err := layout.Write(lay, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	var base []string
	for i, in := range []string{ref, file, lay} {
		_, res := scan(t, Options{Input: in}, pipeline.ContentOptions{})
		if len(res.Problems) > 0 {
			t.Fatalf("%s: %v", in, res.Problems)
		}
		got := located(res.Findings)
		if len(got) != 4 {
			t.Fatalf("%s: %d findings, want 4: %q", in, len(got), got)
		}
		for _, f := range res.Findings {
			if !strings.HasPrefix(f.File, in+"@") {
				t.Errorf("%s: finding at %s", in, f.File)
			}
		}
		if i == 0 {
			base = got
		} else if !slices.Equal(got, base) {
			t.Errorf("%s:\n%q\nregistry:\n%q", in, got, base)
		}
	}
}

func TestMultiPlatformIndex(t *testing.T) {
	amd := buildImage(t, nil, layerOf(t, tarBytes(t, entry{name: "amd.txt", body: tokenN(1)})))
	arm := buildImage(t, nil, layerOf(t, tarBytes(t, entry{name: "arm.txt", body: tokenN(2)})))
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	host := serve(t)
	ref := host + "/acme/multi:1"
	r, _ := name.ParseReference(ref)
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	if _, err := layout.Write(dir, idx); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{ref, dir} {
		for _, tc := range []struct {
			platform string
			want     []string
			problem  bool
		}{
			{"", []string{"amd.txt", "arm.txt"}, false},
			{"linux/arm64", []string{"arm.txt"}, false},
			{"windows/amd64", nil, true},
		} {
			var p *v1.Platform
			if tc.platform != "" {
				var err error
				if p, err = v1.ParsePlatform(tc.platform); err != nil {
					t.Fatal(err)
				}
			}
			src, res := scan(t, Options{Input: in, Platform: p}, pipeline.ContentOptions{})
			var got []string
			for _, f := range res.Findings {
				got = append(got, f.File[strings.LastIndex(f.File, "/")+1:])
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s --platform %q: findings in %q, want %q", in, tc.platform, got, tc.want)
			}
			if (len(res.Problems) > 0) != tc.problem {
				t.Errorf("%s --platform %q: problems %v", in, tc.platform, res.Problems)
			}
			if src.Stats.Images != len(tc.want) {
				t.Errorf("%s --platform %q: %d images", in, tc.platform, src.Stats.Images)
			}
		}
	}
}

func TestMultiImageTarball(t *testing.T) {
	a := buildImage(t, nil, layerOf(t, tarBytes(t, entry{name: "a.txt", body: tokenN(1)})))
	b := buildImage(t, nil, layerOf(t, tarBytes(t, entry{name: "b.txt", body: tokenN(2)})))
	file := filepath.Join(t.TempDir(), "multi.tar")
	c := buildImage(t, []string{"K=" + tokenN(3)}, layerOf(t, tarBytes(t, entry{name: "c.txt", body: "nothing"})))
	dc, err := c.Digest()
	if err != nil {
		t.Fatal(err)
	}
	refC, err := name.NewDigest("acme/c@" + dc.String())
	if err != nil {
		t.Fatal(err)
	}
	refs := map[name.Reference]v1.Image{
		name.MustParseReference("acme/a:1"): a,
		name.MustParseReference("acme/b:1"): b,
		refC:                                c, // untagged in manifest.json
	}
	if err := tarball.MultiRefWriteToFile(file, refs); err != nil {
		t.Fatal(err)
	}
	src, res := scan(t, Options{Input: file}, pipeline.ContentOptions{})
	if len(res.Problems) > 0 {
		t.Fatal(res.Problems)
	}
	if len(res.Findings) != 3 || src.Stats.Images != 3 {
		t.Fatalf("%d findings in %d images: %v", len(res.Findings), src.Stats.Images, res.Findings)
	}
	for _, f := range res.Findings {
		if !strings.HasPrefix(f.File, file+"[acme/") && !strings.HasPrefix(f.File, file+"[") {
			t.Errorf("finding at %s", f.File)
		}
		if strings.HasSuffix(f.File, "config/Env") && !strings.HasPrefix(f.File, file+"[1]@") {
			t.Errorf("the untagged image (first in manifest.json) is not named by its position: %s", f.File)
		}
	}
}

func TestHostileLayer(t *testing.T) {
	big := strings.Repeat("filler line\n", (memLimit+1<<20)/12) + tokenN(9) + "\n"
	l := layerOf(t, tarBytes(t,
		entry{name: "../../../etc/evil\x1b[2Jname\n.conf", body: tokenN(1)},
		entry{name: "link", typ: tar.TypeSymlink, link: "/etc/shadow"},
		entry{name: "hard", typ: tar.TypeLink, link: "../../etc/evil"},
		entry{name: "big.log", body: big},
		entry{name: "huge.bin", body: strings.Repeat("\x00", 2000) + tokenN(2)},
	))
	img := buildImage(t, nil, l)
	dir := t.TempDir()
	file := filepath.Join(dir, "save.tar")
	if err := tarball.WriteToFile(file, name.MustParseReference("acme/h:1").(name.Tag), img); err != nil {
		t.Fatal(err)
	}
	src, res := scan(t, Options{Input: file, MaxFileSize: 6 << 20}, pipeline.ContentOptions{MaxFileSize: 6 << 20})
	if len(res.Problems) > 0 {
		t.Fatal(res.Problems)
	}
	var files []string
	for _, f := range res.Findings {
		files = append(files, f.File[strings.Index(f.File, ":layer-1/")+len(":layer-1/"):])
	}
	want := []string{"big.log", "etc/evil\x1b[2Jname\n.conf", "huge.bin"}
	if !slices.Equal(files, want) {
		t.Errorf("findings in %q, want %q", files, want)
	}
	if res.Stats.Symlinks != 2 {
		t.Errorf("%d links counted, want 2", res.Stats.Symlinks)
	}
	if src.Stats.Files != 4 { // and config/history/1
		t.Errorf("%d files, want 4", src.Stats.Files)
	}
	for _, f := range res.Findings {
		if strings.HasSuffix(f.File, "big.log") && f.Line != strings.Count(big, "\n") {
			t.Errorf("big.log finding on line %d, want %d", f.Line, strings.Count(big, "\n"))
		}
	}
	// Over --max-file-size: named, not scanned.
	_, res = scan(t, Options{Input: file, MaxFileSize: 1 << 20}, pipeline.ContentOptions{MaxFileSize: 1 << 20})
	if len(res.Skipped) != 1 || !strings.HasSuffix(res.Skipped[0].Path, ":layer-1/big.log") {
		t.Errorf("skipped %v, want big.log", res.Skipped)
	}
}

// truncatedLayer is a layer whose tar stops inside its second file.
func truncatedLayer(t *testing.T) v1.Layer {
	data := tarBytes(t, entry{name: "first.txt", body: tokenN(1)}, entry{name: "second.txt", body: strings.Repeat("y", 5000)})
	return layerOf(t, data[:1536+1000])
}

func TestCorruptLayer(t *testing.T) {
	img := buildImage(t, nil, truncatedLayer(t), layerOf(t, tarBytes(t, entry{name: "ok.txt", body: tokenN(2)})))
	host := serve(t)
	ref := host + "/acme/bad:1"
	push(t, ref, img)
	cache := &mapCache{}
	_, res := scan(t, Options{Input: ref, Cache: cache}, pipeline.ContentOptions{})
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Error(), "layer-1") || !strings.Contains(res.Problems[0].Error(), "corrupt layer") {
		t.Fatalf("problems %v, want one naming layer-1 as corrupt", res.Problems)
	}
	if len(res.Findings) != 2 {
		t.Errorf("findings %v, want first.txt and ok.txt", res.Findings)
	}
	if len(cache.m) != 1 {
		t.Errorf("%d layers cached, want 1 (the corrupt one is not)", len(cache.m))
	}
	// Corrupt gzip: a registry blob that is not gzip at all.
	_, res = scan(t, Options{Input: filepath.Join(t.TempDir(), "missing.tar")}, pipeline.ContentOptions{})
	if len(res.Problems) != 1 {
		t.Errorf("a missing file and bad reference: problems %v", res.Problems)
	}
}

func TestCorruptGzip(t *testing.T) {
	noise := make([]byte, 200000)
	r := rand.New(rand.NewPCG(1, 2)) // incompressible: the cut falls in b.bin
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	l := layerOf(t, tarBytes(t, entry{name: "a.txt", body: tokenN(1) + "\n"}, entry{name: "b.bin", body: string(noise)}))
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(buildImage(t, nil, l)); err != nil {
		t.Fatal(err)
	}
	d, err := l.Digest()
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(dir, "blobs", d.Algorithm, d.Hex)
	data, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff // corrupt mid-stream
	if err := os.WriteFile(blob, data[:len(data)-8], 0o644); err != nil {
		t.Fatal(err)
	}
	_, res := scan(t, Options{Input: dir}, pipeline.ContentOptions{})
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Error(), "layer-1") {
		t.Fatalf("problems %v, want one naming layer-1", res.Problems)
	}
	if len(res.Findings) != 1 {
		t.Errorf("findings %v: the file before the corruption is still reported (%v)", res.Findings, res.Problems)
	}
}

func TestLayerCache(t *testing.T) {
	shared := layerOf(t, tarBytes(t, entry{name: "base/creds", body: tokenN(1)}))
	a := buildImage(t, nil, shared, layerOf(t, tarBytes(t, entry{name: "a.txt", body: tokenN(2)})))
	b := buildImage(t, nil, shared, layerOf(t, tarBytes(t, entry{name: "base/.wh.creds"})))
	host := serve(t)
	push(t, host+"/acme/a:1", a)
	push(t, host+"/acme/b:1", b)
	cache := &mapCache{}
	srcA, resA := scan(t, Options{Input: host + "/acme/a:1", Cache: cache}, pipeline.ContentOptions{})
	srcB, resB := scan(t, Options{Input: host + "/acme/b:1", Cache: cache}, pipeline.ContentOptions{})
	if srcA.Stats.LayersScanned != 2 || srcA.Stats.LayersCached != 0 {
		t.Errorf("first image: %+v", srcA.Stats)
	}
	if srcB.Stats.LayersScanned != 1 || srcB.Stats.LayersCached != 1 {
		t.Errorf("second image: %+v, want the shared layer from the cache", srcB.Stats)
	}
	if len(resA.Findings) != 2 || len(resB.Findings) != 1 {
		t.Fatalf("findings %v / %v", resA.Findings, resB.Findings)
	}
	if resB.Findings[0].Deleted != "layer-2" || resA.Findings[0].Deleted != "" {
		t.Errorf("a cached layer's file deleted by a later layer: %q / %q", resB.Findings[0].Deleted, resA.Findings[0].Deleted)
	}
	if resA.Findings[0].Fingerprint != resB.Findings[0].Fingerprint || resA.Findings[0].Line != resB.Findings[0].Line {
		t.Errorf("cached finding differs: %+v / %+v", resA.Findings[0], resB.Findings[0])
	}
	// A layer twice in one run is read once.
	both := buildImage(t, nil, shared, shared)
	src, res := scan(t, Options{Input: pushed(t, host+"/acme/both:1", both)}, pipeline.ContentOptions{})
	if src.Stats.LayersScanned != 1 || src.Stats.LayersShared != 1 || len(res.Findings) != 2 {
		t.Errorf("same layer twice: %+v, %d findings", src.Stats, len(res.Findings))
	}
}

func pushed(t *testing.T, ref string, img v1.Image) string {
	push(t, ref, img)
	return ref
}

func TestPlainHTTPGuard(t *testing.T) {
	called := false
	g := httpGuard{base: roundTripFunc(func(*http.Request) (*http.Response, error) {
		called = true
		return nil, errors.New("base called")
	})}
	for _, tc := range []struct {
		url     string
		refused bool
	}{
		{"http://10.1.2.3:5000/v2/", true},
		{"http://registry.internal/v2/", true},
		{"http://127.0.0.1:5000/v2/", false},
		{"http://[::1]:5000/v2/", false},
		{"http://localhost:5000/v2/", false},
		{"https://10.1.2.3/v2/", false},
	} {
		called = false
		req, _ := http.NewRequest("GET", tc.url, nil)
		_, err := g.RoundTrip(req)
		if refused := !called; refused != tc.refused {
			t.Errorf("%s: refused %v (%v), want %v", tc.url, refused, err, tc.refused)
		}
	}
	called = false
	req, _ := http.NewRequest("GET", "http://10.1.2.3:5000/v2/", nil)
	_, _ = httpGuard{base: g.base, insecure: true}.RoundTrip(req)
	if !called {
		t.Error("--insecure: plain http refused")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDeletions(t *testing.T) {
	rs := []*layerResult{
		{},
		{Deletes: []string{"a/b"}},
		{Opaque: []string{"x"}},
		{Opaque: []string{""}},
	}
	del := deletions(rs)
	for _, tc := range []struct {
		layer int
		path  string
		want  int
	}{
		{0, "a/b", 1},
		{0, "a/b/c", 1},
		{0, "a/bc", 3},
		{0, "x/y", 2},
		{1, "a/b", 3},
		{2, "x/y", 3},
		{3, "x/y", -1},
	} {
		if got := del(tc.layer, tc.path); got != tc.want {
			t.Errorf("layer %d %s: deleted by %d, want %d", tc.layer, tc.path, got, tc.want)
		}
	}
}

var _ source.Source = (*Source)(nil)

// A corrupt archive inside a layer is a property of the layer's content: the
// layer is cached with it, and every scan that takes it from the cache reports
// it again.
func TestFileErrorCached(t *testing.T) {
	l := layerOf(t, tarBytes(t, entry{name: "bad.zip", body: "PK\x03\x04" + strings.Repeat("\xff", 100)}, entry{name: "ok.txt", body: tokenN(1)}))
	host := serve(t)
	ref := pushed(t, host+"/acme/zip:1", buildImage(t, nil, l))
	cache := &mapCache{}
	for i := range 2 {
		src, res := scan(t, Options{Input: ref, Cache: cache}, pipeline.ContentOptions{MaxArchiveDepth: 4})
		if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Path, ":layer-1/bad.zip") {
			t.Errorf("scan %d: problems %v, want bad.zip's", i, res.Problems)
		}
		if len(res.Findings) != 1 || src.Stats.LayersCached != i {
			t.Errorf("scan %d: %d findings, %+v", i, len(res.Findings), src.Stats)
		}
	}
}

func TestMissingPathIsNotAReference(t *testing.T) {
	for _, in := range []string{"./nope.tar", "nope.tar", "/no/such/layout"} {
		_, res := scan(t, Options{Input: in}, pipeline.ContentOptions{})
		if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Error(), "no such file") {
			t.Errorf("%s: problems %v", in, res.Problems)
		}
	}
}

// An image whose config names a diff ID its layer's content does not have is a
// problem, and the layer's result is not cached under that diff ID.
func TestLyingDiffID(t *testing.T) {
	img := buildImage(t, nil, layerOf(t, tarBytes(t, entry{name: "a.txt", body: tokenN(1)})))
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs[0] = v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	ref := pushed(t, serve(t)+"/acme/lie:1", img)
	cache := &mapCache{}
	_, res := scan(t, Options{Input: ref, Cache: cache}, pipeline.ContentOptions{})
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Error(), "not the diff ID") {
		t.Errorf("problems %v", res.Problems)
	}
	if len(res.Findings) != 1 || len(cache.m) != 0 {
		t.Errorf("%d findings, %d cached", len(res.Findings), len(cache.m))
	}
}

// A config larger than any real one is refused before it is read.
func TestHugeConfig(t *testing.T) {
	defer func(n int64) { maxConfig = n }(maxConfig)
	maxConfig = 64
	ref := pushed(t, serve(t)+"/acme/huge:1", buildImage(t, []string{"A=" + tokenN(1)}))
	_, res := scan(t, Options{Input: ref}, pipeline.ContentOptions{})
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Error(), "over the") || len(res.Findings) != 0 {
		t.Errorf("problems %v, findings %d", res.Problems, len(res.Findings))
	}
}

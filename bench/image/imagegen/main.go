// Command imagegen builds a real-ish container image from a directory (the
// Go distribution in bench/image/run.sh) for the image benchmark: the
// directory's top-level entries are spread over -layers gzip layers, a token
// is planted in a .env in the first layer and deleted by a last layer, and a
// token is set in ENV. It writes a docker save tarball (-tar) and an OCI
// layout (-layout).
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// planted is the built-in rules' example GitHub token (public in this repository).
const planted = "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"

func main() {
	dir := flag.String("dir", "", "directory to pack")
	layers := flag.Int("layers", 8, "layers to spread it over")
	out := flag.String("tar", "", "docker save tarball to write")
	lay := flag.String("layout", "", "OCI layout directory to write")
	flag.Parse()
	tops, err := os.ReadDir(*dir)
	if err != nil {
		log.Fatal(err)
	}
	groups := make([][]string, *layers)
	for i, e := range tops {
		groups[i%*layers] = append(groups[i%*layers], e.Name())
	}
	var adds []mutate.Addendum
	for i, g := range groups {
		extra := map[string]string{}
		if i == 0 {
			extra["app/.env"] = "GITHUB_TOKEN=" + planted + "\n"
		}
		adds = append(adds, mutate.Addendum{Layer: layer(*dir, g, extra), History: v1.History{CreatedBy: "COPY go/ /usr/local/go"}})
	}
	adds = append(adds, mutate.Addendum{Layer: layer(*dir, nil, map[string]string{"app/.wh..env": ""}), History: v1.History{CreatedBy: "RUN rm /app/.env"}})
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		log.Fatal(err)
	}
	if img, err = mutate.Config(img, v1.Config{Env: []string{"PATH=/usr/local/go/bin", "GH=" + planted}}); err != nil {
		log.Fatal(err)
	}
	if *out != "" {
		if err := tarball.WriteToFile(*out, name.MustParseReference("bench/go:1").(name.Tag), img); err != nil {
			log.Fatal(err)
		}
	}
	if *lay != "" {
		p, err := layout.Write(*lay, empty.Index)
		if err != nil {
			log.Fatal(err)
		}
		if err := p.AppendImage(img); err != nil {
			log.Fatal(err)
		}
	}
}

// layer packs the entries tops of dir under usr/local/go, and extra files.
func layer(dir string, tops []string, extra map[string]string) v1.Layer {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, top := range tops {
		err := filepath.WalkDir(filepath.Join(dir, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			if err := tw.WriteHeader(&tar.Header{Name: "usr/local/go/" + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	names := make([]string, 0, len(extra))
	for n := range extra {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o600, Size: int64(len(extra[n])), Typeflag: tar.TypeReg}); err != nil {
			log.Fatal(err)
		}
		tw.Write([]byte(extra[n]))
	}
	if err := tw.Close(); err != nil {
		log.Fatal(err)
	}
	data := b.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		log.Fatal(err)
	}
	return l
}

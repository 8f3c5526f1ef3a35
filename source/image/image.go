// Package image is the container-image source: registry references, `docker
// save` tarballs and OCI layouts, read with github.com/google/go-containerregistry.
// It hands every regular file of every layer, and the image config's Env, Cmd,
// Entrypoint, Labels and history, to the pipeline's scanner (docs/images.md).
//
// Locations are IMAGE@DIGEST:layer-N/path and IMAGE@DIGEST:config/FIELD, where
// IMAGE is the input as given (a reference without its digest, a file or a
// directory), DIGEST the image ID (the config's digest: the same whether the
// image was pulled, saved or laid out) and N counts layers from 1 at the bottom.
// A file that a later layer deletes (a whiteout or an opaque directory) is still
// scanned in the layer that holds it; its findings name the deleting layer in
// Finding.Deleted.
package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/sourcegraph/conc/panics"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// memLimit is the largest layer file read whole and scanned by a worker; larger
// files are streamed through the scanner straight from the layer.
const memLimit = 4 << 20

// maxIndexDepth bounds nested image indexes.
const maxIndexDepth = 4

// Options configure an image scan.
type Options struct {
	// Input is a registry reference (ghcr.io/acme/app:1.2), a `docker save`
	// tarball or an OCI layout directory. An existing path is read as a file
	// or directory; anything else is a reference.
	Input string
	// Platform keeps, of a multi-platform index, only the images for this
	// platform. Nil: every image of the index.
	Platform *v1.Platform
	// Insecure allows plain HTTP to a registry that is not on loopback
	// (loopback registries may always use it).
	Insecure  bool
	Keychain  authn.Keychain    // nil: authn.DefaultKeychain (Docker config, credential helpers)
	Transport http.RoundTripper // nil: remote.DefaultTransport
	UserAgent string
	// Workers scan layer files concurrently (default 4); as many layers are
	// read at once.
	Workers     int
	MaxFileSize int64 // skip larger files (0: no limit); each is named in Skipped
	// Cache holds the results of layers scanned before, by uncompressed
	// digest (diff ID) under the caller's scan key. Nil: none.
	Cache LayerCache
}

// LayerCache stores complete layer results (opaque bytes) by diff ID. Get
// and Put are called concurrently.
type LayerCache interface {
	Get(diffID string) ([]byte, bool)
	Put(diffID string, result []byte)
}

// Stats counts what a scan saw.
type Stats struct {
	Images        int
	Layers        int   // layers of every image, counted once per image
	LayersScanned int   // read from the image
	LayersCached  int   // taken from the cache
	LayersShared  int   // scanned already for another image of this run
	Files         int64 // regular files scanned
	Bytes         int64
}

// Source is one image input.
type Source struct {
	opts  Options
	Stats Stats
}

var _ source.Source = (*Source)(nil)

// New returns the source of opts.Input.
func New(opts Options) *Source {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Keychain == nil {
		opts.Keychain = authn.DefaultKeychain
	}
	return &Source{opts: opts}
}

// target is one image to scan.
type target struct {
	name string // IMAGE of the locations
	img  imageLike
	// manifest is set for images whose manifest is at hand (registries,
	// layouts): it tells the config's size before the config is read.
	manifest bool
}

// maxConfig bounds an image config (real ones are a few KiB to a few MiB).
var maxConfig int64 = 64 << 20

// imageLike is what a scan needs of an image (v1.Image has it).
type imageLike interface {
	ConfigName() (v1.Hash, error)
	ConfigFile() (*v1.ConfigFile, error)
	Layers() ([]v1.Layer, error)
}

// state is one Scan.
type state struct {
	s    *Source
	sc   source.Scanner
	jobs chan func()
	sem  chan struct{}

	mu       sync.Mutex
	res      source.Result
	memo     map[string]*memoEntry
	files    atomic.Int64
	bytes    atomic.Int64
	symlinks atomic.Int64
}

type memoEntry struct {
	done chan struct{}
	r    *layerResult
}

// Scan reads every image of the input and hands each config field and layer
// file to sc.
func (s *Source) Scan(ctx context.Context, sc source.Scanner) source.Result {
	st := &state{s: s, sc: sc, jobs: make(chan func(), s.opts.Workers), sem: make(chan struct{}, s.opts.Workers), memo: map[string]*memoEntry{}}
	var workers sync.WaitGroup
	for range s.opts.Workers {
		workers.Go(func() {
			for j := range st.jobs {
				j()
			}
		})
	}
	targets, err := s.resolve(ctx, st)
	if err != nil {
		st.problem(s.opts.Input, err)
	}
	seen := map[string]bool{}
	for _, t := range targets {
		if ctx.Err() != nil {
			break
		}
		id, err := t.img.ConfigName()
		if err != nil {
			st.problem(t.name, fmt.Errorf("cannot read the image config: %w", err))
			continue
		}
		if key := t.name + "@" + id.String(); seen[key] {
			continue // an index or layout listing one image twice
		} else {
			seen[key] = true
		}
		st.image(ctx, t, id.String())
	}
	close(st.jobs)
	workers.Wait()
	if ctx.Err() != nil {
		st.problem(s.opts.Input, ctx.Err())
	}
	res := st.res
	s.Stats.Files, s.Stats.Bytes = st.files.Load(), st.bytes.Load()
	res.Stats.Files, res.Stats.Bytes = s.Stats.Files, s.Stats.Bytes
	res.Stats.Skipped = int64(len(res.Skipped))
	res.Stats.Symlinks = st.symlinks.Load()
	res.Stats.Cached = s.Stats.LayersCached
	finding.Sort(res.Findings)
	sort.Slice(res.Problems, func(i, j int) bool { return res.Problems[i].Path < res.Problems[j].Path })
	sort.Slice(res.Skipped, func(i, j int) bool { return res.Skipped[i].Path < res.Skipped[j].Path })
	sort.Strings(res.Warnings)
	return res
}

func (st *state) problem(where string, err error) {
	st.mu.Lock()
	st.res.Problems = append(st.res.Problems, source.Problem{Path: where, Err: err})
	st.mu.Unlock()
}

func (st *state) warn(format string, a ...any) {
	st.mu.Lock()
	st.res.Warnings = append(st.res.Warnings, fmt.Sprintf(format, a...))
	st.mu.Unlock()
}

// resolve opens the input and lists the images to scan.
func (s *Source) resolve(ctx context.Context, st *state) ([]target, error) {
	in := s.opts.Input
	if fi, err := os.Stat(in); err == nil {
		if fi.IsDir() {
			p, err := layout.FromPath(in)
			if err != nil {
				return nil, fmt.Errorf("not an OCI image layout (no readable index.json): %w", err)
			}
			idx, err := p.ImageIndex()
			if err != nil {
				return nil, fmt.Errorf("OCI layout: %w", err)
			}
			return s.index(st, in, in, idx, 0)
		}
		if !fi.Mode().IsRegular() {
			return nil, errors.New("not a regular file, a directory or a registry reference")
		}
		return s.tarball(in)
	} else if looksLikePath(in) {
		return nil, fmt.Errorf("no such file or directory (a registry reference has no leading / or ./ and no .tar suffix): %w", err)
	}
	return s.remote(ctx, st, in)
}

// looksLikePath tells a missing file from a reference, so that a mistyped
// path is not looked up in a registry.
func looksLikePath(in string) bool {
	return strings.HasPrefix(in, "/") || strings.HasPrefix(in, "./") || strings.HasPrefix(in, "../") ||
		strings.HasPrefix(in, "~") || strings.HasSuffix(in, ".tar") || strings.HasSuffix(in, ".tar.gz") || strings.Contains(in, `\`)
}

// tarball lists the images of a `docker save` tarball (several when its
// manifest.json lists several).
func (s *Source) tarball(file string) ([]target, error) {
	opener := func() (io.ReadCloser, error) { return os.Open(file) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("not a docker save tarball (manifest.json): %w", err)
	}
	if len(m) == 1 {
		img, err := tarball.Image(opener, nil)
		if err != nil {
			return nil, fmt.Errorf("docker save tarball: %w", err)
		}
		return []target{{name: file, img: img}}, nil
	}
	// Several images: go-containerregistry selects one only by tag (and not
	// an untagged one, nor the second of two with one tag), so each entry is
	// read here, its layers through tarball.LayerFromOpener.
	var out []target
	var errs []error
	for i, d := range m {
		label := strconv.Itoa(i + 1)
		if len(d.RepoTags) > 0 {
			label = d.RepoTags[0]
		}
		img, err := savedImage(file, d)
		if err != nil {
			errs = append(errs, fmt.Errorf("image %d of %d (%s): %w", i+1, len(m), label, err))
			continue
		}
		out = append(out, target{name: file + "[" + label + "]", img: img})
	}
	return out, errors.Join(errs...)
}

// saved is one image of a multi-image docker save tarball.
type saved struct {
	file   string
	d      tarball.Descriptor
	config []byte
}

func savedImage(file string, d tarball.Descriptor) (*saved, error) {
	rc, err := extract(file, d.Config)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	cfg, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", d.Config, err)
	}
	return &saved{file: file, d: d, config: cfg}, nil
}

func (s *saved) ConfigName() (v1.Hash, error) {
	sum := sha256.Sum256(s.config)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}, nil
}

func (s *saved) ConfigFile() (*v1.ConfigFile, error) {
	return v1.ParseConfigFile(bytes.NewReader(s.config))
}

func (s *saved) Layers() ([]v1.Layer, error) {
	var out []v1.Layer
	for _, p := range s.d.Layers {
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return extract(s.file, p) })
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", p, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// extract opens the member name of the tar at file, following links between
// its members (docker save links repeated layers), never onto the host.
func extract(file, name string) (io.ReadCloser, error) {
	for range 8 { // link hops
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(f)
		var link string
		for {
			h, err := tr.Next()
			if err != nil {
				f.Close()
				if err == io.EOF {
					return nil, fmt.Errorf("%s is not in the tarball", name)
				}
				return nil, err
			}
			if path.Clean(h.Name) != path.Clean(name) {
				continue
			}
			if h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink {
				link = h.Linkname
				if h.Typeflag == tar.TypeSymlink {
					link = path.Join(path.Dir(name), link)
				}
				break
			}
			return struct {
				io.Reader
				io.Closer
			}{tr, f}, nil
		}
		f.Close()
		name = link
	}
	return nil, fmt.Errorf("%s: too many links", name)
}

// remote resolves a registry reference.
func (s *Source) remote(ctx context.Context, st *state, in string) ([]target, error) {
	var nopts []name.Option
	if s.opts.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(in, nopts...)
	if err != nil {
		return nil, fmt.Errorf("not a file, a directory or an image reference: %w", err)
	}
	base := s.opts.Transport
	if base == nil {
		base = remote.DefaultTransport
	}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(s.opts.Keychain),
		remote.WithTransport(httpGuard{base: base, insecure: s.opts.Insecure}),
	}
	if s.opts.UserAgent != "" {
		ropts = append(ropts, remote.WithUserAgent(s.opts.UserAgent))
	}
	desc, err := remote.Get(ref, ropts...)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch the manifest (check the name and your registry login: docker login %s): %w", ref.Context().RegistryStr(), err)
	}
	display := in
	if d, ok := ref.(name.Digest); ok {
		display = strings.TrimSuffix(in, "@"+d.DigestStr())
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		return s.index(st, in, display, idx, 0)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("not an image (%s): %w", desc.MediaType, err)
	}
	return []target{{name: display, img: img, manifest: true}}, nil
}

// index lists the images of an index (an OCI layout's or a multi-platform
// reference's): every one, or those of Options.Platform.
func (s *Source) index(st *state, where, display string, idx v1.ImageIndex, depth int) ([]target, error) {
	if depth > maxIndexDepth {
		return nil, fmt.Errorf("indexes nested deeper than %d", maxIndexDepth)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	var out []target
	var errs []error
	var platforms []string
	for _, m := range im.Manifests {
		switch {
		case m.MediaType.IsIndex():
			child, err := idx.ImageIndex(m.Digest)
			if err != nil {
				errs = append(errs, fmt.Errorf("index %s: %w", m.Digest, err))
				continue
			}
			ts, err := s.index(st, where, display, child, depth+1)
			out = append(out, ts...)
			if err != nil {
				errs = append(errs, err)
			}
		case m.MediaType.IsImage():
			if m.Platform != nil {
				platforms = append(platforms, m.Platform.String())
			}
			if p := s.opts.Platform; p != nil && (m.Platform == nil || !m.Platform.Satisfies(*p)) {
				continue
			}
			img, err := idx.Image(m.Digest)
			if err != nil {
				errs = append(errs, fmt.Errorf("image %s: %w", m.Digest, err))
				continue
			}
			out = append(out, target{name: display, img: img, manifest: true})
		default:
			st.warn("%s: index entry %s of type %q is not an image, not scanned", where, m.Digest, m.MediaType)
		}
	}
	if depth == 0 && len(out) == 0 && len(errs) == 0 {
		if s.opts.Platform != nil {
			errs = append(errs, fmt.Errorf("no image for platform %s (the index has: %s)", s.opts.Platform, strings.Join(platforms, ", ")))
		} else {
			errs = append(errs, errors.New("the index lists no image"))
		}
	}
	return out, errors.Join(errs...)
}

// image scans one image: its config fields, then its layers concurrently, and
// marks the findings of files that a later layer deletes.
func (st *state) image(ctx context.Context, t target, id string) {
	st.mu.Lock()
	st.s.Stats.Images++
	st.mu.Unlock()
	prefix := t.name + "@" + id + ":"
	if mi, ok := t.img.(interface{ Manifest() (*v1.Manifest, error) }); ok && t.manifest {
		if m, err := mi.Manifest(); err == nil && m.Config.Size > maxConfig {
			st.problem(prefix+"config", fmt.Errorf("the config is %d bytes, over the %d MiB limit of a real one: the image is not scanned", m.Config.Size, maxConfig>>20))
			return
		}
	}
	cf, err := t.img.ConfigFile()
	if err != nil {
		st.problem(prefix+"config", fmt.Errorf("cannot parse the image config: %w", err))
	} else {
		st.config(prefix, cf)
	}
	layers, err := t.img.Layers()
	if err != nil {
		st.problem(prefix+"layers", fmt.Errorf("cannot list the layers: %w", err))
		return
	}
	// The config's diff IDs, when it lists one per layer: asking a compressed
	// layer for its diff ID may decompress it whole (docker save tarballs),
	// which a cached layer must not cost. Content read is checked against them.
	var diffIDs []v1.Hash
	if cf != nil && len(cf.RootFS.DiffIDs) == len(layers) {
		diffIDs = cf.RootFS.DiffIDs
	}
	results := make([]*layerResult, len(layers))
	var wg sync.WaitGroup
	for i, l := range layers {
		if ctx.Err() != nil {
			break
		}
		st.sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-st.sem }()
			var known v1.Hash
			if diffIDs != nil {
				known = diffIDs[i]
			}
			results[i] = st.layer(ctx, l, known, prefix+label(i))
		})
	}
	wg.Wait()
	st.mu.Lock()
	st.s.Stats.Layers += len(layers)
	st.mu.Unlock()
	del := deletions(results)
	for i, r := range results {
		if r == nil {
			continue
		}
		loc := prefix + label(i) + "/"
		fs := make([]finding.Finding, len(r.Findings))
		for k, f := range r.Findings {
			f.Finding.Groups = f.Groups
			fs[k] = f.Finding
			outer, _, _ := strings.Cut(f.File, "!")
			if j := del(i, outer); j >= 0 {
				fs[k].Deleted = label(j)
			}
			fs[k].File = loc + f.File
		}
		for _, e := range r.Errors {
			st.problem(loc+e.Path, errors.New(e.Err))
		}
		skipped := make([]source.Skip, len(r.Skipped))
		for k, sk := range r.Skipped {
			skipped[k] = source.Skip{Path: loc + sk.Path, Reason: sk.Reason}
		}
		st.mu.Lock()
		st.res.Findings = append(st.res.Findings, fs...)
		st.res.Skipped = append(st.res.Skipped, skipped...)
		st.mu.Unlock()
	}
}

// label names layer i (0-based) in locations: layer-1 is the bottom layer.
func label(i int) string { return "layer-" + strconv.Itoa(i+1) }

// config scans the config fields that hold what a Dockerfile said: each is its
// own blob, located IMAGE@DIGEST:config/FIELD.
func (st *state) config(prefix string, cf *v1.ConfigFile) {
	type blob struct{ path, data string }
	var blobs []blob
	c := cf.Config
	add := func(p string, lines []string) {
		if len(lines) > 0 {
			blobs = append(blobs, blob{p, strings.Join(lines, "\n") + "\n"})
		}
	}
	add("config/Env", c.Env)
	add("config/Cmd", c.Cmd)
	add("config/Entrypoint", c.Entrypoint)
	labels := make([]string, 0, len(c.Labels))
	for k, v := range c.Labels {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	add("config/Labels", labels)
	if c.Healthcheck != nil {
		add("config/Healthcheck", c.Healthcheck.Test)
	}
	add("config/OnBuild", c.OnBuild)
	for i, h := range cf.History {
		if h.CreatedBy != "" {
			add("config/history/"+strconv.Itoa(i+1), []string{h.CreatedBy})
		}
	}
	for _, b := range blobs {
		o := st.sc.ScanBlob(source.Blob{ID: prefix + b.path, Path: b.path, Data: []byte(b.data)})
		st.files.Add(1)
		st.bytes.Add(o.Bytes)
		for i := range o.Findings {
			o.Findings[i].File = prefix + b.path + o.Findings[i].File
		}
		for i := range o.Skipped {
			o.Skipped[i].Path = prefix + o.Skipped[i].Path
		}
		st.mu.Lock()
		st.res.Findings = append(st.res.Findings, o.Findings...)
		st.res.Skipped = append(st.res.Skipped, o.Skipped...)
		st.mu.Unlock()
		if o.Err != nil {
			st.problem(prefix+b.path, o.Err)
		}
	}
}

// layerResult is what scanning one layer gave, positioned in the layer (File
// and Skip.Path are paths in it): the form kept in the cache.
type layerResult struct {
	Findings []storedFinding `json:"findings,omitempty"`
	Skipped  []source.Skip   `json:"skipped,omitempty"`
	Deletes  []string        `json:"deletes,omitempty"` // paths a whiteout deletes from lower layers
	Opaque   []string        `json:"opaque,omitempty"`  // directories whose lower content is hidden
	// Errors are the files that could not be read completely (a corrupt
	// archive inside the layer): a property of the content, so kept with it
	// and reported for every image the layer is in.
	Errors []fileError `json:"errors,omitempty"`
	Files  int64       `json:"files"`
	Bytes  int64       `json:"bytes"`
}

type fileError struct {
	Path string `json:"path"`
	Err  string `json:"error"`
}

type storedFinding struct {
	finding.Finding
	Groups map[string]string `json:"groups,omitempty"`
}

// layer scans a layer once per diff ID in a run, and not at all when the
// cache holds its result.
func (st *state) layer(ctx context.Context, l v1.Layer, d v1.Hash, where string) *layerResult {
	var err error
	if d.Hex == "" {
		d, err = l.DiffID()
	}
	if err != nil {
		// Computing it read the layer and failed: read what can be read,
		// uncached, and report the layer once.
		r, rerr := st.read(ctx, l, v1.Hash{}, where)
		if rerr == nil {
			rerr = err
		}
		st.problem(where, fmt.Errorf("cannot read the layer's diff ID: %w", rerr))
		return r
	}
	diffID := d.String()
	st.mu.Lock()
	if e, ok := st.memo[diffID]; ok {
		st.s.Stats.LayersShared++
		st.mu.Unlock()
		<-e.done
		return e.r
	}
	e := &memoEntry{done: make(chan struct{})}
	st.memo[diffID] = e
	st.mu.Unlock()
	defer close(e.done)
	if c := st.s.opts.Cache; c != nil {
		if data, ok := c.Get(diffID); ok {
			var r layerResult
			if err := json.Unmarshal(data, &r); err == nil {
				st.mu.Lock()
				st.s.Stats.LayersCached++
				st.mu.Unlock()
				e.r = &r
				return e.r
			}
		}
	}
	r, err := st.read(ctx, l, d, where)
	e.r = r
	st.mu.Lock()
	st.s.Stats.LayersScanned++
	st.mu.Unlock()
	if err != nil {
		st.problem(where, fmt.Errorf("layer %s: %w", diffID, err))
		return r
	}
	if c := st.s.opts.Cache; c != nil && ctx.Err() == nil {
		if data, err := json.Marshal(r); err == nil {
			c.Put(diffID, data)
		}
	}
	return r
}

// read streams a layer's tar and scans its regular files: those up to
// memLimit by the workers, larger ones in place, never more than one layer
// file beyond the workers' in memory. The content is checked against the diff
// ID, so that the cache never holds a result under a digest it is not of.
func (st *state) read(ctx context.Context, l v1.Layer, diffID v1.Hash, where string) (*layerResult, error) {
	r := &layerResult{}
	var mu sync.Mutex // r, between this reader and the workers
	var pending sync.WaitGroup
	defer pending.Wait()
	add := func(p string, o source.Outcome) {
		st.files.Add(1)
		st.bytes.Add(o.Bytes)
		mu.Lock()
		defer mu.Unlock()
		r.Files++
		r.Bytes += o.Bytes
		for _, f := range o.Findings {
			f.File = p + f.File
			r.Findings = append(r.Findings, storedFinding{Finding: f, Groups: f.Groups})
		}
		r.Skipped = append(r.Skipped, o.Skipped...)
		if o.Err != nil {
			r.Errors = append(r.Errors, fileError{Path: p, Err: o.Err.Error()})
		}
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return r, fmt.Errorf("cannot open: %w", err)
	}
	defer rc.Close()
	h := sha256.New()
	counted := &countReader{r: io.TeeReader(rc, h)}
	tr := tar.NewReader(counted)
	for {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			pending.Wait()
			return r, fmt.Errorf("corrupt layer (gzip or tar) after %d bytes: %w; the files before it were scanned", counted.n, err)
		}
		p := cleanPath(hdr.Name)
		if p == "" {
			continue
		}
		dir, base := path.Split(p)
		if strings.HasPrefix(base, ".wh.") {
			mu.Lock()
			switch {
			case base == ".wh..wh..opq":
				r.Opaque = append(r.Opaque, strings.TrimSuffix(dir, "/"))
			case !strings.HasPrefix(base, ".wh..wh."): // other .wh..wh. names are aufs bookkeeping
				r.Deletes = append(r.Deletes, dir+base[len(".wh."):])
			}
			mu.Unlock()
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeReg, '\x00': // '\x00': regular in pre-POSIX tars
		case tar.TypeSymlink, tar.TypeLink:
			st.symlinks.Add(1) // never followed: a link's target is scanned where it is stored
			continue
		default:
			continue // directories, devices, fifos: no content
		}
		if max := st.s.opts.MaxFileSize; max > 0 && hdr.Size > max {
			mu.Lock()
			r.Skipped = append(r.Skipped, source.Skip{Path: p, Reason: fmt.Sprintf("%d bytes, over --max-file-size", hdr.Size)})
			mu.Unlock()
			continue
		}
		id := diffID.String() + ":" + p
		if hdr.Size <= memLimit {
			buf := make([]byte, hdr.Size)
			if _, err := io.ReadFull(tr, buf); err != nil {
				pending.Wait()
				return r, fmt.Errorf("corrupt layer: %s: %w after %d bytes; the files before it were scanned", p, err, counted.n)
			}
			pending.Add(1)
			st.jobs <- func() {
				defer pending.Done()
				var o source.Outcome
				if rec := panics.Try(func() { o = st.sc.ScanBlob(source.Blob{ID: id, Path: p, Data: buf}) }); rec != nil {
					o.Err = fmt.Errorf("internal error while scanning (please report it): %v", rec.Value)
				}
				add(p, o)
			}
			continue
		}
		used := false
		o := st.sc.ScanBlob(source.Blob{ID: id, Path: p, Open: func() (io.ReadCloser, error) {
			if used {
				return nil, errors.New("the stream can be read only once")
			}
			used = true
			return io.NopCloser(tr), nil
		}})
		add(p, o)
	}
	pending.Wait()
	// The tar's end: read what follows (padding) so that the digest covers it all.
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return r, fmt.Errorf("corrupt layer after %d bytes: %w", counted.n, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); diffID.Algorithm == "sha256" && got != diffID.String() {
		return r, fmt.Errorf("content is %s, not the diff ID the image config names: the image is corrupt or was altered; its findings are reported but not cached", got)
	}
	return r, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// cleanPath is a tar entry's name as a slash path relative to the layer's root:
// leading "/" and "./" and any ".." that would climb above the root are
// dropped (nothing is written to disk; the name is only reported).
func cleanPath(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// deletions returns, for a file at path p of layer i, the index of the first
// later layer that deletes it (a whiteout of p or of a directory above it, or
// an opaque directory above it), or -1.
func deletions(results []*layerResult) func(i int, p string) int {
	type sets struct{ deletes, opaque map[string]bool }
	ss := make([]sets, len(results))
	for j, r := range results {
		if r == nil {
			continue
		}
		ss[j] = sets{map[string]bool{}, map[string]bool{}}
		for _, d := range r.Deletes {
			ss[j].deletes[d] = true
		}
		for _, o := range r.Opaque {
			ss[j].opaque[o] = true
		}
	}
	return func(i int, p string) int {
		for j := i + 1; j < len(ss); j++ {
			s := ss[j]
			if s.deletes == nil {
				continue
			}
			if s.deletes[p] {
				return j
			}
			for q := p; ; {
				k := strings.LastIndexByte(q, '/')
				if k < 0 {
					if s.opaque[""] {
						return j
					}
					break
				}
				q = q[:k]
				if s.deletes[q] || s.opaque[q] {
					return j
				}
			}
		}
		return -1
	}
}

// httpGuard refuses plain HTTP to registries off loopback unless Insecure:
// go-containerregistry would otherwise use it for private address ranges,
// sending credentials and content unencrypted.
type httpGuard struct {
	base     http.RoundTripper
	insecure bool
}

func (g httpGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.insecure && !loopback(req.URL.Hostname()) {
		return nil, fmt.Errorf("refusing plain http to %s: pass --insecure if the registry really has no TLS", req.URL.Host)
	}
	return g.base.RoundTrip(req)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Package objstore is the object-storage source: it lists every object under an
// S3 bucket and prefix (ListObjectsV2, any S3-compatible store) and hands each
// one's content, streamed, to the pipeline's scanner, with findings located as
// s3://bucket/key.
package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/sourcegraph/conc/panics"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// Client is what the source calls: *s3.Client implements it.
type Client interface {
	s3.ListObjectsV2APIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Location is a bucket and a key prefix ("" for the whole bucket).
type Location struct{ Bucket, Prefix string }

// String is the location as an s3:// URL, the prefix escaped as keys are.
func (l Location) String() string {
	if l.Prefix == "" {
		return "s3://" + l.Bucket
	}
	return "s3://" + l.Bucket + "/" + EscapeKey(l.Prefix)
}

// ParseURL reads s3://BUCKET[/PREFIX]. The prefix is taken as written except
// that %XX escapes are decoded, as in the locations findings report (a key
// with a newline is reported, and is given back, as %0A; a % itself as %25).
func ParseURL(s string) (Location, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return Location{}, fmt.Errorf("%q: want s3://BUCKET or s3://BUCKET/PREFIX", s)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if err := checkBucket(bucket); err != nil {
		return Location{}, fmt.Errorf("%q: %w", s, err)
	}
	p, err := url.PathUnescape(prefix)
	if err != nil {
		return Location{}, fmt.Errorf("%q: the prefix has a bad %%-escape (write a %% as %%25): %w", s, err)
	}
	return Location{Bucket: bucket, Prefix: p}, nil
}

// checkBucket accepts the names S3 and S3-compatible stores allow (3-63
// characters of letters, digits, dots, dashes and, for older buckets and some
// stores, underscores), so that a name never changes the request's host or path.
func checkBucket(b string) error {
	if len(b) < 1 || len(b) > 255 {
		return errors.New("the bucket name is empty or too long")
	}
	for _, c := range []byte(b) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Errorf("bucket name %q: only letters, digits, '.', '-' and '_' are allowed", b)
		}
	}
	return nil
}

// EscapeKey makes a key safe to print and unambiguous: %XX for '%', control
// characters (newlines, escape sequences), DEL, invalid UTF-8, C1 controls,
// line and paragraph separators and bidirectional controls ("trojan source");
// everything else as it is. ParseURL decodes it.
func EscapeKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); {
		r, n := utf8.DecodeRuneInString(k[i:])
		if r == utf8.RuneError && n == 1 || unsafeRune(r) {
			for _, c := range []byte(k[i : i+n]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		} else {
			b.WriteString(k[i : i+n])
		}
		i += n
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	switch {
	case r == '%', r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Cache holds complete results of earlier scans by object entity tag (the sweep
// store): an object whose key and ETag are in it is not read again. Findings
// are positioned in the object (File: "" or its archive member chain).
type Cache interface {
	Get(bucket, key, etag string) ([]finding.Finding, bool)
	Put(bucket, key, etag string, size int64, fs []finding.Finding)
}

// Options configure a scan.
type Options struct {
	Client    Client
	Locations []Location
	Workers   int   // objects read at once (default 4)
	MaxKeys   int32 // keys per listing page (0: the store's default, 1000 on S3)
	// MaxObjects bounds each location's listing: a listing longer than this is
	// a problem (0: 10 000 000).
	MaxObjects  int
	MaxFileSize int64 // objects larger are skipped and named (0: no limit)
	Cache       Cache // nil: every object is read
}

// Stats counts what a scan did.
type Stats struct {
	Listed  int   // objects listed
	Pages   int   // listing pages
	Gets    int   // objects read (GetObject; empty objects need none)
	Cached  int   // objects whose results came from the cache
	Skipped int   // objects not scanned (too large)
	Bytes   int64 // bytes read from the store
	// ListedAll says every location's listing ran to its end: objects a
	// cache holds that it did not name are gone from the store.
	ListedAll bool
}

// Lister is a Cache that also wants to know every object listed (the sweep
// store, to drop what a complete listing no longer names).
type Lister interface {
	Listed(bucket, key string)
}

// Source scans objects.
type Source struct {
	opts Options
	// Stats is set by Scan.
	Stats Stats
}

// New returns a source of the objects under opts.Locations.
func New(opts Options) *Source { return &Source{opts: opts} }

var _ source.Source = (*Source)(nil)

// memLimit is the largest object read whole (and judged by the per-file
// checks); larger ones are streamed through the engine, as files are.
const memLimit = 4 << 20

const defaultMaxObjects = 10_000_000

// object is one listed object.
type object struct {
	loc  Location
	key  string
	etag string
	size int64
}

func (o object) where() string { return "s3://" + o.loc.Bucket + "/" + EscapeKey(o.key) }

// outcome is one object's result.
type outcome struct {
	o        object
	findings []finding.Finding
	skipped  []source.Skip
	problem  error
	bytes    int64 // read from the store
	scanned  int64 // content bytes scanned (archive members decoded)
	state    int
}

// Object states.
const (
	stateRead     = iota // read from the store (completely or not)
	stateCached          // result taken from the cache
	stateTooLarge        // over MaxFileSize, not read
	stateNotRead         // interrupted before reading
	stateEmpty           // empty: scanned without a request
)

// Scan lists every location and scans every object: workers read objects
// while the listing goes on. The findings' order does not depend on the
// number of workers.
func (src *Source) Scan(ctx context.Context, sc source.Scanner) source.Result {
	opts := src.opts
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.MaxObjects <= 0 {
		opts.MaxObjects = defaultMaxObjects
	}
	src.opts = opts
	src.Stats = Stats{}
	var res source.Result
	jobs := make(chan object, 256)
	outs := make(chan outcome, 256)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Go(func() {
			for o := range jobs {
				outs <- src.scanObject(ctx, sc, o)
			}
		})
	}
	// The lister's problems and counts are read after outs is closed, which
	// follows the lister's end (jobs closed, workers done).
	var listProblems []source.Problem
	go func() {
		defer close(jobs)
		src.Stats.ListedAll = true
		for _, loc := range Dedupe(opts.Locations) {
			if err := src.list(ctx, loc, jobs); err != nil {
				listProblems = append(listProblems, source.Problem{Path: loc.String(), Err: err})
				src.Stats.ListedAll = false
			}
		}
		if ctx.Err() != nil {
			src.Stats.ListedAll = false
		}
	}()
	go func() { wg.Wait(); close(outs) }()
	// Only outcomes with something to report are kept (a bucket may hold
	// millions of clean objects); they are sorted so that the order of findings
	// does not depend on the workers.
	var kept []outcome
	st := &src.Stats
	for out := range outs {
		res.Stats.Bytes += out.scanned
		st.Bytes += out.bytes
		switch out.state {
		case stateRead:
			st.Gets++
			res.Stats.Files++
		case stateCached:
			st.Cached++
			res.Stats.Cached++
			res.Stats.Files++
		case stateEmpty:
			res.Stats.Files++
		case stateTooLarge:
			st.Skipped++
			res.Stats.Skipped++
		}
		if len(out.findings) > 0 || len(out.skipped) > 0 || out.problem != nil {
			out.o.etag = ""
			kept = append(kept, out)
		}
	}
	sort.Slice(kept, func(i, j int) bool {
		a, b := kept[i].o, kept[j].o
		if a.loc.Bucket != b.loc.Bucket {
			return a.loc.Bucket < b.loc.Bucket
		}
		return a.key < b.key
	})
	for _, out := range kept {
		res.Findings = append(res.Findings, out.findings...)
		res.Skipped = append(res.Skipped, out.skipped...)
		if out.problem != nil {
			res.Problems = append(res.Problems, source.Problem{Path: out.o.where(), Err: out.problem})
		}
	}
	res.Problems = append(listProblems, res.Problems...)
	if err := ctx.Err(); err != nil {
		res.Problems = append(res.Problems, source.Problem{Err: fmt.Errorf("interrupted: %w", err)})
	}
	return res
}

// Dedupe drops locations inside another one (s3://b/x under s3://b), so that no
// object is scanned twice.
func Dedupe(locs []Location) []Location {
	s := append([]Location(nil), locs...)
	sort.Slice(s, func(i, j int) bool {
		if s[i].Bucket != s[j].Bucket {
			return s[i].Bucket < s[j].Bucket
		}
		return s[i].Prefix < s[j].Prefix
	})
	var out []Location
	for _, l := range s {
		if n := len(out); n > 0 && out[n-1].Bucket == l.Bucket && strings.HasPrefix(l.Prefix, out[n-1].Prefix) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// list sends every object under loc to jobs. The loop ends with the listing,
// at MaxObjects, when the store repeats a continuation token, or with ctx.
func (src *Source) list(ctx context.Context, loc Location, jobs chan<- object) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(loc.Bucket), EncodingType: types.EncodingTypeUrl}
	if loc.Prefix != "" {
		in.Prefix = aws.String(loc.Prefix)
	}
	if src.opts.MaxKeys > 0 {
		in.MaxKeys = aws.Int32(src.opts.MaxKeys)
	}
	p := s3.NewListObjectsV2Paginator(src.opts.Client, in)
	n, prev := 0, ""
	for p.HasMorePages() {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing after %d objects: %w%s", n, err, hint(err))
		}
		src.Stats.Pages++
		decode := page.EncodingType == types.EncodingTypeUrl
		for _, c := range page.Contents {
			key := aws.ToString(c.Key)
			if decode {
				k, err := url.QueryUnescape(key)
				if err != nil {
					return fmt.Errorf("listing: key %q is not url-encoded as the store said: %w", EscapeKey(key), err)
				}
				key = k
			}
			n++
			if n > src.opts.MaxObjects {
				return fmt.Errorf("more than %d objects (--max-objects): the rest are not scanned", src.opts.MaxObjects)
			}
			src.Stats.Listed++
			if l, ok := src.opts.Cache.(Lister); ok {
				l.Listed(loc.Bucket, key)
			}
			select {
			case jobs <- object{loc: loc, key: key, etag: aws.ToString(c.ETag), size: aws.ToInt64(c.Size)}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if aws.ToBool(page.IsTruncated) {
			next := aws.ToString(page.NextContinuationToken)
			if next == "" {
				return fmt.Errorf("listing after %d objects: the store said there is more but gave no continuation token", n)
			}
			if next == prev {
				return fmt.Errorf("listing after %d objects: the store repeated its continuation token", n)
			}
			prev = next
		}
	}
	return nil
}

// hint says what to do about an error of the store.
func hint(err error) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	switch ae.ErrorCode() {
	case "AccessDenied", "AllAccessDisabled":
		return " (the credentials lack s3:ListBucket or s3:GetObject here; check --profile, or --no-sign-request for a public bucket)"
	case "NoSuchBucket":
		return " (check the bucket name, and --endpoint-url for a store other than AWS)"
	case "PermanentRedirect", "AuthorizationHeaderMalformed", "301":
		return " (the bucket is in another region: give --region)"
	case "InvalidObjectState":
		return " (the object is in an archived storage class: restore it first)"
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken":
		return " (check the credentials: --profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
	}
	return ""
}

// scanObject scans one object: from the cache when its ETag is there, else
// read from the store, whole when small and streamed when large. What a body
// cut short held is scanned, and the object is a problem.
func (src *Source) scanObject(ctx context.Context, sc source.Scanner, o object) (out outcome) {
	out.o = o
	where := o.where()
	if limit := src.opts.MaxFileSize; limit > 0 && o.size > limit {
		out.state = stateTooLarge
		out.skipped = []source.Skip{{Path: where, Reason: fmt.Sprintf("%d bytes, over --max-file-size", o.size)}}
		return out
	}
	if c := src.opts.Cache; c != nil && o.etag != "" {
		if fs, ok := c.Get(o.loc.Bucket, o.key, o.etag); ok {
			out.state, out.findings = stateCached, locate(where, fs)
			return out
		}
	}
	if ctx.Err() != nil { // the one "interrupted" problem covers it
		out.state = stateNotRead
		return out
	}
	if o.size == 0 { // an empty object (a "directory" marker): nothing to read
		out.state = stateEmpty
		oc := sc.ScanBlob(source.Blob{ID: where, Path: o.key, Data: []byte{}})
		out.findings = locate(where, oc.Findings)
		if oc.Err == nil && src.opts.Cache != nil && o.etag != "" {
			src.opts.Cache.Put(o.loc.Bucket, o.key, o.etag, 0, oc.Findings)
		}
		return out
	}
	resp, err := src.opts.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.loc.Bucket), Key: aws.String(o.key)})
	if err != nil {
		if ctx.Err() != nil {
			out.state = stateNotRead
			return out
		}
		out.problem = fmt.Errorf("cannot read: %w%s", err, hint(err))
		return out
	}
	defer resp.Body.Close()
	body := &checkedBody{r: resp.Body, want: -1}
	size := o.size
	if resp.ContentLength != nil {
		body.want, size = *resp.ContentLength, *resp.ContentLength
	}
	blob := source.Blob{ID: where, Path: o.key}
	if size <= memLimit {
		blob.Data, _ = readAll(body, size) // body.err keeps the error
		if blob.Data == nil {
			blob.Data = []byte{}
		}
	} else {
		var once sync.Once
		blob.Open = func() (io.ReadCloser, error) {
			var rc io.ReadCloser = io.NopCloser(errReader{errors.New("opened twice")})
			once.Do(func() { rc = io.NopCloser(body) })
			return rc, nil
		}
	}
	var oc source.Outcome
	if r := panics.Try(func() { oc = sc.ScanBlob(blob) }); r != nil {
		oc.Err = errors.Join(oc.Err, r.AsError())
	}
	out.bytes, out.scanned = body.n, oc.Bytes
	out.findings = locate(where, oc.Findings)
	for _, sk := range oc.Skipped {
		sk.Path = where + strings.TrimPrefix(sk.Path, o.key)
		out.skipped = append(out.skipped, sk)
	}
	switch {
	case body.err != nil: // the scanner's error, if any, is this one
		out.problem = fmt.Errorf("read failed after %d bytes (what was read is scanned): %w%s", body.n, body.err, hint(body.err))
	case oc.Err != nil:
		out.problem = oc.Err
	default:
		if c := src.opts.Cache; c != nil && resp.ETag != nil {
			// Findings as the scanner gave them: positioned in the object.
			c.Put(o.loc.Bucket, o.key, *resp.ETag, body.n, oc.Findings)
		}
	}
	return out
}

// locate prefixes the object's location to the findings' member chains.
func locate(where string, fs []finding.Finding) []finding.Finding {
	out := make([]finding.Finding, len(fs))
	for i, f := range fs {
		f.File = where + f.File
		out[i] = f
	}
	return out
}

// readAll reads a body of size bytes (-1: unknown) whole.
func readAll(r io.Reader, size int64) ([]byte, error) {
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(size))
	}
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// checkedBody counts what is read and makes a body that ends short of its
// Content-Length, runs past it, or fails, an error kept in err. The reader then
// sees the end of the content, so that what was read is still scanned whole
// (the engine drops the last chunk of a stream that fails); the source reports
// err.
type checkedBody struct {
	r    io.Reader
	want int64 // -1: unknown
	n    int64
	err  error
}

func (b *checkedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, io.EOF
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	switch {
	case b.want >= 0 && b.n > b.want:
		err = fmt.Errorf("the body is longer than its Content-Length %d", b.want)
	case err == io.EOF && b.want >= 0 && b.n < b.want:
		err = fmt.Errorf("truncated body: %d of %d bytes: %w", b.n, b.want, io.ErrUnexpectedEOF)
	case err != nil && err != io.EOF && b.want >= 0 && b.n < b.want:
		err = fmt.Errorf("truncated body: %d of %d bytes: %w", b.n, b.want, err)
	}
	if err != nil && err != io.EOF {
		b.err = err
		return n, io.EOF
	}
	return n, err
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

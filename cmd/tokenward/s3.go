package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/report"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/source/objstore"
	"github.com/tokenward/tokenward/sweep"
	"github.com/tokenward/tokenward/sweep/store"
)

var s3Flags struct {
	region     string
	profile    string
	endpoint   string
	pathStyle  bool
	noSign     bool
	db         string
	rescan     bool
	parallel   int
	maxObjects int
}

var s3Cmd = &cobra.Command{
	Use:   "s3 s3://BUCKET[/PREFIX]...",
	Short: "Scan the objects of S3 buckets (and S3-compatible stores: --endpoint-url)",
	Long: `Scan every object under each s3://BUCKET[/PREFIX] (several may be given): list them
with ListObjectsV2, read each one with GetObject, streamed (objects of any size; up
to 4 MiB are also judged by the per-file hygiene checks), archives opened as by
scan. Findings are located as s3://bucket/key (a key's control characters, % and
bidirectional controls are written as %XX; give such a location back as it is).

Credentials: the AWS SDK's standard chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
AWS_PROFILE or --profile, SSO and web-identity profiles, container and instance
roles). --no-sign-request reads public buckets without credentials. Without
--region each bucket's region is asked for (HeadBucket) and used; --region sets one
for every bucket.

S3-compatible stores: --endpoint-url URL (MinIO, Cloudflare R2, Google Cloud
Storage's XML API with HMAC keys, Ceph, ...); --path-style for stores that do not
serve bucket.HOST names (most self-hosted MinIO and Ceph).

Incremental: with --db FILE (the sweep store) each object's complete result is kept
by its key and ETag; a re-run reads only objects that are new or changed, and
still reports the findings of the others (as sweep reports unchanged repositories;
findings triaged in the store as false-positive, accepted-risk or revoked are left
out). --rescan reads every object again. A complete listing drops from the store the
objects it no longer names (deleted). tokenward report --db FILE shows the findings.

An object that cannot be read (AccessDenied, a body cut short) is named with its
key and makes the exit status 2; everything else is still scanned and reported.`,
	Args: cobra.MinimumNArgs(1),
	RunE: runS3,
}

func init() {
	f := s3Cmd.Flags()
	f.StringVar(&s3Flags.region, "region", "", "the buckets' region (default: each bucket's own, as the store names it)")
	f.StringVar(&s3Flags.profile, "profile", "", "the shared config profile for credentials and region (default: AWS_PROFILE)")
	f.StringVar(&s3Flags.endpoint, "endpoint-url", "", "the S3 API endpoint of an S3-compatible store (MinIO, R2, GCS interoperability, ...)")
	f.BoolVar(&s3Flags.pathStyle, "path-style", false, "address buckets as ENDPOINT/BUCKET rather than BUCKET.ENDPOINT")
	f.BoolVar(&s3Flags.noSign, "no-sign-request", false, "send requests unsigned, without credentials (public buckets)")
	f.StringVar(&s3Flags.db, "db", "", "the findings store (SQLite, as sweep's): remembers each object's result by ETag, so a re-run reads only changed objects")
	f.BoolVar(&s3Flags.rescan, "rescan", false, "with --db: read every object again, changed or not")
	f.IntVar(&s3Flags.parallel, "parallel", 8, "objects read at once (-j sets it too)")
	f.IntVar(&s3Flags.maxObjects, "max-objects", 10_000_000, "list at most this many objects per bucket or prefix; a longer listing is an incomplete scan")
	f.StringVar(&progressMode, "progress", "auto", progressUsage)
	rootCmd.AddCommand(s3Cmd)
}

func runS3(cmd *cobra.Command, args []string) error {
	fl := s3Flags
	if !report.ValidFormat(common.format) {
		return usageError(errUnknownFormat(common.format))
	}
	var locs []objstore.Location
	for _, a := range args {
		l, err := objstore.ParseURL(a)
		if err != nil {
			return usageError(err)
		}
		locs = append(locs, l)
	}
	if cmd.Flags().Changed("workers") && !cmd.Flags().Changed("parallel") {
		s3Flags.parallel, fl.parallel = common.workers, common.workers // -j: objects read at once
	}
	if fl.parallel < 1 || fl.maxObjects < 1 {
		return usageError(fmt.Errorf("--parallel %d, --max-objects %d: want at least 1", fl.parallel, fl.maxObjects))
	}
	if fl.rescan && fl.db == "" {
		return usageError(errors.New("--rescan needs --db (without a store every object is read anyway)"))
	}
	if fl.endpoint != "" {
		if err := checkEndpoint(fl.endpoint); err != nil {
			return usageError(err)
		}
	}
	maxSize, err := parseSize(common.maxFileSize)
	if err != nil {
		return usageError(err)
	}
	// As for stdin: the configuration and ignore file of the repository around
	// the current directory, untrusted.
	root := rules.ConfigRoot(".")
	set, err := loadRules(root)
	if err != nil {
		return err
	}
	// With a store, the store keeps every finding; --baseline applies to what
	// is reported (as in sweeps).
	pl, err := pipelineFor(set, pipelineChoice{root: root, gitPaths: true, noBaseline: fl.db != ""})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client, origin, err := s3Client(ctx)
	if err != nil {
		return usageError(err)
	}
	var st *store.Store
	if fl.db != "" {
		if st, err = store.Open(fl.db); err != nil {
			return usageError(fmt.Errorf("--db: %w", err))
		}
		defer st.Close()
		if err := migrateStore(cmd, st, fl.db); err != nil {
			return err
		}
	}
	scanKey := sweep.ScanKey(set, sweep.ScanOptions{GitleaksAllow: common.gitleaksAllow || set.GitleaksAllow, MaxBlobSize: maxSize,
		MaxArchiveDepth: common.maxArchiveDepth, SkipBinary: common.skipBinary}, version)

	prog, stopProgress, err := startProgress(progressMode)
	if err != nil {
		return err
	}
	total := &pipeline.Result{}
	for _, loc := range objstore.Dedupe(locs) {
		res, err := scanLocation(ctx, pl, prog, client, st, scanKey, origin, loc, maxSize)
		if err != nil {
			total.Problems = append(total.Problems, err.Error())
		}
		addResult(total, res)
		if ctx.Err() != nil {
			break
		}
	}
	stopProgress()
	if ctx.Err() != nil {
		total.Problems = append(total.Problems, "interrupted: the buckets not reached are not scanned")
	}
	out := fromPipeline(total, set, "")
	if st != nil {
		if out.Findings, err = dropTriaged(st, out.Findings); err != nil {
			out.Problems = append(out.Problems, fmt.Sprintf("reading triage from %s: %v", fl.db, err))
		}
		if out.Findings, err = applyBaseline(out.Findings); err != nil {
			return err
		}
	}
	return finish(cmd, out)
}

// scanLocation runs one bucket or prefix through the pipeline and, with a
// store, commits its result in one transaction.
func scanLocation(ctx context.Context, pl *pipeline.Pipeline, prog *pipeline.Progress, client *s3.Client, st *store.Store,
	scanKey, origin string, loc objstore.Location, maxSize int64) (*pipeline.Result, error) {
	opts := objstore.Options{Client: client, Locations: []objstore.Location{loc}, Workers: s3Flags.parallel,
		MaxObjects: s3Flags.maxObjects, MaxFileSize: maxSize}
	bucketURL := "s3://" + loc.Bucket
	repoURL := bucketURL // unique per endpoint and bucket
	if origin != "" {
		repoURL = strings.TrimSuffix(origin, "/") + "/" + loc.Bucket
	}
	var cache *store.ObjectCache
	ro := pipeline.RunOptions{Progress: prog}
	if st != nil {
		cache = st.NewObjectCache(store.ObjectCacheOptions{ScanKey: scanKey, Origin: origin, Bucket: loc.Bucket, Repo: repoURL, Path: objstore.EscapeKey})
		opts.Cache = cache
		if s3Flags.rescan {
			opts.Cache = putOnly{cache}
		}
		ro.Memo = st
	}
	if s3Flags.region == "" {
		opts.Client = regionalClient(ctx, client, loc.Bucket)
	}
	src := objstore.New(opts)
	res := pl.Run(ctx, src, ro)
	s := src.Stats
	note("%s: %d objects listed, %d read, %d unchanged (from --db), %d skipped, %.1f MB read, %s",
		loc, s.Listed, s.Gets, s.Cached, s.Skipped, float64(s.Bytes)/1e6, plural(int64(len(res.Findings)), "finding"))
	if st == nil {
		return res, nil
	}
	// Committed even when interrupted: each object's result is complete.
	if err := cache.Err(); err != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("%s: object results in the store: %v", loc, err))
	}
	now := store.Now(time.Now())
	row := store.Repo{URL: repoURL, Name: bucketURL, Source: "s3", Status: store.StatusOK,
		Blobs: s.Listed, BlobsScanned: s.Gets, BlobsCached: s.Cached, BytesScanned: s.Bytes, Findings: len(res.Findings),
		ScannedAt: now, CheckedAt: now}
	if origin != "" {
		row.Source = "s3:" + origin
	}
	if len(res.Problems) > 0 {
		row.Status, row.Detail = store.StatusIncomplete, fmt.Sprintf("%d problem(s), the first: %s", len(res.Problems), res.Problems[0])
	}
	prefix := bucketURL + "/"
	var fs []finding.Finding
	for _, f := range res.Findings {
		if rel, ok := strings.CutPrefix(f.File, prefix); ok {
			f.File = rel
			fs = append(fs, f)
		}
	}
	if err := st.CommitObjects(context.Background(), store.ObjectsResult{Repo: row, Cache: cache, Findings: fs, Now: now}); err != nil {
		return res, fmt.Errorf("%s: writing the store: %w", loc, err)
	}
	if s.ListedAll {
		n, err := cache.Prune(context.Background(), loc.Prefix)
		if err != nil {
			return res, fmt.Errorf("%s: dropping deleted objects from the store: %w", loc, err)
		}
		if n > 0 {
			note("%s: %s no longer in the bucket: dropped from %s with their findings", loc, plural(int64(n), "object"), s3Flags.db)
		}
	}
	return res, nil
}

// putOnly is --rescan: results are stored, never taken.
type putOnly struct{ c *store.ObjectCache }

func (p putOnly) Get(string, string, string) ([]finding.Finding, bool) { return nil, false }
func (p putOnly) Put(bucket, key, etag string, size int64, fs []finding.Finding) {
	p.c.Put(bucket, key, etag, size, fs)
}
func (p putOnly) Listed(bucket, key string) { p.c.Listed(bucket, key) }

// addResult adds one location's result to the run's.
func addResult(total, r *pipeline.Result) {
	total.Findings = append(total.Findings, r.Findings...)
	total.Skipped = append(total.Skipped, r.Skipped...)
	total.Problems = append(total.Problems, r.Problems...)
	total.Warnings = append(total.Warnings, r.Warnings...)
	total.Suppressed += r.Suppressed
	total.Expired += r.Expired
	st := &total.Stats
	st.Files += r.Stats.Files
	st.Bytes += r.Stats.Bytes
	st.Skipped += r.Stats.Skipped
	st.Cached += r.Stats.Cached
	for k, v := range r.Verified {
		if total.Verified == nil {
			total.Verified = map[string]int{}
		}
		total.Verified[k] += v
	}
}

// dropTriaged leaves out findings triaged in the store as anything but open.
func dropTriaged(st *store.Store, fs []finding.Finding) ([]finding.Finding, error) {
	var fps []string
	for _, f := range fs {
		fps = append(fps, f.Fingerprint)
	}
	states, err := st.TriageStates(fps)
	if err != nil {
		return fs, err
	}
	out := fs[:0:0]
	for _, f := range fs {
		if s, ok := states[f.Fingerprint]; ok && s != store.TriageOpen {
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// regionalClient returns a client for the bucket's own region when --region
// was not given: S3 names it in x-amz-bucket-region on HeadBucket, also when it
// answers with a redirect (the bucket is elsewhere) or 403. One request per
// bucket; when the store names no region, client is returned as it is.
func regionalClient(ctx context.Context, client *s3.Client, bucket string) *s3.Client {
	region := ""
	out, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		region = aws.ToString(out.BucketRegion)
	} else if re := (*awshttp.ResponseError)(nil); errors.As(err, &re) && re.Response != nil {
		region = re.Response.Header.Get("X-Amz-Bucket-Region")
	}
	if region == "" || region == client.Options().Region || !validRegion(region) {
		return client
	}
	note("s3://%s is in %s: using that region (--region sets one)", bucket, region)
	return s3.New(client.Options(), func(o *s3.Options) { o.Region = region })
}

// validRegion accepts region names (us-east-1, eu-central-2, auto).
func validRegion(r string) bool {
	if len(r) > 32 {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// checkEndpoint accepts an http(s) URL without credentials in it.
func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("--endpoint-url %q: want an http(s) URL such as https://ACCOUNT.r2.cloudflarestorage.com or http://127.0.0.1:9000", s)
	}
	if u.User != nil {
		return fmt.Errorf("--endpoint-url: credentials do not belong in the URL: use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or --profile")
	}
	return nil
}

// s3Client builds the S3 client from the SDK's standard configuration and the
// flags, and returns the endpoint the objects come from ("" for AWS S3).
func s3Client(ctx context.Context) (*s3.Client, string, error) {
	fl := s3Flags
	var lo []func(*config.LoadOptions) error
	if fl.region != "" {
		lo = append(lo, config.WithRegion(fl.region))
	}
	if fl.profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(fl.profile))
	}
	if fl.noSign {
		lo = append(lo, config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, "", fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if fl.endpoint != "" {
			o.BaseEndpoint = aws.String(fl.endpoint)
		}
		o.UsePathStyle = o.UsePathStyle || fl.pathStyle
		// Not every store sends checksums; the SDK would log each such response.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	origin := aws.ToString(client.Options().BaseEndpoint) // --endpoint-url, or AWS_ENDPOINT_URL(_S3) / the profile's
	if origin != "" {
		if err := checkEndpoint(origin); err != nil {
			return nil, "", err
		}
	}
	return client, origin, nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/tokenward/tokenward/finding"
)

// Objects of object stores (tokenward s3): the complete result of each object
// by entity tag, so that a re-run reads only objects that changed. One row per
// object: a new ETag or scan key replaces it.
//
// objectsSchema is its own migration step (see migrations), so that it can be
// renumbered against other steps.
const objectsSchema = `
CREATE TABLE IF NOT EXISTS scanned_objects (
  origin     TEXT NOT NULL,                 -- the endpoint ('' for AWS S3)
  bucket     TEXT NOT NULL,
  object_key TEXT NOT NULL,
  etag       TEXT NOT NULL,                 -- as the store gave it, quotes included
  scan_key   TEXT NOT NULL,                 -- rules and options of the scan
  size       INTEGER NOT NULL DEFAULT 0,
  findings   TEXT,                          -- JSON array positioned in the object, NULL if none
  scanned_at TEXT NOT NULL DEFAULT '',
  seen_at    TEXT NOT NULL DEFAULT '',      -- the last run that listed it (see ObjectCache.Prune)
  PRIMARY KEY (origin, bucket, object_key)
) WITHOUT ROWID;
`

// mergeObjects merges scanned_objects: of two rows for one object, the latest
// scan (the greatest row, scanned_at first) wins.
const mergeObjects = `INSERT INTO main.scanned_objects (origin, bucket, object_key, etag, scan_key, size, findings, scanned_at, seen_at)
SELECT origin, bucket, object_key, etag, scan_key, size, findings, scanned_at, seen_at FROM src.scanned_objects WHERE true
ON CONFLICT(origin, bucket, object_key) DO UPDATE SET etag=excluded.etag, scan_key=excluded.scan_key, size=excluded.size,
  findings=excluded.findings, scanned_at=excluded.scanned_at, seen_at=excluded.seen_at
WHERE (excluded.scanned_at, excluded.etag, excluded.scan_key, excluded.size, COALESCE(excluded.findings, ''))
    > (scanned_objects.scanned_at, scanned_objects.etag, scanned_objects.scan_key, scanned_objects.size, COALESCE(scanned_objects.findings, ''))`

// ObjectCache is the object source's cache for one bucket of one endpoint:
// Get reads results committed by earlier runs under the same scan key and
// ETag; Put collects new results and writes them in batches of FlushEvery,
// each in a transaction of its own that also drops the locations the objects
// had before (their findings are written by CommitObjects, or, should the run
// be killed first, by the next run, which takes them from the cache). So a
// run's memory does not grow with the bucket, and a killed run keeps the
// objects it read.
type ObjectCache struct {
	firstErr // the first database error met by Get or a batch of Put
	s        *Store
	opts     ObjectCacheOptions
	mu       sync.Mutex
	pending  map[string]objectResult // by key
	listed   []string                // keys listed, not yet marked seen
	run      string                  // seen_at of this run
	flushMu  sync.Mutex              // one batch written at a time
}

// ObjectCacheOptions say which objects a cache holds.
type ObjectCacheOptions struct {
	ScanKey string // rules and options of the scan
	Origin  string // the endpoint URL, "" for AWS S3
	Bucket  string
	// Repo is the bucket's repository URL in the store (see ObjectsResult) and
	// Path the path of an object's findings in it (its File without the member
	// chain): the locations of objects read again are dropped from there.
	Repo       string
	Path       func(key string) string
	FlushEvery int // default 1000
}

type objectResult struct {
	etag string
	size int64
	fs   []finding.Finding
}

// NewObjectCache returns the cache of one bucket's object results.
func (s *Store) NewObjectCache(opts ObjectCacheOptions) *ObjectCache {
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = 1000
	}
	if opts.Path == nil {
		opts.Path = func(k string) string { return k }
	}
	return &ObjectCache{s: s, opts: opts, pending: map[string]objectResult{}, run: Now(time.Now())}
}

// Listed records that this run listed an object (whatever then became of it),
// in batches: Prune drops what a complete listing did not name.
func (c *ObjectCache) Listed(bucket, key string) {
	if bucket != c.opts.Bucket {
		return
	}
	c.mu.Lock()
	c.listed = append(c.listed, key)
	var batch []string
	if len(c.listed) >= c.opts.FlushEvery {
		batch, c.listed = c.listed, nil
	}
	c.mu.Unlock()
	if batch != nil {
		c.flushMu.Lock()
		defer c.flushMu.Unlock()
		if err := c.s.inTx(context.Background(), func(tx *sql.Tx) error { return c.markSeen(context.Background(), tx, batch) }); err != nil {
			c.fail(fmt.Errorf("writing listed objects: %w", err))
		}
	}
}

func (c *ObjectCache) markSeen(ctx context.Context, tx *sql.Tx, keys []string) error {
	st, err := tx.PrepareContext(ctx, `UPDATE scanned_objects SET seen_at = ? WHERE origin = ? AND bucket = ? AND object_key = ?`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, k := range keys {
		if _, err := st.ExecContext(ctx, c.run, c.opts.Origin, c.opts.Bucket, k); err != nil {
			return err
		}
	}
	return nil
}

// Prune drops the results and locations of objects under prefix that this
// run's listing did not name (deleted from the bucket). Call it after
// CommitObjects, and only when the listing of prefix was complete. It returns
// how many objects it dropped.
func (c *ObjectCache) Prune(ctx context.Context, prefix string) (int, error) {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	batch := c.listed
	c.listed = nil
	c.mu.Unlock()
	n := 0
	err := c.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := c.markSeen(ctx, tx, batch); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT object_key FROM scanned_objects WHERE origin = ? AND bucket = ? AND substr(object_key, 1, ?) = ? AND seen_at != ?`,
			c.opts.Origin, c.opts.Bucket, len(prefix), prefix, c.run)
		if err != nil {
			return err
		}
		var gone []string
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return err
			}
			gone = append(gone, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, k := range gone {
			if _, err := tx.ExecContext(ctx, `DELETE FROM scanned_objects WHERE origin = ? AND bucket = ? AND object_key = ?`, c.opts.Origin, c.opts.Bucket, k); err != nil {
				return err
			}
			if c.opts.Repo != "" {
				if _, err := tx.ExecContext(ctx, `DELETE FROM locations WHERE repo = ?1 AND (path = ?2 OR substr(path, 1, length(?2) + 1) = ?2 || '!')`, c.opts.Repo, c.opts.Path(k)); err != nil {
					return err
				}
			}
		}
		n = len(gone)
		return nil
	})
	return n, err
}

// Get returns the stored result of an object, if it was scanned with this
// cache's scan key at this ETag.
func (c *ObjectCache) Get(bucket, key, etag string) ([]finding.Finding, bool) {
	if bucket != c.opts.Bucket {
		return nil, false
	}
	var data sql.NullString
	err := c.s.db.QueryRow(`SELECT findings FROM scanned_objects WHERE origin = ? AND bucket = ? AND object_key = ? AND etag = ? AND scan_key = ?`,
		c.opts.Origin, bucket, key, etag, c.opts.ScanKey).Scan(&data)
	if err != nil {
		if !errors.Is(err, sql.ErrNoRows) {
			c.fail(err)
		}
		return nil, false
	}
	if !data.Valid {
		return nil, true
	}
	fs, err := decodeFindings(data.String)
	if err != nil {
		c.fail(fmt.Errorf("scanned object s3://%s/%s: %w", bucket, key, err))
		return nil, false
	}
	return fs, true
}

// Put keeps an object's complete result; a full batch is written at once.
func (c *ObjectCache) Put(bucket, key, etag string, size int64, fs []finding.Finding) {
	if bucket != c.opts.Bucket {
		c.fail(fmt.Errorf("object cache of bucket %s: Put of an object of %s", c.opts.Bucket, bucket))
		return
	}
	c.mu.Lock()
	c.pending[key] = objectResult{etag: etag, size: size, fs: fs}
	var batch map[string]objectResult
	if len(c.pending) >= c.opts.FlushEvery {
		batch, c.pending = c.pending, map[string]objectResult{}
	}
	c.mu.Unlock()
	if batch != nil {
		c.flushMu.Lock()
		defer c.flushMu.Unlock()
		if err := c.s.inTx(context.Background(), func(tx *sql.Tx) error { return c.write(context.Background(), tx, batch, "") }); err != nil {
			c.fail(fmt.Errorf("writing object results: %w", err))
		}
	}
}

// write stores a batch of results and drops the earlier locations of their
// objects.
func (c *ObjectCache) write(ctx context.Context, tx *sql.Tx, batch map[string]objectResult, now string) error {
	if len(batch) == 0 {
		return nil
	}
	if now == "" {
		now = Now(time.Now())
	}
	up, err := tx.PrepareContext(ctx, `INSERT INTO scanned_objects (origin, bucket, object_key, etag, scan_key, size, findings, scanned_at, seen_at) VALUES (?,?,?,?,?,?,?,?,?)
ON CONFLICT(origin, bucket, object_key) DO UPDATE SET etag=excluded.etag, scan_key=excluded.scan_key, size=excluded.size,
  findings=excluded.findings, scanned_at=excluded.scanned_at, seen_at=excluded.seen_at`)
	if err != nil {
		return err
	}
	defer up.Close()
	del, err := tx.PrepareContext(ctx, `DELETE FROM locations WHERE repo = ?1 AND (path = ?2 OR substr(path, 1, length(?2) + 1) = ?2 || '!')`)
	if err != nil {
		return err
	}
	defer del.Close()
	keys := make([]string, 0, len(batch))
	for k := range batch {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o := batch[k]
		data, err := encodeFindings(o.fs)
		if err != nil {
			return err
		}
		if _, err := up.ExecContext(ctx, c.opts.Origin, c.opts.Bucket, k, o.etag, c.opts.ScanKey, o.size, data, now, c.run); err != nil {
			return fmt.Errorf("object %s: %w", k, err)
		}
		if c.opts.Repo != "" {
			if _, err := del.ExecContext(ctx, c.opts.Repo, c.opts.Path(k)); err != nil {
				return fmt.Errorf("locations of %s: %w", k, err)
			}
		}
	}
	return nil
}

// inTx runs f in a transaction.
func (s *Store) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// ObjectsResult is what one run over a bucket (or a prefix of it) writes.
type ObjectsResult struct {
	// Repo is the bucket's row: URL unique per endpoint and bucket (the
	// cache's Repo), Name as reports show it (s3://bucket).
	Repo     Repo
	Cache    *ObjectCache      // the results not yet written (may be nil)
	Findings []finding.Finding // File relative to the bucket (key and member chain)
	Now      string
}

// CommitObjects writes the end of a bucket's run in one transaction: its row,
// the object results Put still holds (dropping those objects' earlier
// locations), and the findings with their locations and verifications.
func (s *Store) CommitObjects(ctx context.Context, r ObjectsResult) error {
	var batch map[string]objectResult
	if c := r.Cache; c != nil {
		c.flushMu.Lock()
		defer c.flushMu.Unlock()
		c.mu.Lock()
		batch, c.pending = c.pending, map[string]objectResult{}
		c.mu.Unlock()
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := upsertRepo(ctx, tx, r.Repo); err != nil {
			return fmt.Errorf("bucket %s: %w", r.Repo.URL, err)
		}
		if r.Cache != nil {
			if err := r.Cache.write(ctx, tx, batch, r.Now); err != nil {
				return err
			}
		}
		return insertFindings(ctx, tx, r.Repo.URL, r.Findings, r.Now)
	})
	if err != nil && r.Cache != nil { // keep the batch for another try
		r.Cache.mu.Lock()
		for k, v := range batch {
			if _, ok := r.Cache.pending[k]; !ok {
				r.Cache.pending[k] = v
			}
		}
		r.Cache.mu.Unlock()
	}
	return err
}

// TriageStates returns the current triage status of those fingerprints that
// have one.
func (s *Store) TriageStates(fps []string) (map[string]string, error) {
	out := map[string]string{}
	st, err := s.db.Prepare(`SELECT status FROM (` + currentTriage + `) WHERE fingerprint = ?`)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for _, fp := range fps {
		var status string
		err := st.QueryRow(fp).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[fp] = status
	}
	return out, nil
}

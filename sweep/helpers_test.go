package sweep

import (
	"context"
	"sync"
	"testing"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/hygiene"
	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/sweep/store"
	"github.com/tokenward/tokenward/sweep/sweeptest"
)

var (
	secretLine   = sweeptest.SecretLine
	makeRepo     = sweeptest.MakeRepo
	addCommit    = sweeptest.AddCommit
	gitAvailable = sweeptest.NeedGit
)

func newGitServer(t *testing.T, root string) *sweeptest.GitServer {
	return sweeptest.NewGitServer(t, root, nil)
}

var (
	engOnce sync.Once
	engSet  *rules.Set
	engVal  *engine.Engine
	engErr  error
)

func testEngine(t testing.TB) (*rules.Set, *engine.Engine) {
	t.Helper()
	engOnce.Do(func() {
		if engSet, engErr = rules.Builtin(); engErr == nil {
			engVal, engErr = engine.New(engSet, engine.Options{})
		}
	})
	if engErr != nil {
		t.Fatal(engErr)
	}
	return engSet, engVal
}

// testConfig is a sweep configuration over a fresh store.
func testConfig(t testing.TB, dbPath, cache string) Config {
	t.Helper()
	set, eng := testEngine(t)
	st, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return Config{
		Store: st, Pipeline: testPipeline(t, set, eng, nil), ScanKey: ScanKey(set, ScanOptions{}, "test"),
		CacheDir: cache, Workers: 2, Parallel: 2,
	}
}

// testPipeline is the pipeline a sweep runs: the engine and the hygiene checks
// of set, and v (nil: no verification).
func testPipeline(t testing.TB, set *rules.Set, eng *engine.Engine, v pipeline.Verifier) *pipeline.Pipeline {
	t.Helper()
	hc, err := hygiene.FromSet(set)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Options{Rules: set, Engine: eng, Hygiene: hc, Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, cfg Config, ts []Target) Summary {
	t.Helper()
	sum, err := Run(context.Background(), cfg, ts)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func canonical(t *testing.T, st *store.Store) string {
	t.Helper()
	c, err := st.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

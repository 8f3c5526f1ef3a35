// Package pipeline runs a source through every stage after it, in one order that
// every command shares:
//
//	source → content (decoders, engine, per-file hygiene checks) → review (JWT,
//	client-side) → composite credentials (Compose) → ignores (.tokenwardignore paths and fingerprints) → baseline →
//	verification
//
// and returns one Result for a sink (a report writer, the sweep store). The hook, the pull-request check, directory scans and
// sweeps differ only in their source, so they get the same findings for the same
// content.
package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokenward/tokenward/baseline"
	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/hygiene"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/source"
	"github.com/tokenward/tokenward/verify"
)

// Options configure a Pipeline. Rules and Engine are required.
type Options struct {
	Rules   *rules.Set
	Engine  *engine.Engine
	Hygiene *hygiene.Checker // nil: no hygiene checks and no review
	Content ContentOptions
	// Checks run on every text blob after the hygiene checks (extra per-file checks).
	Checks []Check

	// Ignore holds the .tokenwardignore fingerprints (applied to every finding)
	// and path patterns (applied by IgnorePaths). Nil: none.
	Ignore *baseline.IgnoreList
	// IgnorePaths applies Ignore's path patterns to findings: set it for sources
	// that do not skip ignored paths themselves (git). The file source skips them
	// while walking, which has the same effect at less cost.
	IgnorePaths bool
	// Baseline suppresses the findings it records. Nil: none.
	Baseline *baseline.Baseline

	// Verifier checks findings live; nil turns verification off. One verifier
	// serves every run of the pipeline, so its rate limits, concurrency cap and
	// request dedupe hold across a whole sweep.
	Verifier Verifier
	// OnlyLive keeps only findings verified live. A finding whose check could not
	// decide is kept and makes the run a problem: unknown never passes.
	OnlyLive bool
	// ReverifyAfter is how old a remembered verification (the sweep store's) may
	// be and still be reused instead of checking again; 0 reuses any age.
	// Unknown results are never reused.
	ReverifyAfter time.Duration

	Now func() time.Time // baseline expiry and verification age; default time.Now

	// Redactor, when set, learns the secret of every finding before any is
	// dropped (ignored, baselined, not live), so that outputs can hide the
	// secrets of suppressed findings too. Nil: none.
	Redactor *finding.Redactor
}

// Check is an extra per-file check: data is valid only during the call.
type Check func(path string, data []byte) []finding.Finding

// Verifier checks findings live and returns them with Verification set.
// *verify.Verifier implements it.
type Verifier interface {
	Verify(ctx context.Context, fs []finding.Finding) []finding.Finding
}

// VerificationMemo holds verification results of earlier runs (the sweep
// store): a fingerprint with a decided result is not checked again.
type VerificationMemo interface {
	Verification(fingerprints []string) (map[string]finding.Verification, error)
}

// Pipeline runs sources through the stages. It is safe for concurrent use.
type Pipeline struct {
	opts    Options
	content *ContentScanner
	class   func(string) string
}

// New builds a pipeline.
func New(opts Options) (*Pipeline, error) {
	if opts.Rules == nil || opts.Engine == nil {
		return nil, fmt.Errorf("pipeline: a rule set and an engine are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	content := NewContentScanner(opts.Engine, opts.Checks, opts.Content)
	if opts.Hygiene != nil {
		content.lines = opts.Hygiene
	}
	p := &Pipeline{opts: opts, content: content}
	rs := opts.Rules
	p.content.compose = func(fs []finding.Finding) []finding.Finding { return Compose(rs, fs) }
	p.content.inComposite = compositeRules(rs)
	p.class = pathClass(opts.Rules, opts.Hygiene)
	return p, nil
}

// Content returns the content stage (decoders, engine, per-file checks) that Run
// hands sources: for sources' tests and benchmarks.
func (p *Pipeline) Content() *ContentScanner { return p.content }

// Options returns the pipeline's options.
func (p *Pipeline) Options() Options { return p.opts }

// PathClass maps a path to a key such that a blob's content result cannot
// differ between two paths with the same key (rule paths and allow lists, and
// the hygiene checks' judgement of file names). Sources that scan a blob once for
// many paths (git) scan it once per key. Nil: results never depend on the path.
func (p *Pipeline) PathClass() func(string) string { return p.class }

// RunOptions tune one run.
type RunOptions struct {
	Memo     VerificationMemo // nil: none
	Progress *Progress        // counts blobs, bytes and findings as they are scanned; nil: none
}

// Result is everything a run found.
type Result struct {
	Findings   []finding.Finding
	Stats      source.Stats
	Skipped    []source.Skip // each blob or member not scanned, and why
	Problems   []string      // what made the run incomplete: exit 2
	Warnings   []string      // what was left on purpose: printed, exit status unchanged
	Suppressed int           // findings dropped by ignores and the baseline
	Expired    int           // findings reported again because their baseline entry expired
	Verified   map[string]int
}

// Run scans src and applies every stage. The caller is the sink: it writes the
// result as a report (cmd) or commits it to the store (sweep).
func (p *Pipeline) Run(ctx context.Context, src source.Source, ro RunOptions) *Result {
	var sc source.Scanner = p.content
	if ro.Progress != nil {
		sc = counting{p.content, ro.Progress}
	}
	sr := src.Scan(ctx, sc)
	res := &Result{Findings: sr.Findings, Stats: sr.Stats, Skipped: sr.Skipped, Warnings: sr.Warnings}
	for _, pr := range sr.Problems {
		res.Problems = append(res.Problems, pr.Error())
	}
	p.Finish(ctx, res, ro.Memo)
	return res
}

// Finish applies the stages after the source to res (review, ignores, baseline,
// verification), for findings that did not come through Run (--host-config).
func (p *Pipeline) Finish(ctx context.Context, res *Result, memo VerificationMemo) {
	fs := res.Findings
	if p.opts.Hygiene != nil {
		fs = p.opts.Hygiene.Review(fs)
	}
	if p.opts.Redactor != nil {
		p.opts.Redactor.AddFindings(res.Findings)
		p.opts.Redactor.AddFindings(fs)
	}
	// After the review, which drops hygiene findings a companion's secret
	// finding covers (a .env line), before ignores and the baseline, which
	// match the composite fingerprint.
	fs = Compose(p.opts.Rules, fs)
	fs = p.ignore(res, fs)
	if b := p.opts.Baseline; b != nil {
		now := p.opts.Now()
		kept, n := b.Filter(fs, now)
		res.Suppressed += n
		for _, f := range kept {
			if _, e, ok := b.Find(f.Fingerprint); ok && e.Expired(now) {
				res.Expired++
			}
		}
		fs = kept
	}
	if p.opts.Verifier != nil && len(fs) > 0 {
		var err error
		fs, err = verifyFindings(ctx, p.opts.Verifier, memo, p.fresh, fs)
		if err != nil {
			res.Problems = append(res.Problems, err.Error())
		}
		res.Verified = countStatus(fs)
		if p.opts.OnlyLive {
			var problems []string
			fs, problems = OnlyLive(fs)
			res.Problems = append(res.Problems, problems...)
		}
	}
	finding.Sort(fs)
	res.Findings = fs
	slices.Sort(res.Warnings)
}

// ignore drops findings listed by fingerprint in the ignore file and, with
// IgnorePaths, findings at ignored paths.
func (p *Pipeline) ignore(res *Result, fs []finding.Finding) []finding.Finding {
	ign := p.opts.Ignore
	if ign == nil {
		return fs
	}
	kept, n := ign.Filter(fs)
	res.Suppressed += n
	if !p.opts.IgnorePaths || len(ign.Patterns) == 0 {
		return kept
	}
	out := kept[:0]
	for _, f := range kept {
		outer, _, _ := strings.Cut(f.File, "!") // an archive member is ignored with its archive
		if ign.MatchesPath(outer) {
			res.Suppressed++
			continue
		}
		out = append(out, f)
	}
	return out
}

// OnlyLive is --only-live failing closed: it keeps the findings verified live
// and those whose check could not decide, and returns a problem (exit 2) for each
// undecided one, naming what the provider did. Unknown never passes.
func OnlyLive(fs []finding.Finding) ([]finding.Finding, []string) {
	kept := verify.LiveOrUnknown(fs)
	var problems []string
	undecided := verify.Unverified(kept)
	for i, u := range undecided {
		if i == 10 { // the findings themselves are all reported
			problems = append(problems, fmt.Sprintf("--only-live: %d more findings could not be verified", len(undecided)-10))
			break
		}
		problems = append(problems, "--only-live: could not verify "+u+"; the finding is reported as unknown")
	}
	return kept, problems
}

// verifyFindings verifies fs, one check per fingerprint. With a memo, a
// fingerprint whose stored result is decided is not checked again.
func verifyFindings(ctx context.Context, v Verifier, memo VerificationMemo, fresh func(finding.Verification) bool, fs []finding.Finding) ([]finding.Finding, error) {
	results := map[string]finding.Verification{}
	var err error
	if memo != nil {
		var fps []string
		for _, f := range fs {
			fps = append(fps, f.Fingerprint)
		}
		stored, merr := memo.Verification(uniq(fps))
		if merr != nil {
			err = fmt.Errorf("reading stored verifications: %w", merr)
		}
		for fp, r := range stored {
			if r.Status != finding.StatusUnknown && fresh(r) {
				results[fp] = r
			}
		}
	}
	var todo []finding.Finding
	picked := map[string]bool{}
	for _, f := range fs {
		if _, ok := results[f.Fingerprint]; ok || picked[f.Fingerprint] {
			continue
		}
		picked[f.Fingerprint] = true
		todo = append(todo, f)
	}
	if len(todo) > 0 {
		for _, f := range v.Verify(ctx, todo) {
			if f.Verification != nil {
				results[f.Fingerprint] = *f.Verification
			}
		}
	}
	out := make([]finding.Finding, len(fs))
	for i, f := range fs {
		if r, ok := results[f.Fingerprint]; ok {
			f.Verification = &r
		}
		out[i] = f
	}
	return out, err
}

// fresh reports whether a remembered verification is young enough to reuse.
func (p *Pipeline) fresh(v finding.Verification) bool {
	if p.opts.ReverifyAfter <= 0 {
		return true
	}
	at, err := time.Parse(time.RFC3339, v.CheckedAt)
	if err != nil {
		return false // undated: check again
	}
	return p.opts.Now().Sub(at) <= p.opts.ReverifyAfter
}

func uniq(ss []string) []string {
	slices.Sort(ss)
	return slices.Compact(ss)
}

func countStatus(fs []finding.Finding) map[string]int {
	n := map[string]int{}
	for _, f := range fs {
		if f.Verification != nil {
			n[f.Verification.Status]++
		}
	}
	return n
}

// pathClass combines the engine's path dependence (rule paths, allow lists)
// with the hygiene checks' (file kind, name, test and locale directories).
func pathClass(set *rules.Set, hc *hygiene.Checker) func(string) string {
	eng := engine.PathClassFor(set)
	if hc == nil {
		return eng
	}
	return func(p string) string {
		k := hygiene.PathClass(p)
		if eng != nil {
			k += "\x00" + eng(p)
		}
		return k
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/source"
)

// progressMode is --progress of scan and git.
var progressMode string

const progressUsage = "progress on stderr: auto (a status line on a terminal, nothing otherwise), bar, log (a line every few seconds) or none"

// startProgress shows a run's progress on stderr as --progress says, and
// returns the counter to hand the pipeline and a stop function that clears the
// status line. With nothing to show both are inert.
func startProgress(mode string) (*pipeline.Progress, func(), error) {
	var bar bool
	switch mode {
	case "", "auto":
		if !stderrIsTTY() {
			return nil, func() {}, nil
		}
		bar = true
	case "bar":
		bar = true
	case "log":
	case "none":
		return nil, func() {}, nil
	default:
		return nil, nil, usageError(fmt.Errorf("--progress %q: want auto, bar, log or none", mode))
	}
	p := pipeline.NewProgress()
	every := 5 * time.Second
	if bar {
		every = 250 * time.Millisecond
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				showProgress(progressOut(), p.Snapshot(), bar)
			}
		}
	})
	stop := func() {
		close(done)
		wg.Wait()
		if bar {
			fmt.Fprint(progressOut(), "\r\x1b[K")
		}
	}
	return p, stop, nil
}

// showProgress writes one progress report: counts, size, findings and rate.
func showProgress(w io.Writer, s pipeline.Snapshot, bar bool) {
	mb := float64(s.Bytes) / 1e6
	rate := 0.0
	if sec := s.Elapsed.Seconds(); sec > 0 {
		rate = mb / sec
	}
	line := fmt.Sprintf("tokenward: %d files/blobs, %.1f MB, %d findings, %.1f MB/s, %s", s.Blobs, mb, s.Findings, rate, s.Elapsed.Round(time.Second))
	if bar {
		fmt.Fprint(w, "\r\x1b[K"+line)
		return
	}
	fmt.Fprintln(w, line)
}

// runWithProgress runs src through pl, showing progress as --progress says.
func runWithProgress(ctx context.Context, pl *pipeline.Pipeline, src source.Source) (*pipeline.Result, error) {
	prog, stop, err := startProgress(progressMode)
	if err != nil {
		return nil, err
	}
	res := pl.Run(ctx, src, pipeline.RunOptions{Progress: prog})
	stop()
	return res, nil
}

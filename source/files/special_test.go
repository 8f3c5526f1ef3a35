//go:build unix

package files

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokenward/tokenward/source"
)

// scanNoHang runs Scan and fails the test if it has not returned after a minute
// (opening a named pipe blocks until a writer comes, which never happens here).
func scanNoHang(t *testing.T, paths []string, opts Options) *source.Result {
	t.Helper()
	done := make(chan *source.Result, 1)
	go func() { done <- Scan(context.Background(), testEngine(t), paths, opts) }()
	select {
	case res := <-done:
		return res
	case <-time.After(time.Minute):
		t.Fatal("Scan did not return: it opened a named pipe")
		return nil
	}
}

// Pipes and sockets are never opened; each one met is counted and named.
func TestSpecialFilesSkippedAndNamed(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.sh", header+"\n")
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	outside := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(outside, "target-pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "target-pipe"), filepath.Join(dir, "link-to-pipe")); err != nil {
		t.Fatal(err)
	}
	// A short socket path: sun_path is limited to about 100 bytes.
	sockDir, err := os.MkdirTemp("", "tw")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	l, err := net.Listen("unix", filepath.Join(sockDir, "s"))
	if err != nil {
		t.Skip("unix socket:", err)
	}
	defer l.Close()
	if err := os.Symlink(filepath.Join(sockDir, "s"), filepath.Join(dir, "link-to-sock")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(os.DevNull, filepath.Join(dir, "link-to-null")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		paths  []string
		follow bool
		want   []source.Skip
	}{
		{"walk", []string{dir}, false, []source.Skip{{Path: filepath.Join(dir, "pipe"), Reason: "named pipe"}}},
		{"walk following symlinks", []string{dir}, true, []source.Skip{
			{Path: filepath.Join(dir, "link-to-null"), Reason: "character device"},
			{Path: filepath.Join(dir, "link-to-pipe"), Reason: "named pipe"},
			{Path: filepath.Join(dir, "link-to-sock"), Reason: "socket"},
			{Path: filepath.Join(dir, "pipe"), Reason: "named pipe"},
		}},
		{"named on the command line", []string{filepath.Join(dir, "pipe"), filepath.Join(dir, "a.sh")}, false, []source.Skip{{Path: filepath.Join(dir, "pipe"), Reason: "named pipe"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := scanNoHang(t, c.paths, Options{Workers: 2, FollowSymlinks: c.follow})
			if len(res.Findings) != 1 || len(res.Problems) != 0 {
				t.Errorf("findings %d (want 1), problems %v", len(res.Findings), res.Problems)
			}
			if !slices.Equal(res.Skipped, c.want) {
				t.Errorf("skipped %+v, want %+v", res.Skipped, c.want)
			}
			if res.Stats.Skipped != int64(len(c.want)) {
				t.Errorf("Stats.Skipped = %d, want %d", res.Stats.Skipped, len(c.want))
			}
			for _, s := range c.want {
				if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, s.Path) && strings.Contains(w, s.Reason) }) {
					t.Errorf("no warning names %s (%s): %q", s.Path, s.Reason, res.Warnings)
				}
			}
		})
	}
}

// The second guard: a path that turns into a pipe after the walk looked at it is
// opened without blocking.
func TestOpenFileDoesNotBlockOnPipe(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := openFile(p)
		if err == nil {
			_, err = readUpTo(f, nil, 1<<10)
			f.Close()
		}
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("openFile blocked on a named pipe")
	}
}

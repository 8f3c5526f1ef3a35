package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/report"
	"github.com/tokenward/tokenward/sweep/store"
)

// runRedactor holds every secret this run has seen (found, read from a report
// or from stdin). Unless --show-secrets, each is hidden, in every encoding,
// from every byte written: the report on stdout or --output, and stderr.
var runRedactor = finding.NewRedactor()

// noteSecrets adds the secrets of fs to runRedactor.
func noteSecrets(fs []finding.Finding) { runRedactor.AddFindings(fs) }

// withOutput runs write on --output (or stdout), buffered, through the run's
// redaction; errors exit 2. A file is written atomically (a temporary file in
// the same directory, renamed into place once complete, so a failed run leaves
// the old file) and is 0600 when it holds secrets (--show-secrets).
func withOutput(cmd *cobra.Command, write func(io.Writer) error) error {
	return withOutputPath(cmd, common.output, "--output", write)
}

// withOutputPath is withOutput for another destination (--also-write): path
// "" or "-" is stdout; flag names it in errors.
func withOutputPath(cmd *cobra.Command, path, flag string, write func(io.Writer) error) error {
	out := cmd.OutOrStdout()
	var file *atomicFile
	if path != "" && path != "-" {
		perm := os.FileMode(0o644)
		if common.showSecrets {
			perm = 0o600
		}
		var err error
		if file, err = createAtomic(path, perm); err != nil {
			return usageError(fmt.Errorf("%s: %w", flag, err))
		}
		out = file
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	var w io.Writer = bw
	var rw *report.RedactWriter
	if !common.showSecrets {
		rw = report.NewRedactWriter(bw, runRedactor)
		w = rw
	}
	err := write(w)
	if rw != nil {
		if ferr := rw.Flush(); err == nil {
			err = ferr
		}
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if file != nil {
		if err == nil {
			err = file.Commit()
		} else {
			file.Abort()
		}
	}
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("writing results: %w", err)}
	}
	return nil
}

// atomicFile is an output file written under a temporary name and renamed
// into place by Commit. Paths that are not regular files (/dev/stdout, a FIFO,
// /dev/null) are written directly: renaming over them would replace them.
type atomicFile struct {
	*os.File
	target string // "" when writing directly
}

func createAtomic(path string, perm os.FileMode) (*atomicFile, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // write through a symlink, do not replace it
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return nil, err
		}
		return &atomicFile{File: f}, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &atomicFile{File: f, target: path}, nil
}

// Commit makes the file visible under its name.
func (a *atomicFile) Commit() error {
	if a.target == "" {
		return a.Close()
	}
	err := a.Sync()
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(a.Name(), a.target)
	}
	if err != nil {
		os.Remove(a.Name())
	}
	return err
}

// writeFileAtomic writes data to path as withOutput does: under a temporary
// name renamed into place.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := createAtomic(path, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// Abort discards a file that was not completed.
func (a *atomicFile) Abort() {
	a.Close()
	if a.target != "" {
		os.Remove(a.Name())
	}
}

// guardStderr routes everything the process writes to os.Stderr (messages,
// warnings, log lines) through a filter that hides the run's secrets and
// escapes control characters, line by line: a file name holding a newline and
// "::error …" cannot print a workflow command, nor an escape sequence reach the
// terminal. The returned function restores os.Stderr and flushes.
func guardStderr() func() {
	real := os.Stderr
	r, w, err := os.Pipe()
	if err != nil {
		return func() {}
	}
	terminal = real
	os.Stderr = w
	var wg sync.WaitGroup
	wg.Go(func() {
		filterLines(real, r, safeLine)
		r.Close()
	})
	return func() {
		os.Stderr = real
		w.Close()
		wg.Wait()
	}
}

// filterLines copies r to w, passing each line (ended by \n, which is kept)
// through f. Very long lines are cut into pieces of 64 KiB.
func filterLines(w io.Writer, r io.Reader, f func(string) string) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			body := strings.TrimSuffix(string(chunk), "\n")
			io.WriteString(w, f(body)+string(chunk[len(body):]))
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// terminal is the process's real stderr (os.Stderr is the filter's pipe while
// a command runs): for progress output and for asking whether stderr is a
// terminal.
var terminal = os.Stderr

// safeLine is the stderr filter for one line: the run's secrets hidden,
// control characters escaped, workflow commands defused.
func safeLine(s string) string {
	if !common.showSecrets {
		s = runRedactor.Redact(s)
	}
	return report.CleanMessage(s)
}

// progressOut is where progress bars write: straight to the terminal, so that
// the status line's own "\r\x1b[K" (return, erase the line) works, with the
// text after it filtered as every stderr line is (a repository name or an error
// in it cannot carry escapes or secrets).
func progressOut() io.Writer { return progressWriter{} }

type progressWriter struct{}

const eraseLine = "\r\x1b[K"

func (progressWriter) Write(p []byte) (int, error) {
	s := string(p)
	var out strings.Builder
	for s != "" {
		if strings.HasPrefix(s, eraseLine) {
			out.WriteString(eraseLine)
			s = s[len(eraseLine):]
			continue
		}
		line, rest, nl := strings.Cut(s, "\n")
		if i := strings.Index(line, eraseLine); i > 0 {
			line, rest, nl = line[:i], s[i:], false
		}
		out.WriteString(safeLine(line))
		if nl {
			out.WriteString("\n")
		}
		s = rest
	}
	if _, err := io.WriteString(terminal, out.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// setupFingerprintKey loads the fingerprint key (see finding.LoadKey) before a
// command computes fingerprints. Without one the run uses a one-off key, with
// a warning: its fingerprints match no baseline or ignore entry made elsewhere.
func setupFingerprintKey(cmd *cobra.Command, args []string) {
	switch cmd.Name() {
	case "version", "help", "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
		return
	}
	key, _, err := finding.LoadKey(keyRoot(cmd, args))
	if err == nil {
		err = finding.SetKey(key)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "tokenward: warning: fingerprint key: %v; this run uses a one-off key, so its fingerprints match no baseline or ignore entry made with the project key\n", err)
	}
}

// keyRoot is where a command looks for the project's fingerprint key: the
// first path argument that exists (the scanned directory or repository, or a
// report), else the working directory. Commands over many repositories use
// the user's key (or the environment's) only.
func keyRoot(cmd *cobra.Command, args []string) string {
	switch cmd.Name() {
	case "sweep", "report", "triage", "merge":
		return ""
	}
	for _, a := range args {
		if a == "-" {
			continue
		}
		if _, err := os.Stat(a); err == nil {
			return a
		}
	}
	return "."
}

// migrateStore renames a store's legacy sha256: fingerprints to tw1: (keeping
// triage decisions), when the key is the project's or user's: never under a
// one-off key, whose fingerprints no later run reproduces.
func migrateStore(cmd *cobra.Command, st *store.Store, path string) error {
	if !finding.KeyIsSet() {
		return nil
	}
	ctx := context.Background()
	if cmd != nil {
		ctx = cmdContext(cmd)
	}
	n, err := st.MigrateFingerprints(ctx)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("%s: migrating fingerprints to tw1: %w", path, err)}
	}
	if n > 0 {
		fmt.Fprintf(os.Stderr, "tokenward: %s: %d legacy sha256: fingerprints renamed to tw1: (triage kept)\n", path, n)
	}
	return nil
}

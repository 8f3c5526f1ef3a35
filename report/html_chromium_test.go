//go:build unix

package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// chromium returns the headless browser for the HTML tests: $TOKENWARD_CHROMIUM,
// else chromium (Debian's package), chromium-browser or google-chrome (which
// GitHub's Ubuntu runners ship). Without one the test is skipped, except under CI (.ci/run installs
// Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TOKENWARD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed but CI is set: .ci/run installs it (apt-get install -y chromium)")
	}
	t.Skip("chromium not installed (apt-get install -y chromium); CI always runs this test")
	return ""
}

// runChromium runs headless chromium on a file:// page with everything that
// could reach the network switched off (no host resolves), in a process group
// that is killed when it exits or the deadline passes. dir is its scratch
// directory (profile, HOME).
func runChromium(bin, dir string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--no-default-browser-check", "--mute-audio",
		"--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + filepath.Join(dir, "profile")}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // helpers left behind
	}
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		return nil, fmt.Errorf("chromium %s: %v\n%s", strings.Join(args, " "), err, tail(stderr.String(), 2000))
	}
	return stdout.Bytes(), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

var (
	statusText = regexp.MustCompile(`<span id="status"[^>]*>([^<]*)</span>`)
	articleTag = regexp.MustCompile(`<article class="finding"[^>]*>`)
	dataQ      = regexp.MustCompile(`data-q="([^"]*)"`)
)

// visible returns the data-q text of the findings not hidden in a dumped DOM.
func visible(dom string) (shown []string, total int) {
	for _, tag := range articleTag.FindAllString(dom, -1) {
		total++
		if strings.Contains(tag, " hidden") {
			continue
		}
		if m := dataQ.FindStringSubmatch(tag); m != nil {
			shown = append(shown, strings.ToLower(m[1]))
		}
	}
	return shown, total
}

// TestHTMLInChromium renders the report in a real browser: the counts the
// page's script computes, the search and severity filter read from the URL,
// escaping as the browser parses it, and a screenshot.
func TestHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	out := write(t, htmlFixture(), Options{Format: FormatHTML, Version: "1.2.3",
		Summary: &Summary{Files: 9, BytesScanned: 4096}})
	if err := os.WriteFile(page, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	pageURL := (&url.URL{Scheme: "file", Path: page}).String()
	total := len(htmlFixture())

	tests := []struct {
		name, hash string
		want       int                 // findings the script leaves visible
		check      func(q string) bool // which ones, by their search text
		extra      func(t *testing.T, dom string)
	}{
		{"all", "", total, func(string) bool { return true }, func(t *testing.T, dom string) {
			// Escaped markup arrives as text: the browser built no element from it.
			if strings.Contains(dom, "<img") || strings.Count(dom, "<script") != 1 {
				t.Errorf("hostile markup became elements")
			}
			if !strings.Contains(dom, "web/&lt;script&gt;alert(1)&lt;/script&gt;\".js") {
				t.Errorf("file name not rendered as text")
			}
			for _, s := range []string{ghSecret, awsSecret} {
				if strings.Contains(dom, s) {
					t.Errorf("rendered page holds secret %q", s)
				}
			}
		}},
		{"search+severity", "#q=" + url.QueryEscape("GitHub token") + "&sev=critical,low", 1, func(q string) bool {
			return strings.HasPrefix(q, "low ") && strings.Contains(q, "github")
		}, nil},
		{"none", "#q=no-such-thing", 0, func(string) bool { return false }, func(t *testing.T, dom string) {
			if !strings.Contains(dom, `<p id="none">No finding matches the search.</p>`) {
				t.Errorf("no \"No finding matches\" message shown")
			}
			if strings.Count(dom, `<section class="severity" data-group="severity" data-sev="high">`) != 0 {
				t.Errorf("empty severity sections stay visible")
			}
		}},
	}
	// Each browser start costs about a second of CPU and waits on little else:
	// run them all at once, then check each result. The first run (the whole
	// report) also takes the screenshot.
	shot := filepath.Join(t.TempDir(), "shot.png")
	outs := make([][]byte, len(tests))
	errs := make([]error, len(tests))
	var wg sync.WaitGroup
	for i, tt := range tests {
		args := []string{"--dump-dom", pageURL + tt.hash}
		if i == 0 {
			args = append([]string{"--screenshot=" + shot, "--window-size=1280,900", "--hide-scrollbars"}, args...)
		}
		scratch := t.TempDir()
		wg.Go(func() { outs[i], errs[i] = runChromium(bin, scratch, args...) })
	}
	wg.Wait()

	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			dom := string(outs[i])
			m := statusText.FindStringSubmatch(dom)
			if m == nil {
				t.Fatalf("no status line in the rendered page:\n%s", tail(dom, 1500))
			}
			// Only the script writes "N of M findings match".
			if want := strconv.Itoa(tt.want) + " of " + strconv.Itoa(total) + " findings match"; m[1] != want {
				t.Errorf("status %q, want %q (did the script run?)", m[1], want)
			}
			shown, n := visible(dom)
			if n != total {
				t.Errorf("%d findings in the page, want %d", n, total)
			}
			if len(shown) != tt.want {
				t.Errorf("%d findings visible, want %d", len(shown), tt.want)
			}
			for _, q := range shown {
				if !tt.check(q) {
					t.Errorf("finding %q visible, should be filtered out", tail(q, 80))
				}
			}
			if tt.extra != nil {
				tt.extra(t, dom)
			}
		})
	}

	t.Run("screenshot", func(t *testing.T) {
		if errs[0] != nil {
			t.Fatal(errs[0])
		}
		f, err := os.Open(shot)
		if err != nil {
			t.Fatalf("no screenshot: %v", err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 900 {
			t.Errorf("screenshot is %v, want 1280x900", b)
		}
		// A rendered report has text and coloured badges, not a blank page.
		colours := map[uint32]bool{}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y += 3 {
			for x := b.Min.X; x < b.Max.X; x += 3 {
				r, g, bl, _ := img.At(x, y).RGBA()
				colours[r>>11<<10|g>>11<<5|bl>>11] = true
			}
		}
		if len(colours) < 20 {
			t.Errorf("screenshot has %d colours: blank page?", len(colours))
		}
		if out := os.Getenv("TOKENWARD_SCREENSHOT"); out != "" {
			data, _ := os.ReadFile(shot)
			if err := os.WriteFile(out, data, 0o644); err != nil {
				t.Error(err)
			}
		}
	})
}

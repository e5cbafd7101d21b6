package main

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/execkit/execkit/examples/internal/extest"
)

// chromium returns the path of a Chromium to drive: $CHROMIUM, or chromium
// (Debian's package) or chromium-browser on PATH. Without one the test
// skips, except in CI (CI=true), where the browser check must run: there it
// fails, naming the package to install.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but no chromium on PATH (nor $CHROMIUM): the browser check must run in CI; install Debian's chromium package (apt-get install -y chromium)")
	}
	t.Skip("chromium is not on PATH (nor $CHROMIUM): skipping the headless-browser check of the job page (apt-get install chromium to run it)")
	return ""
}

// snapshot is what the test reads off the page in one evaluation.
type snapshot struct {
	URL     string  `json:"url"`
	Origin  float64 `json:"origin"` // performance.timeOrigin: changes on every (re)load
	State   string  `json:"state"`
	Output  string  `json:"output"`
	Refresh bool    `json:"refresh"` // the page has a meta refresh
}

const readPage = `({
	url: location.href,
	origin: performance.timeOrigin,
	state: document.getElementById("state")?.textContent ?? "",
	output: document.getElementById("output")?.textContent ?? "",
	refresh: document.querySelector('meta[http-equiv="refresh"]') !== null,
})`

// TestBrowser drives headless Chromium through the example like a user:
// load /, follow the 303 to /?_t=<id>, and watch the page reload itself
// (nobody presses f5) with the output growing, until the job is done and
// the page stops reloading.
func TestBrowser(t *testing.T) {
	chrome := chromium(t)
	// 10 lines 500ms apart and a reload every second: about five reloads
	// while the job runs.
	base := extest.Serve(t, extest.BuildGo(t), "-addr", "127.0.0.1:0", "-interval", "0.5", "-refresh", "1")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()

	if _, err := chromedp.Run(bctx, chromedp.Navigate(base)); err != nil {
		t.Fatalf("load %s: %v", base, err)
	}
	idURL := regexp.MustCompile(`^` + regexp.QuoteMeta(strings.TrimSuffix(base, "/")) + `/\?_t=[0-9a-f]{32}$`)

	var (
		last     snapshot
		origins  = map[float64]bool{} // page loads seen while running
		lengths  = map[int]bool{}     // output lengths (in lines) seen while running
		failures int
	)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		s, err := chromedp.Run(bctx, chromedp.Evaluate[snapshot](readPage))
		if err != nil {
			// The page may be between two loads; a few misses are fine.
			if failures++; failures > 20 || ctx.Err() != nil {
				t.Fatalf("reading the page: %v (last read %+v)", err, last)
			}
			<-tick.C
			continue
		}
		if s.State == "" { // a load in progress
			<-tick.C
			continue
		}
		if !idURL.MatchString(s.URL) {
			t.Fatalf("page URL: got %q; want %s/?_t=<32 hex digits> (the 303 followed)", s.URL, strings.TrimSuffix(base, "/"))
		}
		n := checkOutput(t, s.Output)
		if n < strings.Count(last.Output, "\n") {
			t.Fatalf("output shrank from %q to %q", last.Output, s.Output)
		}
		last = s
		if s.State == "succeeded" {
			break
		}
		if s.State != "pending" && s.State != "running" {
			t.Fatalf("state: got %q; want pending, running or succeeded (output %q)", s.State, s.Output)
		}
		if !s.Refresh {
			t.Fatalf("the page of a %s job has no meta refresh", s.State)
		}
		origins[s.Origin], lengths[n] = true, true
		<-tick.C
	}
	if n := checkOutput(t, last.Output); n != len(wantLines) {
		t.Errorf("final output: got %d lines; want %d:\n%s", n, len(wantLines), last.Output)
	}
	if last.Refresh {
		t.Errorf("the page of the finished job still reloads itself")
	}
	// The page reloaded itself and showed the output growing.
	if len(origins) < 2 || len(lengths) < 2 {
		t.Errorf("while the job ran the page was loaded %d times showing %d different output lengths; want at least 2 of each", len(origins), len(lengths))
	}
	t.Logf("page loads while running: %d; output lengths seen: %v", len(origins), lengths)
}

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit/examples/internal/extest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// client does not follow redirects, so the tests see the 303.
var client = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

func fetch(t *testing.T, url, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// wantLines is the whole output: two lines from the request, ten from the
// background function.
var wantLines = func() []*regexp.Regexp {
	const ts = `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}`
	res := []*regexp.Regexp{regexp.MustCompile(`^Started at ` + ts + `$`), regexp.MustCompile(`^hit f5 to refresh!$`)}
	for i := range 10 {
		res = append(res, regexp.MustCompile(`^`+string(rune('0'+i))+`: `+ts+`$`))
	}
	return res
}()

// checkOutput checks that out is a prefix of the whole output, in whole
// lines, and returns how many lines it has.
func checkOutput(t *testing.T, out string) int {
	t.Helper()
	if out == "" {
		return 0
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) > len(wantLines) {
		t.Fatalf("output has %d lines; want at most %d:\n%s", len(lines), len(wantLines), out)
	}
	for i, l := range lines {
		if !wantLines[i].MatchString(l) {
			t.Fatalf("output line %d: got %q; want %v", i, l, wantLines[i])
		}
	}
	return len(lines)
}

// TestExample drives both versions like a user pressing f5: GET / answers
// 303 to /?_t=<id>, and that page shows the output growing line by line
// until all twelve lines are there.
func TestExample(t *testing.T) {
	tests := []struct {
		extest.Version
		idRE    string
		locPath string // the path in the Location: Go's is relative, a query alone
		status  func(t *testing.T, url string) (out string, done bool)
	}{
		{extest.Versions()[0], `[0-9a-f]{32}`, ``,
			func(t *testing.T, url string) (string, bool) {
				resp, body := fetch(t, url, "application/json")
				var job struct{ State, Output string }
				if err := json.Unmarshal([]byte(body), &job); err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %d %q (%v)", url, resp.StatusCode, body, err)
				}
				if job.State == "failed" || job.State == "cancelled" {
					t.Fatalf("job %s: %+v", job.State, job)
				}
				return job.Output, job.State == "succeeded"
			}},
		{extest.Versions()[1], `[0-9]+`, `/`,
			func(t *testing.T, url string) (string, bool) {
				resp, body := fetch(t, url, "")
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %d %q", url, resp.StatusCode, body)
				}
				return body, strings.Contains(body, "\n9: ")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			cmd := tt.Command(t)
			base := extest.Serve(t, cmd[0], append(cmd[1:], "--addr", "127.0.0.1:0", "--interval", "0.05")...)
			resp, _ := fetch(t, base+"?who=me", "")
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^`+tt.locPath+`\?who=me&_t=`+tt.idRE+`$`).MatchString(loc) {
				t.Fatalf("GET /?who=me: got %d, Location %q; want 303 to %s?who=me&_t=<id>", resp.StatusCode, loc, tt.locPath)
			}
			url := resp.Request.URL.ResolveReference(mustParse(t, loc)).String()
			// Poll like a user reloading: the output only ever grows.
			seen, n := map[int]bool{}, 0
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				out, done := tt.status(t, url)
				m := checkOutput(t, out)
				if m < n {
					t.Fatalf("output shrank from %d to %d lines", n, m)
				}
				n, seen[m] = m, true
				if done {
					break
				}
				<-tick.C
			}
			if n != len(wantLines) {
				t.Errorf("final output: got %d lines; want %d", n, len(wantLines))
			}
			t.Logf("saw the output at %d different lengths", len(seen))
		})
	}
}

func mustParse(t *testing.T, ref string) *url.URL {
	t.Helper()
	u, err := url.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestGoStatusErrors checks the answers for ids that are malformed or that
// the server never issued.
func TestGoStatusErrors(t *testing.T) {
	base := extest.Serve(t, extest.BuildGo(t), "-addr", "127.0.0.1:0", "-interval", "0.01")
	tests := []struct {
		query string
		want  int
	}{
		{"_t=3080772748", http.StatusBadRequest},
		{"_t=%3Cscript%3E", http.StatusBadRequest},
		{"_t=0123456789abcdef0123456789abcdef", http.StatusNotFound},
	}
	for _, tt := range tests {
		resp, body := fetch(t, base+"?"+tt.query, "")
		if resp.StatusCode != tt.want {
			t.Errorf("GET /?%s: got %d %q; want %d", tt.query, resp.StatusCode, body, tt.want)
		}
	}
}

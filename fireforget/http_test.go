package fireforget

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// start sends a request to h and returns the job id from its 303 and the
// URL its Location leads to, resolved against target as a client does.
func start(t *testing.T, h http.Handler, method, target, body string) (ID, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("%s %s: got status %d; want 303 (body %q)", method, target, rec.Code, rec.Body)
	}
	loc := rec.Header().Get("Location")
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q: %v", loc, err)
	}
	id, err := ParseID(u.Query().Get("_t"))
	if err != nil {
		t.Fatalf("Location %q: %v", loc, err)
	}
	return id, req.URL.ResolveReference(u).RequestURI()
}

// get fetches target from h with the given Accept header.
func get(h http.Handler, target, accept string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerFlow(t *testing.T) {
	r := newTestRegistry(t)
	wrote, next := make(chan struct{}), make(chan struct{})
	h := r.Handler(func(out io.Writer, req *http.Request) (JobFunc, error) {
		fmt.Fprintln(out, "Started")
		return func(ctx context.Context, out io.Writer) error {
			wrote <- struct{}{} // running, nothing written yet
			for i := range 2 {
				<-next
				fmt.Fprintf(out, "%d: <script>alert(%d)</script>\n", i, i)
				wrote <- struct{}{}
			}
			<-next
			return nil
		}, nil
	})
	id, loc := start(t, h, http.MethodGet, "/run?b=2&a=1&a=0", "")
	if want := "/run?b=2&a=1&a=0&_t=" + id.String(); loc != want {
		t.Errorf("redirected to %q; want %q", loc, want)
	}
	page := func(wantState string, wantRefresh bool, wantLines ...string) {
		t.Helper()
		rec := get(h, loc, "")
		body := rec.Body.String()
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("status page: got %d %q; want 200 text/html", rec.Code, rec.Header().Get("Content-Type"))
		}
		if !strings.Contains(body, `<strong id="state">`+wantState+`</strong>`) {
			t.Errorf("status page: want state %s in\n%s", wantState, body)
		}
		if got := strings.Contains(body, `http-equiv="refresh"`); got != wantRefresh {
			t.Errorf("status page refreshes: got %v; want %v", got, wantRefresh)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("status page holds an unescaped <script>:\n%s", body)
		}
		want := `<pre id="output">` + strings.Join(wantLines, "") + `</pre>`
		if !strings.Contains(body, want) {
			t.Errorf("status page: want %q in\n%s", want, body)
		}
	}
	<-wrote
	page("running", true, "Started\n")
	next <- struct{}{}
	<-wrote
	page("running", true, "Started\n", "0: &lt;script&gt;alert(0)&lt;/script&gt;\n")
	next <- struct{}{}
	<-wrote
	next <- struct{}{}
	j, _ := r.Lookup(id)
	<-j.Done()
	page("succeeded", false, "Started\n",
		"0: &lt;script&gt;alert(0)&lt;/script&gt;\n",
		"1: &lt;script&gt;alert(1)&lt;/script&gt;\n")

	// JSON when asked for.
	rec := get(h, loc, "text/plain;q=0.5, application/json")
	var got struct {
		ID, State, Output string
		Cut               int64
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("JSON: got %q (%v), %q", rec.Body, err, rec.Header().Get("Content-Type"))
	}
	wantOut := "Started\n0: <script>alert(0)</script>\n1: <script>alert(1)</script>\n"
	if got.ID != id.String() || got.State != "succeeded" || got.Output != wantOut {
		t.Errorf("JSON: got %+v; want id %v, succeeded, output %q", got, id, wantOut)
	}
}

func TestHandlerStatusErrors(t *testing.T) {
	r := newTestRegistry(t)
	h := r.Handler(func(out io.Writer, req *http.Request) (JobFunc, error) { return nil, nil })
	id, _ := start(t, h, http.MethodGet, "/", "")
	tests := []struct {
		name, method, target string
		want                 int
	}{
		{"known", http.MethodGet, "/?_t=" + id.String(), http.StatusOK},
		{"head", http.MethodHead, "/?_t=" + id.String(), http.StatusOK},
		{"unknown", http.MethodGet, "/?_t=" + newID().String(), http.StatusNotFound},
		{"web.py id", http.MethodGet, "/?_t=3080772748", http.StatusBadRequest},
		{"empty", http.MethodGet, "/?_t=", http.StatusBadRequest},
		{"uppercase", http.MethodGet, "/?_t=" + strings.ToUpper(id.String()), http.StatusBadRequest},
		{"script", http.MethodGet, "/?_t=%3Cscript%3E", http.StatusBadRequest},
		{"twice", http.MethodGet, "/?_t=" + id.String() + "&_t=" + id.String(), http.StatusBadRequest},
		{"post", http.MethodPost, "/?_t=" + id.String(), http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
			if rec.Code != tt.want {
				t.Errorf("%s %s: got %d; want %d", tt.method, tt.target, rec.Code, tt.want)
			}
			if strings.Contains(rec.Body.String(), "<script>") {
				t.Errorf("%s %s: the answer echoes an unescaped <script>: %q", tt.method, tt.target, rec.Body)
			}
		})
	}
}

func TestHandlerOutcomes(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		h         HandlerFunc
		want      State
		wantErr   string
		wantStack bool
	}{
		{"no background part", func(out io.Writer, req *http.Request) (JobFunc, error) {
			fmt.Fprint(out, "done at once")
			return nil, nil
		}, Succeeded, "", false},
		{"handler error", func(out io.Writer, req *http.Request) (JobFunc, error) {
			return func(context.Context, io.Writer) error { return nil }, boom
		}, Failed, "boom", false},
		{"handler panics", func(out io.Writer, req *http.Request) (JobFunc, error) {
			panic("bad request handling")
		}, Failed, "bad request handling", true},
		{"job panics", func(out io.Writer, req *http.Request) (JobFunc, error) {
			return func(context.Context, io.Writer) error { panic(boom) }, nil
		}, Failed, "boom", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRegistry(t)
			id, loc := start(t, r.Handler(tt.h), http.MethodGet, "/", "")
			j, ok := r.Lookup(id)
			if !ok {
				t.Fatalf("job %v not found", id)
			}
			<-j.Done()
			in := j.Info()
			if in.State != tt.want {
				t.Errorf("State: got %v; want %v", in.State, tt.want)
			}
			if tt.wantErr != "" && (in.Err == nil || !strings.Contains(in.Err.Error(), tt.wantErr)) {
				t.Errorf("Err: got %v; want %q in it", in.Err, tt.wantErr)
			}
			if tt.wantStack != (in.Stack != "") {
				t.Errorf("Stack: got %q; want one: %v", in.Stack, tt.wantStack)
			}
			rec := get(r.Handler(tt.h), loc, "application/json")
			var got struct{ State, Error, Stack string }
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.State != tt.want.String() || (got.Stack != "") != tt.wantStack {
				t.Errorf("JSON: got %+v; want state %v and a stack: %v", got, tt.want, tt.wantStack)
			}
		})
	}
}

func TestHandlerReadsBodyBeforeRedirect(t *testing.T) {
	r := newTestRegistry(t)
	got := make(chan string, 2)
	h := r.Handler(func(out io.Writer, req *http.Request) (JobFunc, error) {
		if err := req.ParseForm(); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "name=%s\n", req.PostForm.Get("name"))
		got <- req.PostForm.Get("name")
		return func(ctx context.Context, out io.Writer) error {
			body, err := req.GetBody() // the request is over; its body was kept
			if err != nil {
				return err
			}
			b, err := io.ReadAll(body)
			got <- string(b)
			return err
		}, nil
	})
	req := httptest.NewRequest(http.MethodPost, "/submit?x=1", strings.NewReader("name=gopher"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther || !regexp.MustCompile(`^\?x=1&_t=[0-9a-f]{32}$`).MatchString(rec.Header().Get("Location")) {
		t.Fatalf("POST: got %d %q; want 303 to ?x=1&_t=<id>", rec.Code, rec.Header().Get("Location"))
	}
	if a, b := <-got, <-got; a != "gopher" || b != "name=gopher" {
		t.Errorf("handler saw %q, job saw %q; want %q and %q", a, b, "gopher", "name=gopher")
	}
}

func TestHandlerRefusals(t *testing.T) {
	r := newTestRegistry(t, Limit(1))
	release := make(chan struct{})
	h := r.Handler(func(out io.Writer, req *http.Request) (JobFunc, error) {
		return func(context.Context, io.Writer) error { <-release; return nil }, nil
	})
	start(t, h, http.MethodGet, "/", "")
	rec := get(h, "/", "")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("at the limit: got %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	close(release)

	big := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", MaxBody+1)))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, big)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("body over MaxBody: got %d; want 413", rec.Code)
	}
}

func TestWantsJSON(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
		{"application/json", true},
		{"text/html, application/json;q=0.5", true},
		{"application/json;q=0", false},
		{"application/problem+json", true},
		{"*/*", false},
	}
	for _, tt := range tests {
		if got := wantsJSON([]string{tt.accept}); got != tt.want {
			t.Errorf("wantsJSON(%q): got %v; want %v", tt.accept, got, tt.want)
		}
	}
}

// hostileTargets are request targets whose path, served without a ServeMux
// to clean it, a browser could read as another host, or whose query holds
// bytes a Location must not carry raw.
var hostileTargets = []string{
	"//evil.example/x",
	"//evil.example",
	"///evil.example/x",
	`/\evil.example`,
	`/\\evil.example/x`,
	`/\/evil.example`,
	"/%2F%2Fevil.example",
	"/%2f%2fevil.example/x?a=1",
	"/%5C%5Cevil.example",
	"/%5c/evil.example",
	"/./..//evil.example",
	"/%09/evil.example",
	"/%E2%80%AE/x?q=%E2%80%AE",
	"/x?next=//evil.example&b=%zz",
	"/x?q=<script>&r=\"'`",
	`/x?q=a\b`,
	"/x?q=%0d%0aSet-Cookie:%20a=b",
}

// checkLocation checks that loc, the Location of a 303 answering a request
// for target, is a relative reference of a query alone: resolved against
// any base it keeps the base's scheme, host and path.
func checkLocation(t *testing.T, target, loc string) {
	t.Helper()
	if !strings.HasPrefix(loc, "?") {
		t.Errorf("%s: Location %q; want a query alone, starting with ?", target, loc)
	}
	for i := 0; i < len(loc); i++ {
		if c := loc[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("#\\\"<>^`{|}[]", c) >= 0 {
			t.Errorf("%s: Location %q holds the byte %q, not allowed raw in a query", target, loc, c)
		}
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("%s: Location %q: %v", target, loc, err)
	}
	if u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.Path != "" || u.Fragment != "" {
		t.Errorf("%s: Location %q parses as %#v; want a query alone", target, loc, u)
	}
	base, _ := url.Parse("https://app.example/prefix/page?old=1")
	if got := base.ResolveReference(u); got.Host != "app.example" || got.Path != "/prefix/page" {
		t.Errorf("%s: Location %q resolved against %v gives %v; want the same host and path", target, loc, base, got)
	}
}

// TestHandlerRedirectStaysOnHost serves the handler directly (no ServeMux
// cleans the path) and checks that no request target yields a Location that
// leaves the host, that the query the client sent comes back whole with _t
// added, and that _t names the job the request started.
func TestHandlerRedirectStaysOnHost(t *testing.T) {
	r := newTestRegistry(t)
	h := r.Handler(func(out io.Writer, req *http.Request) (JobFunc, error) { return nil, nil })
	for _, target := range hostileTargets {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Errorf("GET %s: got %d; want 303", target, rec.Code)
			continue
		}
		loc := rec.Header().Get("Location")
		checkLocation(t, target, loc)
		got, err := url.ParseQuery(strings.TrimPrefix(loc, "?"))
		if err != nil {
			t.Errorf("GET %s: Location %q: %v", target, loc, err)
			continue
		}
		id, err := ParseID(got.Get("_t"))
		if err != nil || r.Info(id).State == Unknown {
			t.Errorf("GET %s: Location %q: _t names no job (%v)", target, loc, err)
		}
		got.Del("_t")
		want, err := url.ParseQuery(req.URL.RawQuery)
		if err == nil && !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("GET %s: Location %q carries the query %v; want %v", target, loc, got, want)
		}
	}

	// Bytes a server never passes through, but a handler called directly
	// may see: none of them reaches the header raw.
	for _, raw := range []string{"a=1#frag", "a=\r\nX-Evil: 1", "a=\\b", "a=%", "a=%4", "a=\x00\xff", "a=é"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.RawQuery = raw
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkLocation(t, fmt.Sprintf("query %q", raw), rec.Header().Get("Location"))
	}
}

// TestHandlerRedirectFollowed serves the handler over real HTTP, directly,
// under http.StripPrefix and under a ServeMux, and follows the 303 with an
// http.Client: it must land on the same host, path and handler, and show the
// job the request started.
func TestHandlerRedirectFollowed(t *testing.T) {
	r := newTestRegistry(t)
	h := r.Handler(func(out io.Writer, req *http.Request) (JobFunc, error) {
		fmt.Fprintf(out, "started for %s?%s\n", req.URL.Path, req.URL.Query().Get("who"))
		return nil, nil
	})
	mux := http.NewServeMux()
	mux.Handle("/app/", http.StripPrefix("/app", h))
	mux.Handle("/run", h)
	tests := []struct {
		name    string
		handler http.Handler
		target  string // requested path and query
		seen    string // the path the handler sees
	}{
		{"direct", h, "/run?who=me", "/run"},
		{"direct, hostile path", h, "//evil.example/x?who=me", "//evil.example/x"},
		{"direct, backslash path", h, `/\evil.example?who=me`, `/\evil.example`},
		{"StripPrefix", http.StripPrefix("/app", h), "/app/run?who=me", "/run"},
		{"ServeMux", mux, "/run?who=me", "/run"},
		{"ServeMux and StripPrefix", mux, "/app/run?who=me", "/run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			var hops []string
			client := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
				hops = append(hops, req.URL.String())
				if req.URL.Host != host {
					return fmt.Errorf("redirected off the host to %v", req.URL)
				}
				return nil
			}}
			defer client.CloseIdleConnections()
			resp, err := client.Get(srv.URL + tt.target)
			if err != nil {
				t.Fatalf("GET %s: %v (hops %q)", tt.target, err, hops)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if len(hops) != 1 {
				t.Errorf("GET %s: redirected %d times (%q); want once", tt.target, len(hops), hops)
			}
			final := resp.Request.URL
			asked, err := url.Parse(srv.URL + tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || final.Host != host || final.Path != asked.Path || final.Query().Get("who") != "me" {
				t.Fatalf("GET %s: ended at %v with %d; want 200 at the same host and path with who=me", tt.target, final, resp.StatusCode)
			}
			id, err := ParseID(final.Query().Get("_t"))
			if err != nil {
				t.Fatalf("GET %s: ended at %v: %v", tt.target, final, err)
			}
			want := "started for " + tt.seen + "?me\n"
			if !strings.Contains(string(body), "<code>"+id.String()+"</code>") || !strings.Contains(string(body), want) {
				t.Errorf("GET %s: the page at %v does not show job %v with output %q:\n%s", tt.target, final, id, want, body)
			}
		})
	}
}

// TestHandlerMethods checks which methods start a job (GET and POST) and
// that every other one gets its documented answer without starting one or
// calling the HandlerFunc.
func TestHandlerMethods(t *testing.T) {
	r := newTestRegistry(t)
	calls := 0 // the handler runs in the test's goroutine
	h := r.Handler(func(out io.Writer, req *http.Request) (JobFunc, error) {
		calls++
		return nil, nil
	})
	id, _ := start(t, h, http.MethodGet, "/", "")
	calls = 0
	jobs := len(r.List())
	status := "/?_t=" + id.String()
	tests := []struct {
		method, target string
		want           int
		allow          string // the Allow header; "" for none
		starts         bool
	}{
		{http.MethodGet, "/", http.StatusSeeOther, "", true},
		{http.MethodPost, "/", http.StatusSeeOther, "", true},
		{http.MethodHead, "/", http.StatusMethodNotAllowed, "GET, POST, OPTIONS", false},
		{http.MethodOptions, "/", http.StatusNoContent, "GET, POST, OPTIONS", false},
		{http.MethodPut, "/", http.StatusMethodNotAllowed, "GET, POST, OPTIONS", false},
		{http.MethodPatch, "/", http.StatusMethodNotAllowed, "GET, POST, OPTIONS", false},
		{http.MethodDelete, "/", http.StatusMethodNotAllowed, "GET, POST, OPTIONS", false},
		{http.MethodTrace, "/", http.StatusMethodNotAllowed, "GET, POST, OPTIONS", false},
		{http.MethodConnect, "/", http.StatusMethodNotAllowed, "GET, POST, OPTIONS", false},
		{"PROPFIND", "/", http.StatusMethodNotAllowed, "GET, POST, OPTIONS", false},
		{http.MethodGet, status, http.StatusOK, "", false},
		{http.MethodHead, status, http.StatusOK, "", false},
		{http.MethodOptions, status, http.StatusNoContent, "GET, HEAD, OPTIONS", false},
		{http.MethodPost, status, http.StatusMethodNotAllowed, "GET, HEAD, OPTIONS", false},
		{http.MethodDelete, status, http.StatusMethodNotAllowed, "GET, HEAD, OPTIONS", false},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.target, nil)
		if tt.method == http.MethodOptions { // a CORS preflight
			req.Header.Set("Origin", "https://other.example")
			req.Header.Set("Access-Control-Request-Method", "POST")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want || rec.Header().Get("Allow") != tt.allow {
			t.Errorf("%s %s: got %d, Allow %q; want %d, Allow %q", tt.method, tt.target, rec.Code, rec.Header().Get("Allow"), tt.want, tt.allow)
		}
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%s %s: Access-Control-Allow-Origin %q; want none", tt.method, tt.target, got)
		}
		want := jobs
		if tt.starts {
			want++
		}
		if got := len(r.List()); got != want || (calls == 1) != tt.starts {
			t.Errorf("%s %s: %d jobs and %d calls of the HandlerFunc after it; want %d jobs, a call: %v", tt.method, tt.target, got, calls, want, tt.starts)
		}
		jobs, calls = len(r.List()), 0
	}
}

// TestHandlerHostileOutput checks the promises of the status page against
// hostile job output and errors: HTML-escaped in the page and in JSON, and
// bounded in size however much a job writes.
func TestHandlerHostileOutput(t *testing.T) {
	const maxOutput = 4 << 10
	const huge = 8 << 20
	hostile := "<script>alert(1)</script></pre><img src=x onerror=alert(2)><!-- \"'&\x00\xff\xfe</title><meta http-equiv=\"refresh\" content=\"0;url=//evil.example\">\n"
	tests := []struct {
		name      string
		request   func(out io.Writer) // what the HandlerFunc writes
		job       JobFunc
		wantState State
		written   int64
	}{
		{"markup in the output", func(out io.Writer) { io.WriteString(out, hostile) },
			func(ctx context.Context, out io.Writer) error { _, err := io.WriteString(out, hostile); return err },
			Succeeded, 2 * int64(len(hostile))},
		{"markup in the error", func(io.Writer) {},
			func(ctx context.Context, out io.Writer) error { return errors.New(hostile) },
			Failed, 0},
		{"markup in a panic", func(io.Writer) {},
			func(ctx context.Context, out io.Writer) error { panic(hostile) },
			Failed, 0},
		{"huge output in one write", func(out io.Writer) { io.WriteString(out, hostile) },
			func(ctx context.Context, out io.Writer) error {
				_, err := out.Write([]byte(strings.Repeat("<", huge)))
				return err
			}, Succeeded, int64(len(hostile)) + huge},
		{"huge output in many writes", func(io.Writer) {},
			func(ctx context.Context, out io.Writer) error {
				for range huge / len(hostile) {
					if _, err := io.WriteString(out, hostile); err != nil {
						return err
					}
				}
				return nil
			}, Succeeded, int64(huge / len(hostile) * len(hostile))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRegistry(t, MaxOutput(maxOutput))
			h := r.Handler(func(out io.Writer, req *http.Request) (JobFunc, error) {
				tt.request(out)
				return tt.job, nil
			})
			id, loc := start(t, h, http.MethodGet, "/", "")
			j, _ := r.Lookup(id)
			<-j.Done()
			in := j.Info()
			if in.State != tt.wantState || in.Written != tt.written {
				t.Errorf("job: %v with %d bytes written; want %v with %d", in.State, in.Written, tt.wantState, tt.written)
			}
			if len(in.Output) > maxOutput+64 {
				t.Errorf("Info().Output holds %d bytes; want at most MaxOutput (%d) and a marker", len(in.Output), maxOutput)
			}

			rec := get(h, loc, "")
			page := rec.Body.String()
			// What the escaping may grow: "&#34;" is 5 bytes for 1; the
			// error and the stack come on top of the output.
			if limit := 6*(maxOutput+64) + 6*len(hostile) + 64<<10; len(page) > limit {
				t.Errorf("page: %d bytes; want at most %d", len(page), limit)
			}
			for _, bad := range []string{"<script", "<img", "<!--", "</title><meta"} {
				if strings.Contains(page, bad) {
					t.Errorf("page holds the raw markup %q:\n%.2000s", bad, page)
				}
			}
			if n := strings.Count(page, "</pre>"); n != strings.Count(page, "<pre") {
				t.Errorf("page: %d </pre> for %d <pre>; want them matched (the output closed one)", n, strings.Count(page, "<pre"))
			}
			if !utf8.ValidString(page) {
				t.Errorf("page is not valid UTF-8")
			}

			rec = get(h, loc, "application/json")
			if body := rec.Body.String(); strings.ContainsAny(body, "<>") || len(body) > 6*(2*maxOutput+64)+6*len(hostile)+64<<10 {
				t.Errorf("JSON: %d bytes, raw < or >: %v; want it escaped and bounded", len(body), strings.ContainsAny(body, "<>"))
			}
		})
	}
}

// FuzzStatusLocation checks statusLocation on any query: the result is a
// query alone, with no byte a query may not hold raw, that carries the same
// parameters as rawQuery plus _t.
func FuzzStatusLocation(f *testing.F) {
	for _, target := range hostileTargets {
		_, q, _ := strings.Cut(target, "?")
		f.Add(q)
	}
	f.Add("a=1#frag")
	f.Add("a=%%41&b=%4")
	f.Add("x=\r\n\x00\xff")
	id := newID()
	f.Fuzz(func(t *testing.T, raw string) {
		loc := statusLocation(raw, id)
		checkLocation(t, fmt.Sprintf("query %q", raw), loc)
		got, err := url.ParseQuery(loc[1:])
		want, werr := url.ParseQuery(raw)
		if werr != nil { // the pairs ParseQuery refused may read differently now
			return
		}
		if err != nil {
			t.Fatalf("statusLocation(%q) = %q: %v", raw, loc, err)
		}
		if ts := got["_t"]; len(ts) == 0 || ts[len(ts)-1] != id.String() {
			t.Fatalf("statusLocation(%q) = %q; want _t=%v last", raw, loc, id)
		}
		got["_t"] = got["_t"][:len(got["_t"])-1]
		if len(got["_t"]) == 0 {
			delete(got, "_t")
		}
		if len(got) != 0 || len(want) != 0 {
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("statusLocation(%q) = %q carries %v; want %v", raw, loc, got, want)
			}
		}
	})
}

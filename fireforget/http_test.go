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
	"regexp"
	"strings"
	"testing"
)

// start sends a request to h and returns the job id from its 303.
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
	return id, loc
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
		t.Errorf("Location: got %q; want %q", loc, want)
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
	if rec.Code != http.StatusSeeOther || !regexp.MustCompile(`^/submit\?x=1&_t=[0-9a-f]{32}$`).MatchString(rec.Header().Get("Location")) {
		t.Fatalf("POST: got %d %q; want 303 to /submit?x=1&_t=<id>", rec.Code, rec.Header().Get("Location"))
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

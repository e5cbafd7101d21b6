package fireforget

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A request whose query names _t asks for a job's status, however the
// query spells it: when its _t cannot be read (a bad escape, a ';' that
// url.ParseQuery refuses) it gets 400, like any malformed id, and starts
// no job. url.Values drops such a pair, so the handler took these for a
// start: it ran a job and redirected to a query holding two _t, which
// then got 400; a client polling with one started a job per poll.
func TestHandlerMalformedTStartsNothing(t *testing.T) {
	r := newTestRegistry(t)
	calls := 0
	h := r.Handler(func(out io.Writer, req *http.Request) (JobFunc, error) { calls++; return nil, nil })
	const id = "0123456789abcdef0123456789abcdef"
	for _, target := range []string{
		"/?_t=%zz",
		"/?_t=" + id + "%",
		"/?_t=" + id + "%4",
		"/?_t=" + id + ";x=1",
		"/?x=1;_t=" + id,
		"/?x=1&_t=" + id + ";",
		"/?%5Ft=%zz",
		"/?%5f%74=" + id + "%",
		"/?_%74=" + id + ";",
		"/?a=%zz&_t=%zz",
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
			if rec.Code != http.StatusBadRequest {
				t.Errorf("%s %s: got %d (Location %q); want 400", method, target, rec.Code, rec.Header().Get("Location"))
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, target, strings.NewReader("x")))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: got %d; want 405, as for any request with _t", target, rec.Code)
		}
	}
	if n := len(r.List()); calls != 0 || n != 0 {
		t.Errorf("the handler ran %d times and the Registry holds %d jobs; want none", calls, n)
	}

	// A query that spells _t otherwise, or holds a malformed pair beside
	// it, still starts a job or reads one.
	for _, target := range []string{"/?_T=1", "/?x_t=1", "/?t=1", "/?x=%zz", "/?x=1;y=2"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusSeeOther {
			t.Errorf("GET %s: got %d; want 303", target, rec.Code)
			continue
		}
		loc := rec.Header().Get("Location")
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/"+loc, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s then its Location %s: got %d; want 200", target, loc, rec.Code)
		}
	}
	for _, tail := range []string{"&x=%zz", "&x=1;y=2", ""} {
		j, err := r.Start(noopJob)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?_t="+j.ID().String()+tail, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET ?_t=<id>%s: got %d; want 200", tail, rec.Code)
		}
	}
}

// nilErr's Error dereferences its receiver: a nil *nilErr returned as an
// error (the typed nil that is not == nil) panics in it.
type nilErr struct{ msg string }

func (e *nilErr) Error() string { return e.msg }

// A job whose error's Error method panics (a typed nil) has a status page
// and a JSON status saying "<nil>", as fmt prints it: the JSON status
// called Error, and the handler panicked.
func TestHandlerTypedNilError(t *testing.T) {
	r := newTestRegistry(t)
	h := r.Handler(func(out io.Writer, req *http.Request) (JobFunc, error) {
		var e *nilErr
		return nil, e
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	loc := rec.Header().Get("Location")
	for _, accept := range []string{"application/json", "text/html"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/"+loc, nil)
		req.Header.Set("Accept", accept)
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Errorf("status as %s panicked: %v", accept, v)
				}
			}()
			h.ServeHTTP(rec, req)
		}()
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "&lt;nil&gt;") && !strings.Contains(rec.Body.String(), `"error":"\u003cnil\u003e"`) {
			t.Errorf("status as %s: %d %q; want 200 saying <nil>", accept, rec.Code, rec.Body)
		}
	}
}

// FuzzHandlerQuery serves GET with any query: either it starts a job and
// its 303 leads to that job's status (200), or it starts nothing. A query
// whose _t url.Values dropped started a job whose redirect then got 400.
func FuzzHandlerQuery(f *testing.F) {
	for _, q := range []string{"", "a=1", "_t=%zz", "_t=0123456789abcdef0123456789abcdef;x", "x=1;_t=1", "%5Ft=%", "a=%zz", "_t", "_t=&_t="} {
		f.Add(q)
	}
	r, err := NewRegistry(Limit(1 << 20))
	if err != nil {
		f.Fatal(err)
	}
	calls := 0
	h := r.Handler(func(out io.Writer, req *http.Request) (JobFunc, error) { calls++; return nil, nil })
	f.Fuzz(func(t *testing.T, raw string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.RawQuery = raw
		rec := httptest.NewRecorder()
		before := calls
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			if calls != before {
				t.Fatalf("GET ?%s: %d, and the handler ran", raw, rec.Code)
			}
			return
		}
		loc := rec.Header().Get("Location")
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("GET ?%s: Location %q: %v", raw, loc, err)
		}
		req = httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.RawQuery = u.RawQuery
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET ?%s: 303 to %q, which answers %d; want 200", raw, loc, rec.Code)
		}
	})
}

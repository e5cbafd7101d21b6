package fireforget

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/errtext"
)

// MaxBody is the largest request body [Registry.Handler] reads before its
// redirect; a larger one gets 413 Request Entity Too Large.
const MaxBody = 10 << 20

// A HandlerFunc is the request side of a job served by [Registry.Handler]:
// the counterpart of a web.py method decorated with @backgrounder. What it
// writes to out becomes the start of the job's output; the JobFunc it
// returns (the @background part) runs in the background with the same
// output. Returning a nil JobFunc finishes the job at once with what was
// written; returning an error fails it. r's body has been read already and
// can be read again; r's context ends with the request, so the JobFunc
// must not use it.
type HandlerFunc func(out io.Writer, r *http.Request) (JobFunc, error)

// Handler returns the HTTP handler that runs h as a job, with web.py's flow:
//
//   - A GET or POST without the query parameter _t reads its body (at most
//     [MaxBody]), creates a job, calls h, starts the JobFunc h returned and
//     answers 303 See Other to the same URL with _t=<id> added, its other
//     query parameters kept. A panic in h fails the job with the stack;
//     a runtime.Goexit in h finishes it as returning a nil JobFunc would.
//     When [Limit] jobs are unfinished, or after Shutdown, it answers 503
//     Service Unavailable and calls nothing.
//   - A GET or HEAD with _t answers the job's state and all its output so
//     far: an HTML page that reloads itself every [RefreshEvery] while the
//     job is pending or running and stops once it is final, with the output
//     HTML-escaped; or, when the Accept header names application/json, a
//     JSON object {id, state, created, started, ended, output, written, cut,
//     error, stack}. An id never issued (or evicted) gets 404 Not Found; a
//     malformed one (see [ParseID]) 400 Bad Request. A query names _t
//     however it spells it (%5Ft included): one whose _t cannot be read (a
//     bad escape, a ';' that [url.ParseQuery] refuses), or that names it
//     twice, gets 400 too, and starts nothing.
//
// Only GET (what web.py's @backgrounder decorated) and POST (a form, then
// POST/redirect/GET) start a job. OPTIONS (a CORS preflight included) gets
// 204 No Content with an Allow header and starts nothing; the handler sends
// no CORS headers, so a browser refuses a cross-origin start unless CORS
// middleware in front of it allows one. Any other method, HEAD without _t
// included, gets 405 Method Not Allowed with an Allow header. Since a GET
// starts work, do not link to the handler from pages that crawlers or link
// prefetchers read.
//
// The Location of the 303 is relative and holds the query alone
// (?<query>&_t=<id>), so the client resolves it against the URL it asked
// for: however the request's path reads (//other.host/x included), the
// client stays on the same host and path, and a prefix removed on the way
// (by [http.StripPrefix] or a proxy) is kept. The handler is safe for
// concurrent use. Handler panics when r or h is nil, as [http.Handle] does
// for a nil handler: a mistake in the program, not in a request.
func (r *Registry) Handler(h HandlerFunc) http.Handler {
	if r == nil {
		panic("fireforget: Handler of a nil *Registry")
	}
	if h == nil {
		panic("fireforget: Registry.Handler: nil HandlerFunc")
	}
	return &backgrounder{r: r, h: h}
}

type backgrounder struct {
	r *Registry
	h HandlerFunc
}

// The methods the handler answers, for its Allow headers: those that start a
// job (without _t) and those that read one (with _t).
const (
	allowStart  = "GET, POST, OPTIONS"
	allowStatus = "GET, HEAD, OPTIONS"
)

func (b *backgrounder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if n := namesT(req.URL.RawQuery); n > 0 {
		b.status(w, req, req.URL.Query()["_t"], n)
		return
	}
	if !methodAllowed(w, req, allowStart, "fireforget: method not allowed: a job starts with GET or POST", http.MethodGet, http.MethodPost) {
		return
	}
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "fireforget: request body too large", http.StatusRequestEntityTooLarge)
			} else {
				http.Error(w, "fireforget: reading the request body: "+err.Error(), http.StatusBadRequest)
			}
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	j, err := b.r.create()
	if err != nil {
		if errors.Is(err, execkit.ErrFull) {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer b.r.started() // also when h ends the goroutine: see call
	fn, err := b.call(j, req)
	switch {
	case err != nil:
		j.finish(err, false)
	case fn == nil:
		j.finish(nil, false)
	default:
		b.r.run(j, fn)
	}
	w.Header().Set("Location", statusLocation(req.URL.RawQuery, j.id))
	w.WriteHeader(http.StatusSeeOther)
}

// statusLocation returns the Location of the 303 that follows a start: a
// relative reference made of the query alone, "?" + rawQuery + "&_t=<id>",
// which a client resolves against the URL it requested. Nothing of the
// request's path goes into it, so no path can send the client to another
// host (//host/x, /\host) or lose a prefix stripped before this handler.
// Bytes that may not appear in a URI's query (RFC 3986: '#' would start a
// fragment and drop _t; spaces, quotes, backslashes, controls, non-ASCII)
// are percent-encoded, as is a '%' that does not start an escape; the rest
// of rawQuery, parameter order included, is kept as it came.
func statusLocation(rawQuery string, id ID) string {
	b := make([]byte, 0, 1+len(rawQuery)+1+3+2*len(id))
	b = append(b, '?')
	for i := 0; i < len(rawQuery); i++ {
		c := rawQuery[i]
		switch {
		case c == '%' && i+2 < len(rawQuery) && isHex(rawQuery[i+1]) && isHex(rawQuery[i+2]):
			b = append(b, c)
		case c != '%' && inQuery(c):
			b = append(b, c)
		default:
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	if len(rawQuery) > 0 {
		b = append(b, '&')
	}
	b = append(b, "_t="...)
	b = append(b, id.String()...)
	return string(b)
}

const upperHex = "0123456789ABCDEF"

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// inQuery reports whether c may appear unescaped in a URI's query (RFC 3986
// section 3.4: pchar, "/" and "?"); '%' is handled by the caller.
func inQuery(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0
}

// call runs h, turning a panic into a *execkit.PanicError. When h ends
// the request's goroutine (runtime.Goexit), the job finishes with what was
// written, as when h returns a nil JobFunc (see jobTask.Run).
func (b *backgrounder) call(j *Job, req *http.Request) (fn JobFunc, err error) {
	returned := false
	defer func() {
		if v := recover(); v != nil {
			fn, err = nil, &execkit.PanicError{Value: v, Stack: debug.Stack()}
		} else if !returned {
			j.finish(nil, false)
		}
	}()
	fn, err = b.h((*jobWriter)(j), req)
	returned = true
	return fn, err
}

// namesT returns how many parameters of rawQuery are named _t, however
// they spell it ("%5Ft", "_%74"), those that url.ParseQuery drops included
// (a bad escape; a ';', which it does not take as a separator, though other
// software may).
func namesT(rawQuery string) int {
	n := 0
	for rawQuery != "" {
		var pair string
		if i := strings.IndexAny(rawQuery, "&;"); i >= 0 {
			pair, rawQuery = rawQuery[:i], rawQuery[i+1:]
		} else {
			pair, rawQuery = rawQuery, ""
		}
		key, _, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if key == "_t" {
			n++
		}
	}
	return n
}

// status answers a request whose query names _t n times; ts are the
// values of those url.ParseQuery could read.
func (b *backgrounder) status(w http.ResponseWriter, req *http.Request, ts []string, n int) {
	if !methodAllowed(w, req, allowStatus, "fireforget: method not allowed with _t", http.MethodGet, http.MethodHead) {
		return
	}
	if len(ts) != n {
		http.Error(w, "fireforget: malformed query: _t must be a parameter of its own, without bad escapes or ';'", http.StatusBadRequest)
		return
	}
	if len(ts) != 1 {
		http.Error(w, "fireforget: more than one _t", http.StatusBadRequest)
		return
	}
	id, err := ParseID(ts[0])
	if err != nil { // not echoed: the id is the client's text
		http.Error(w, "fireforget: malformed job id: want 32 lowercase hex digits", http.StatusBadRequest)
		return
	}
	info := b.r.Info(id)
	if info.State == Unknown {
		http.Error(w, "fireforget: no job "+id.String()+" (never started here, or forgotten)", http.StatusNotFound)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// The page and JSON are UTF-8: whatever bytes the job wrote, returned or
	// panicked with reach them as valid UTF-8 (the JSON encoder would do
	// the same; html/template would pass invalid bytes through).
	info.Output = validUTF8(info.Output)
	info.Stack = validUTF8(info.Stack)
	if wantsJSON(req.Header.Values("Accept")) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jsonInfo(info))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	refresh := 0
	if !info.State.Final() {
		refresh = int(b.r.refresh / time.Second)
	}
	d := pageData{JobInfo: info, Refresh: refresh}
	if info.Err != nil { // a typed nil too, which the template's if takes for none
		d.ErrText = validUTF8(errtext.Of(info.Err))
	}
	_ = page.Execute(w, d)
}

// wantsJSON reports whether an Accept header names application/json (or a
// +json type) with a non-zero quality.
func wantsJSON(accept []string) bool {
	for _, line := range accept {
		for _, part := range strings.Split(line, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
				continue
			}
			if q, ok := params["q"]; ok {
				if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

type jsonJob struct {
	ID      ID        `json:"id"`
	State   State     `json:"state"`
	Created time.Time `json:"created"`
	Started time.Time `json:"started,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
	Output  string    `json:"output"`
	Written int64     `json:"written"`
	Cut     int64     `json:"cut"`
	Error   string    `json:"error,omitempty"`
	Stack   string    `json:"stack,omitempty"`
}

func jsonInfo(in JobInfo) jsonJob {
	j := jsonJob{
		ID: in.ID, State: in.State, Created: in.Created, Started: in.Started, Ended: in.Ended,
		Output: in.Output, Written: in.Written, Cut: in.Cut, Stack: in.Stack,
	}
	if in.Err != nil {
		j.Error = errtext.Of(in.Err) // a typed nil's Error panics
	}
	return j
}

func validUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

type pageData struct {
	JobInfo
	Refresh int
	ErrText string // Err's text, "" when it is nil
}

// fmtTime formats a time for the page, or "-" when zero.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("2006-01-02 15:04:05.000000")
}

var page = template.Must(template.New("job").Funcs(template.FuncMap{
	"time": fmtTime,
}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8">
{{- if .Refresh}}
<meta http-equiv="refresh" content="{{.Refresh}}">
{{- end}}
<title>job {{.State}}</title>
<style>body{font-family:sans-serif;margin:1.5em} pre{background:#f6f6f6;padding:.8em;white-space:pre-wrap}</style>
</head><body>
<p>Job <code>{{.ID}}</code>: <strong id="state">{{.State}}</strong>
(created {{time .Created}}, started {{time .Started}}, ended {{time .Ended}})</p>
<pre id="output">{{.Output}}</pre>
{{- if .ErrText}}
<p>Error:</p>
<pre id="error">{{.ErrText}}</pre>
{{- end}}
{{- if .Stack}}
<pre id="stack">{{.Stack}}</pre>
{{- end}}
{{- if .Refresh}}
<p><small>This page reloads every {{.Refresh}}s until the job ends.</small></p>
{{- end}}
</body></html>
`))

// methodAllowed reports whether req's method is one of ok; otherwise it
// answers, with Allow: allow, OPTIONS with 204 (no CORS headers, so a
// browser's preflight refuses a cross-origin request) and any other method
// with 405 and msg.
func methodAllowed(w http.ResponseWriter, req *http.Request, allow, msg string, ok ...string) bool {
	if slices.Contains(ok, req.Method) {
		return true
	}
	w.Header().Set("Allow", allow)
	if req.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	http.Error(w, msg, http.StatusMethodNotAllowed)
	return false
}

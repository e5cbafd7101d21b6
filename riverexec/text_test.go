package riverexec

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/execkit/execkit"
)

// TestTextTheRowCannotHold: a task whose error (or panic) text holds a NUL
// byte or invalid UTF-8 fails as any other: FAILURE on the row, the same
// JobError message from its Future as from Lookup, and the jobs completed
// with it are not held up. PostgreSQL's jsonb refuses \u0000: River failed
// to record the whole batch of completions (the failing job and the
// successful ones beside it stayed STARTED until rescued and run again),
// and on either database JSON turned invalid UTF-8 into U+FFFD on the row
// while the Future of the same process kept the raw bytes.
func TestTextTheRowCannotHold(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		ex := newExecutor(t, db, Queue("text"), Retries(1, time.Millisecond))
		texts := []string{"nul \x00 byte", "bad \xff\xfe utf8", "both \x00\xff"}
		type sent struct {
			what string
			f    *execkit.Future[int]
		}
		var all []sent
		for _, s := range texts {
			all = append(all, sent{"error " + fmt.Sprintf("%q", s), fail.Go(ctx, ex, s)})
			all = append(all, sent{"panic " + fmt.Sprintf("%q", s), boom.Go(ctx, ex, s)})
		}
		ok := double.Go(ctx, ex, 21)
		for _, s := range all {
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			_, err := s.f.Wait(wctx)
			cancel()
			var je *JobError
			if !errors.As(err, &je) {
				t.Fatalf("%s: %v; want a *JobError", s.what, err)
			}
			if !utf8.ValidString(je.Message) || containsNUL(je.Message) {
				t.Errorf("%s: the Future's message %q; want valid UTF-8 without NUL, as the row holds it", s.what, je.Message)
			}
			j := waitDone(t, ex, je.JobID)
			var lje *JobError
			if j.State != StateFailure || !errors.As(j.Err, &lje) || lje.Message != je.Message {
				t.Errorf("%s: Lookup = %s, %#v; want FAILURE with the Future's message %q", s.what, j.State, j.Err, je.Message)
			}
			if j.Attempt != 2 {
				t.Errorf("%s: %d attempts; want 2 (one retry)", s.what, j.Attempt)
			}
		}
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if n, err := ok.Wait(wctx); n != 42 || err != nil {
			t.Fatalf("double(21) = %d, %v", n, err)
		}
	})
}

func containsNUL(s string) bool {
	for i := range len(s) {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

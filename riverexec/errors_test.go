package riverexec

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/execkit/execkit"
)

var (
	errNotFound   = errors.New("not found")
	errUndeclared = errors.New("undeclared")

	// lookupFunc fails with a declared sentinel, an undeclared one, or an
	// error of its own type, by key.
	lookupFunc = execkit.Register("riverexec_test.lookup", func(_ context.Context, key string) (int, error) {
		switch key {
		case "missing":
			return 0, fmt.Errorf("lookup %q: %w", key, errNotFound)
		case "undeclared":
			return 0, fmt.Errorf("lookup %q: %w", key, errUndeclared)
		case "path":
			return 0, &fs.PathError{Op: "open", Path: key, Err: fs.ErrNotExist}
		}
		return len(key), nil
	}, execkit.Errors(errNotFound))
)

// The sentinels declared with Errors keep their identity through the job
// row, whichever way the outcome comes back (handed over by the worker of
// this process, polled from the database, read by Lookup); other errors
// arrive as an *execkit.RemoteError with their text and type name.
func TestErrorIdentity(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		one := newExecutor(t, db)
		sub := newExecutor(t, db, SubmitOnly())
		w, err := db.New(WorkOnly())
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := w.Shutdown(ctx); err != nil {
				t.Errorf("worker Shutdown = %v", err)
			}
		}()
		lookupJob := func(ex *Executor, key string) error {
			id, err := ex.Enqueue(ctx, lookupFunc.Task(key))
			if err != nil {
				return err
			}
			var j Job
			waitFor(t, "the job to fail", func() bool {
				j, err = ex.Lookup(ctx, id)
				return err != nil || j.State == StateFailure
			})
			if err != nil {
				return err
			}
			return j.Err
		}
		paths := map[string]func(key string) error{
			"Func.Go, one executor": func(key string) error { _, err := lookupFunc.Go(ctx, one, key).Wait(ctx); return err },
			"Func.Map, submit only": func(key string) error { _, err := lookupFunc.Map(ctx, sub, []string{"a", key}); return err },
			"Lookup":                func(key string) error { return lookupJob(sub, key) },
		}
		tests := []struct {
			key, typ, msg string
			is            error // want errors.Is(err, is)
			isNot         error // want !errors.Is(err, isNot)
		}{
			{"missing", "*fmt.wrapError", `lookup "missing": not found`, errNotFound, nil},
			{"undeclared", "*fmt.wrapError", `lookup "undeclared": undeclared`, nil, errUndeclared},
			{"path", "*fs.PathError", "open path: file does not exist", nil, fs.ErrNotExist},
		}
		for name, run := range paths {
			for _, tt := range tests {
				err := run(tt.key)
				var (
					re *execkit.RemoteError
					je *JobError
				)
				if !errors.As(err, &je) || !errors.As(err, &re) || re.Type != tt.typ || re.Message != tt.msg || !strings.HasSuffix(err.Error(), tt.msg) {
					t.Errorf("%s(%q) = %#v; want a *JobError and a *RemoteError of type %s saying %q", name, tt.key, err, tt.typ, tt.msg)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("%s(%q): errors.Is(%v, %v) = false; want true (declared with Errors)", name, tt.key, err, tt.is)
				}
				if tt.isNot != nil && errors.Is(err, tt.isNot) {
					t.Errorf("%s(%q): errors.Is(%v, %v) = true; want false (not declared)", name, tt.key, err, tt.isNot)
				}
			}
		}
	})
}

package riverexec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNilArguments: the functions that take a ctx take a nil one as
// context.Background(), as Submit, Lookup and Cancel do, and Migrate
// refuses a nil pool as New does: OpenSQLite, New, NewSQLite and Migrate
// panicked on them.
func TestNilArguments(t *testing.T) {
	var nilCtx context.Context
	calls := map[string]func(t *testing.T) error{
		"OpenSQLite(nil ctx)": func(t *testing.T) error {
			db, err := OpenSQLite(nilCtx, filepath.Join(t.TempDir(), "nil.db"))
			if err == nil {
				err = db.Close()
			}
			return err
		},
		"NewSQLite(nil ctx)": func(t *testing.T) error {
			ex, err := NewSQLite(nilCtx, newDB(t, "sqlite").sqlite)
			if err == nil {
				err = ex.Shutdown(nilCtx)
			}
			return err
		},
		"New(nil ctx)": func(t *testing.T) error {
			db := newDB(t, "postgres")
			ex, err := New(nilCtx, db.pool, Schema(db.schema))
			if err == nil {
				err = ex.Shutdown(nilCtx)
			}
			return err
		},
		"Migrate(nil ctx)": func(t *testing.T) error {
			return Migrate(nilCtx, newDB(t, "postgres").pool, "")
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := catch(func() error { return call(t) }); err != nil {
				t.Errorf("%s = %v; want nil", name, err)
			}
		})
	}
	t.Run("Migrate(nil pool)", func(t *testing.T) {
		if err := catch(func() error { return Migrate(context.Background(), nil, "") }); err == nil || err.Error() != "riverexec: Migrate with a nil pool" {
			t.Errorf("Migrate(ctx, nil, \"\") = %v; want riverexec: Migrate with a nil pool", err)
		}
	})
}

// catch returns f's error, or an error saying f panicked.
func catch(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicked{r}
		}
	}()
	return f()
}

type panicked struct{ v any }

func (p *panicked) Error() string { return "panicked: " + fmtAny(p.v) }

func fmtAny(v any) string { return fmt.Sprint(v) }

// TestOpenSQLiteEmptyPath: OpenSQLite("") is an error. SQLite reads an
// empty name as a private temporary database, deleted when the handle
// closes: the jobs "survived" nothing, and no other process could share
// them.
func TestOpenSQLiteEmptyPath(t *testing.T) {
	db, err := OpenSQLite(context.Background(), "")
	if err == nil {
		_ = db.Close()
		t.Fatal(`OpenSQLite(ctx, "") = a handle, nil; want an error`)
	}
	if !strings.HasPrefix(err.Error(), "riverexec: ") {
		t.Errorf(`OpenSQLite(ctx, "") = %v; want an error starting with "riverexec: "`, err)
	}
}

// TestOpenSQLitePathTakenLiterally: OpenSQLite's path names a file, byte
// for byte. ":memory:" is an error, as "" is (SQLite read it as an
// in-memory database: no job outlived the handle); a path that starts with
// "//" is the file there (SQLite read "//tmp/x" as a URI with the host
// "tmp" and refused it, and "//localhost/x" as the file /x); '?', '#' and
// '%' stay in the file's name.
func TestOpenSQLitePathTakenLiterally(t *testing.T) {
	db, err := OpenSQLite(context.Background(), ":memory:")
	if err == nil {
		_ = db.Close()
		t.Error(`OpenSQLite(ctx, ":memory:") = a handle, nil; want an error`)
	} else if !strings.HasPrefix(err.Error(), "riverexec: ") {
		t.Errorf(`OpenSQLite(ctx, ":memory:") = %v; want an error starting with "riverexec: "`, err)
	}
	dir := t.TempDir() // absolute: "/" + dir starts with "//"
	for _, tc := range []struct{ path, file string }{
		{"/" + filepath.Join(dir, "slashes.db"), filepath.Join(dir, "slashes.db")},
		{filepath.Join(dir, "q?mode=memory#f%20.db"), filepath.Join(dir, "q?mode=memory#f%20.db")},
	} {
		db, err := OpenSQLite(context.Background(), tc.path)
		if err != nil {
			t.Errorf("OpenSQLite(ctx, %q): %v; want the file %s", tc.path, err, tc.file)
			continue
		}
		_ = db.Close()
		if _, err := os.Stat(tc.file); err != nil {
			t.Errorf("after OpenSQLite(ctx, %q): %v; want the file %s", tc.path, err, tc.file)
		}
	}
}

package riverexec

import (
	"context"
	"fmt"
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

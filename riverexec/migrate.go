package riverexec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// Migrate creates River's tables (or brings them up to the version of River
// this package pins) in schema, creating the schema first; "" means the
// connection's search_path. It is what River's own `river migrate-up` does,
// for programs that would rather not ship River's command. Run it once per
// deployment, before the executors start; running it again is harmless. It
// blocks until the migration is done or ctx ends, and it is safe to call
// from any goroutine.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	if pool == nil {
		return errors.New("riverexec: Migrate with a nil pool")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if schema != "" {
		if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("riverexec: creating schema %q: %w", schema, err)
		}
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{
		Schema: schema,
		Logger: slog.New(minLevel{slog.Default().Handler(), slog.LevelError}),
	})
	if err != nil {
		return fmt.Errorf("riverexec: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("riverexec: migrating schema %q: %w", schema, err)
	}
	return nil
}

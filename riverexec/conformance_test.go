package riverexec

import (
	"context"
	"fmt"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/executortest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestConformance runs execkit's contract checks on each database, each
// check on a fresh queue (so that no job of one check reaches the
// executor of the next) and, on PostgreSQL, a pool of its own, closed after Shutdown: after
// a write that took over 15ms (a loaded machine), pgx leaves the
// connection's background reader (pgconn/internal/bgreader) blocked in a
// read until the connection's next message or its close, and the leak
// check would count it. Once unbounded, once with Limit.
func TestConformance(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		tests := []struct {
			name  string
			opts  []Option
			suite []executortest.Option
		}{
			{"unbounded", nil, []executortest.Option{executortest.Portable()}},
			{"Limit", []Option{Limit(maxPendingCheck)}, []executortest.Option{executortest.Portable(), executortest.Blocking(maxPendingCheck)}},
		}
		n := 0
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				executortest.Run(t, func(t *testing.T, onError func(error)) execkit.Executor {
					n++
					opts := append([]Option{Queue(fmt.Sprintf("check%d", n)), OnError(onError)}, tt.opts...)
					if db.driver == "sqlite" {
						ex, err := NewSQLite(context.Background(), db.sqlite, opts...)
						if err != nil {
							t.Fatal(err)
						}
						return ex
					}
					pool, err := pgxpool.New(context.Background(), db.url)
					if err != nil {
						t.Fatal(err)
					}
					ex, err := New(context.Background(), pool, append(opts, Schema(db.schema))...)
					if err != nil {
						pool.Close()
						t.Fatal(err)
					}
					return poolOwner{ex, pool}
				}, tt.suite...)
			})
		}
	})
}

// poolOwner closes its pool once its executor has shut down.
type poolOwner struct {
	*Executor
	pool *pgxpool.Pool
}

func (o poolOwner) Shutdown(ctx context.Context) error {
	if err := o.Executor.Shutdown(ctx); err != nil {
		return err
	}
	o.pool.Close()
	return nil
}

// maxPendingCheck is the bound of the Limit run: large enough that
// the suite's 512 tasks, at most this many in flight, finish within its
// patience on SQLite under the race detector (which slows the pure-Go
// SQLite engine's every memory access) on a loaded 2-core machine.
const maxPendingCheck = 16

package riverexec

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// riverClient is the part of River's *river.Client[TTx] the executor uses:
// the same methods whatever the driver's transaction type TTx.
type riverClient interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobCancel(ctx context.Context, id int64) (*rivertype.JobRow, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}

// A backend is what differs between the databases: River's driver, the
// transaction type of a transactional enqueue, how workers learn of new
// jobs.
type backend interface {
	newClient(rc *river.Config) (riverClient, error)
	// fetchPoll is River's FetchPollInterval for this database (0: River's
	// default).
	fetchPoll() time.Duration
	// migrateHint says what to check when River's tables cannot be read.
	migrateHint(schema string) string
	// notifyInsert wakes the workers of queue, on tx when it is not nil
	// (then the notice leaves when it commits).
	notifyInsert(ctx context.Context, tx any, schema, queue string) error
	// insertTx inserts params inside the caller's transaction tx.
	insertTx(ctx context.Context, c riverClient, tx any, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	// validate checks the options that depend on the database.
	validate(cfg *config) error
}

// postgres is the backend of [New]: River's pgx driver.
type postgres struct{ pool *pgxpool.Pool }

func (p postgres) newClient(rc *river.Config) (riverClient, error) {
	return river.NewClient(riverpgxv5.New(p.pool), rc)
}

// fetchPoll: River's default (a second); inserts notify the workers.
func (postgres) fetchPoll() time.Duration { return 0 }

func (postgres) migrateHint(schema string) string {
	return fmt.Sprintf("did Migrate run for schema %q?", schema)
}

// notifyInsert sends River's own insert notice; the topic is River's
// (v0.51 as v0.30): "<schema>.river_insert".
func (p postgres) notifyInsert(ctx context.Context, tx any, schema, queue string) error {
	var s *string
	if schema != "" {
		s = &schema
	}
	const q = "SELECT pg_notify(concat(coalesce($1::text, current_schema()), '.river_insert'), $2)"
	payload := `{"queue": ` + strconv.Quote(queue) + `}`
	if t, ok := tx.(pgx.Tx); ok {
		_, err := t.Exec(ctx, q, s, payload)
		return err
	}
	_, err := p.pool.Exec(ctx, q, s, payload)
	return err
}

func (postgres) insertTx(ctx context.Context, c riverClient, tx any, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	t, ok := tx.(pgx.Tx)
	if err := txError(ok, tx, "PostgreSQL", "a pgx.Tx"); err != nil {
		return nil, err
	}
	return c.(*river.Client[pgx.Tx]).InsertManyTx(ctx, t, params)
}

func (postgres) validate(*config) error { return nil }

// txError returns the error of EnqueueTx for tx, which is of the type the
// database takes when ok: nil for a transaction of that type, an error
// wrapping ErrTxType for another type, or for a nil one (an untyped nil,
// or a nil pointer of the right type, whose methods would panic).
func txError(ok bool, tx any, db, want string) error {
	if tx == nil || isNilPointer(tx) {
		return fmt.Errorf("%w: EnqueueTx with a nil transaction (%T); an executor on %s takes %s", ErrTxType, tx, db, want)
	}
	if !ok {
		return fmt.Errorf("%w: an executor on %s takes %s, not %T", ErrTxType, db, want, tx)
	}
	return nil
}

// isNilPointer reports whether v holds a nil pointer (or another nil
// value of a kind that has one).
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

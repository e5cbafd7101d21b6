package riverexec

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	// sqliteFetchPoll is how often River's workers look for new jobs on
	// SQLite. SQLite has no LISTEN/NOTIFY (River's driver emulates it
	// with a table polled every 50ms), so the poll is what wakes a worker;
	// one look at an empty queue is a short indexed query.
	sqliteFetchPoll = 5 * time.Millisecond
	// sqliteBusyTimeout is how long a statement waits for another writer
	// (in this process or another) before failing with SQLITE_BUSY.
	sqliteBusyTimeout = 10 * time.Second
)

// OpenSQLite opens (creating it when missing) the SQLite database file at
// path for [NewSQLite], with pure-Go SQLite (modernc.org/sqlite: no cgo),
// and creates River's tables in it or brings them up to the version of
// River this package pins. The handle is set up so that concurrent use
// waits instead of failing: write-ahead logging (readers never wait for the
// writer), a busy timeout of 10 seconds, transactions that take the write
// lock when they begin (BEGIN IMMEDIATE, so two of them never deadlock on
// upgrading a read lock), and one open connection, which serialises this
// process's statements (River's advice for SQLite). synchronous=FULL: a
// committed job survives a crash of the process and a power loss. path is
// a file's path, taken literally ('?', '#', '%' and a leading "//"
// included); an empty path and ":memory:" are errors (SQLite would make a
// temporary or an in-memory database, gone when the handle closes).
//
// The handle is yours: use it for your own tables too (that is how
// [Executor.EnqueueTx] puts a job in the transaction that writes your row),
// and close it after every executor on it has shut down. Several processes
// on one machine may open the same file at once; see the package
// documentation for what SQLite allows. OpenSQLite blocks for the
// migration, which ctx bounds, and is safe to call concurrently, from
// several processes too.
func OpenSQLite(ctx context.Context, path string) (*sql.DB, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if path == "" { // SQLite's private temporary database, gone when closed
		return nil, errors.New("riverexec: OpenSQLite with an empty path")
	}
	if path == ":memory:" { // SQLite's in-memory database, gone when closed
		return nil, errors.New(`riverexec: OpenSQLite(":memory:"): an in-memory database keeps no job beyond the handle; give a file's path (./:memory: for a file of that name)`)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", sqliteURI(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("riverexec: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	if err := migrateSQLite(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("riverexec: creating River's tables in %s: %w", path, err)
	}
	return db, nil
}

// sqliteURI returns SQLite's URI filename for the file at path, taken
// literally: every byte SQLite's URI would read otherwise ('?', '#', '%')
// escaped, and an absolute path behind an empty authority, so that one
// that starts with "//" (the root on Linux, //localhost/x included) is not
// read as "file://<host>/...".
func sqliteURI(path string) string {
	p := (&url.URL{Path: path}).EscapedPath()
	if strings.HasPrefix(path, "/") {
		return "file://" + p
	}
	return "file:" + p
}

func migrateSQLite(ctx context.Context, db *sql.DB) error {
	m, err := rivermigrate.New(riversqlite.New(db), &rivermigrate.Config{
		Logger: slog.New(minLevel{slog.Default().Handler(), slog.LevelError}),
	})
	if err != nil {
		return err
	}
	// Processes opening a new file at once may each find a migration
	// missing; one that loses the race fails on what another created, and
	// goes on from there when it tries again. Every failure is another
	// opener's progress, so a few tries suffice.
	for attempt := 1; ; attempt++ {
		_, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err == nil || attempt == migrateAttempts || ctx.Err() != nil {
			return err
		}
	}
}

// migrateAttempts bounds OpenSQLite's tries at the migration.
const migrateAttempts = 20

// NewSQLite makes an executor on a SQLite database: the embedded rung of
// the ladder, one machine and nothing to install. Open db with
// [OpenSQLite], which creates River's tables and sets the handle up; a
// handle you open yourself needs the same settings (WAL, a busy timeout,
// BEGIN IMMEDIATE transactions) and River's tables (open the file once
// with OpenSQLite). Everything else is as with [New]: the same options
// ([Schema] excepted, which is PostgreSQL's), the same Futures, Enqueue,
// Lookup, Cancel and states, and jobs that survive the process. db must
// stay open until Shutdown returned.
//
// NewSQLite returns an error for a bad option or when River's tables cannot
// be read. Its goroutines are those of New.
func NewSQLite(ctx context.Context, db *sql.DB, opts ...Option) (*Executor, error) {
	if db == nil {
		return nil, errors.New("riverexec: NewSQLite with a nil database")
	}
	return start(ctx, sqliteDB{db}, opts)
}

// sqliteDB is the backend of [NewSQLite]: River's SQLite driver.
type sqliteDB struct{ db *sql.DB }

func (s sqliteDB) newClient(rc *river.Config) (riverClient, error) {
	return river.NewClient(riversqlite.New(s.db), rc)
}

func (sqliteDB) fetchPoll() time.Duration { return sqliteFetchPoll }

func (sqliteDB) migrateHint(string) string {
	return "was the file opened with OpenSQLite, which creates them?"
}

// notifyInsert: the workers poll every sqliteFetchPoll.
func (sqliteDB) notifyInsert(context.Context, any, string, string) error { return nil }

func (sqliteDB) insertTx(ctx context.Context, c riverClient, tx any, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	t, ok := tx.(*sql.Tx)
	if err := txError(ok, tx, "SQLite", "a *sql.Tx"); err != nil {
		return nil, err
	}
	return c.(*river.Client[*sql.Tx]).InsertManyTx(ctx, t, params)
}

func (sqliteDB) validate(cfg *config) error {
	if cfg.schema != "" {
		return fmt.Errorf("riverexec: Schema(%q) on SQLite: schemas are PostgreSQL's; use another file", cfg.schema)
	}
	return nil
}

// sqliteBusy reports whether err is SQLite's "database is locked" (or
// busy): another writer held the lock past the busy timeout.
func sqliteBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

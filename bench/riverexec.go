package bench

import (
	"context"
	"os"
	"path/filepath"

	"github.com/execkit/execkit/riverexec"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvPGURL is the environment variable that turns on the riverexec row on
// PostgreSQL: the URL of a database the River-backed executor may use (it
// creates, and drops after each sample, a schema of its own,
// execkit_bench). Without it that row is absent and the report's notes say
// how to add it; the row on SQLite always runs.
const EnvPGURL = "EXECKIT_PG_URL"

// riverexecSchema is the schema the PostgreSQL row migrates and drops.
const riverexecSchema = "execkit_bench"

// riverexecStrategies are the rows of the River executor (module
// github.com/execkit/execkit/riverexec): every task a River job, worked by
// the same process, on an embedded SQLite file (always) and on PostgreSQL
// (when [EnvPGURL] is set). They run the no-op batch and the round trip,
// with small batches (a few thousand tasks a second, milliseconds per round
// trip), beside their Python original, Celery ([StratCelery]).
func riverexecStrategies() []*Strategy {
	sqlite := &Strategy{
		Name: StratRiverexecSQLite, Family: FamilyProcess, Lang: LangGo, Baseline: "raw-pipe", Python: StratCelery,
		Module:   "github.com/riverqueue/river",
		Doc:      "execkit riverexec.NewSQLite on a SQLite file in a temporary directory (riverexec.OpenSQLite: WAL, synchronous=FULL): each task a River job, worked in this process; Submit per task, one at a time for round trips",
		Kinds:    []Kind{KindBatch, KindRoundTrip},
		Only:     []string{"noop", "roundtrip"},
		MaxTasks: 200,
		Residue:  true,
		New: func(w *Workload) (Runner, error) {
			ctx := context.Background()
			dir, err := os.MkdirTemp("", "execkit-bench-river-")
			if err != nil {
				return nil, err
			}
			db, err := riverexec.OpenSQLite(ctx, filepath.Join(dir, "jobs.db"))
			if err != nil {
				os.RemoveAll(dir)
				return nil, err
			}
			after := func() { _ = db.Close(); _ = os.RemoveAll(dir) }
			ex, err := riverexec.NewSQLite(ctx, db)
			if err != nil {
				after()
				return nil, err
			}
			return &execRunner{w: w, ex: ex, after: after}, nil
		},
	}
	url := os.Getenv(EnvPGURL)
	if url == "" {
		return []*Strategy{sqlite}
	}
	return []*Strategy{sqlite, {
		Name: StratRiverexec, Family: FamilyProcess, Lang: LangGo, Baseline: "raw-pipe", Python: StratCelery,
		Module:   "github.com/riverqueue/river",
		Doc:      "execkit riverexec.New on PostgreSQL (schema " + riverexecSchema + "): each task a River job, worked in this process; Submit per task, one at a time for round trips",
		Kinds:    []Kind{KindBatch, KindRoundTrip},
		Only:     []string{"noop", "roundtrip"},
		MaxTasks: 200,
		Residue:  true,
		New: func(w *Workload) (Runner, error) {
			ctx := context.Background()
			db, err := pgxpool.New(ctx, url)
			if err != nil {
				return nil, err
			}
			dropSchema := func() { _, _ = db.Exec(ctx, "DROP SCHEMA IF EXISTS "+riverexecSchema+" CASCADE") }
			dropSchema()
			if err := riverexec.Migrate(ctx, db, riverexecSchema); err != nil {
				db.Close()
				return nil, err
			}
			ex, err := riverexec.New(ctx, db, riverexec.Schema(riverexecSchema))
			if err != nil {
				dropSchema()
				db.Close()
				return nil, err
			}
			return &execRunner{w: w, ex: ex, after: func() { dropSchema(); db.Close() }}, nil
		},
	}}
}

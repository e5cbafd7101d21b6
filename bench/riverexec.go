package bench

import (
	"context"
	"os"

	"github.com/execkit/execkit/riverexec"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvPGURL is the environment variable that turns on the riverexec row: the
// URL of a PostgreSQL database the River-backed executor may use (it
// creates, and drops after each sample, a schema of its own,
// execkit_bench). Without it the row is absent and the report's notes say
// how to add it.
const EnvPGURL = "EXECKIT_PG_URL"

// riverexecSchema is the schema the riverexec row migrates and drops.
const riverexecSchema = "execkit_bench"

// riverexecStrategy is the row of the River + PostgreSQL executor (module
// github.com/execkit/execkit/riverexec): every task a River job, worked by
// the same process. It runs only when [EnvPGURL] is set, on the no-op
// batch and the round trip, with small batches (a few thousand tasks a
// second, milliseconds per round trip).
func riverexecStrategy() *Strategy {
	url := os.Getenv(EnvPGURL)
	if url == "" {
		return nil
	}
	return &Strategy{
		Name: StratRiverexec, Family: FamilyProcess, Lang: LangGo, Baseline: "raw-pipe",
		Module:   "github.com/riverqueue/river",
		Doc:      "execkit riverexec.New on PostgreSQL (schema " + riverexecSchema + "): each task a River job, worked in this process; Submit per task, one at a time for round trips (its Python original, Celery, needs a broker: not measured)",
		Kinds:    []Kind{KindBatch, KindRoundTrip},
		Only:     []string{"noop", "roundtrip"},
		MaxTasks: 200,
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
	}
}

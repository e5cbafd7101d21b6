package bench

import "os"

// EnvPGURL is the environment variable that turns on the riverexec row: the
// URL of a PostgreSQL database the River-backed executor may use (it
// creates and drops a schema of its own). Without it the row is absent and
// the report's notes say how to add it.
const EnvPGURL = "EXECKIT_PG_URL"

// riverexecStrategy is the hook for the River + PostgreSQL executor (module
// github.com/execkit/execkit/riverexec). It returns nil, so the row is
// absent, until that module is on main; then its body becomes (with
// bench/go.mod requiring the module, replaced by ../riverexec):
//
//	url := os.Getenv(EnvPGURL)
//	if url == "" {
//		return nil
//	}
//	return executorRow(Strategy{
//		Name: "execkit-riverexec", Family: FamilyProcess,
//		Baseline: "raw-pipe", Python: "py-mp-pool",
//		Module: "github.com/execkit/execkit/riverexec",
//		Doc:    "execkit riverexec: each task a River job in PostgreSQL, worked in this process",
//		Kinds:  []Kind{KindBatch, KindRoundTrip}, Only: []string{"noop", "roundtrip"},
//	}, func(*Workload) (execkit.Executor, error) {
//		ctx := context.Background()
//		db, err := pgxpool.New(ctx, url) // closed by a wrapper after Shutdown
//		if err != nil {
//			return nil, err
//		}
//		const schema = "execkit_bench"
//		_, _ = db.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
//		if err := riverexec.Migrate(ctx, db, schema); err != nil {
//			db.Close()
//			return nil, err
//		}
//		return riverexec.New(ctx, db, riverexec.Schema(schema))
//	})
//
// executorRow's adapter runs both kinds: batches, and round trips (one
// task submitted and waited for at a time).
func riverexecStrategy() *Strategy {
	if os.Getenv(EnvPGURL) == "" {
		return nil
	}
	return nil // riverexec is not on main yet: see above
}

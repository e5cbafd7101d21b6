package bench

import "os"

// EnvPGURL is the environment variable that turns on the riverexec row: a
// PostgreSQL URL the River-backed executor can use. Without it the row is
// absent and the report says why.
const EnvPGURL = "EXECKIT_PG_URL"

// riverexecStrategy is the hook for the River + PostgreSQL executor (module
// github.com/execkit/execkit/riverexec). It returns nil, so the row is
// absent, until that module lands on main; then it becomes, with
// riverexec's constructor in place of the comment:
//
//	url := os.Getenv(EnvPGURL)
//	if url == "" {
//		return nil
//	}
//	return &Strategy{
//		Name: "execkit-riverexec", Family: FamilyProcess, Lang: LangGo,
//		Baseline: "raw-pipe", Python: "py-mp-pool",
//		Module: "github.com/execkit/execkit/riverexec",
//		Doc:   "execkit riverexec: tasks as River jobs in PostgreSQL",
//		Kinds: []Kind{KindBatch, KindRoundTrip}, Only: []string{"noop", "roundtrip"},
//		New: func(w *Workload) (Runner, error) {
//			ex, err := /* riverexec.New(ctx, url, ...) */
//			if err != nil {
//				return nil, err
//			}
//			return &execRunner{w: w, ex: ex}, nil
//		},
//	}
//
// (bench/go.mod then needs the module and a replace to ../riverexec.)
func riverexecStrategy() *Strategy {
	if os.Getenv(EnvPGURL) == "" {
		return nil
	}
	return nil // riverexec has not landed on main yet
}

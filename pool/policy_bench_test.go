package pool_test

import (
	"context"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/pool"
	"golang.org/x/time/rate"
)

// The functions of the policy cost measurement, as in package execkit's
// BenchmarkPolicy: a no-op body, each with one policy that never acts.
func costBody(_ context.Context, n int) (int, error) { return n, nil }

var policyCosts = []struct {
	name string
	f    *execkit.Func[int, int]
}{
	{"none", execkit.Register("pool_test.cost.none", costBody)},
	{"TimeLimit", execkit.Register("pool_test.cost.timelimit", costBody, execkit.TimeLimit(time.Hour))},
	{"Retry", execkit.Register("pool_test.cost.retry", costBody, execkit.Retry(2))},
	{"RateLimit", execkit.Register("pool_test.cost.ratelimit", costBody, execkit.RateLimit(rate.Inf))},
	{"all", execkit.Register("pool_test.cost.all", costBody, execkit.TimeLimit(time.Hour), execkit.Retry(2), execkit.RateLimit(rate.Inf))},
}

// BenchmarkPolicy measures what each policy adds to a call of a no-op
// registered function through Func.Go + Wait on a pool of 2 workers.
func BenchmarkPolicy(b *testing.B) {
	ctx := context.Background()
	p, err := pool.New(2)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := p.Shutdown(ctx); err != nil {
			b.Error(err)
		}
	}()
	for _, pc := range policyCosts {
		b.Run("executor=pool/policy="+pc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pc.f.Go(ctx, p, 1).Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

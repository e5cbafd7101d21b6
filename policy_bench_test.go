package execkit_test

import (
	"context"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"golang.org/x/time/rate"
)

// The functions of the policy cost measurements: one no-op body, each
// registered with one policy that never acts (the limit is never reached,
// the call succeeds at once, the rate is infinite), so that what is
// measured is the policy's bookkeeping, not its effect.
func costBody(_ context.Context, n int) (int, error) { return n, nil }

var policyCosts = []struct {
	name   string
	f      *execkit.Func[int, int]
	budget float64 // allocations of Func.Go + Wait on Inline, at most
}{
	// The Future, its done channel, the task, the task's cancellable
	// context with its cancel function: 5, as at 124d139^, the commit
	// before policies.
	{"none", execkit.Register("test.cost.none", costBody), 5},
	// +7: the attempt's context.WithTimeoutCause (its context, timer,
	// cancel function, Done channel and its place among the task
	// context's children).
	{"TimeLimit", execkit.Register("test.cost.timelimit", costBody, execkit.TimeLimit(time.Hour)), 12},
	// +0: a first attempt that succeeds costs nothing more.
	{"Retry", execkit.Register("test.cost.retry", costBody, execkit.Retry(2)), 5},
	// +2: the task context's Done channel, which rate.Limiter.Wait asks
	// for, and the closure policy.limiter hands to the scope's Local on
	// every call, though the bucket exists after the first.
	{"RateLimit", execkit.Register("test.cost.ratelimit", costBody, execkit.RateLimit(rate.Inf)), 7},
	// TimeLimit's 7 and the limiter's closure.
	{"all", execkit.Register("test.cost.all", costBody, execkit.TimeLimit(time.Hour), execkit.Retry(2), execkit.RateLimit(rate.Inf)), 13},
}

// TestPolicyAllocs pins the allocations of a call through Func.Go + Wait
// on Inline per policy: a Func without a policy costs what it did before
// policies, and each policy its budget above that.
func TestPolicyAllocs(t *testing.T) {
	ex := &execkit.Inline{}
	ctx := context.Background()
	for _, pc := range policyCosts {
		got := testing.AllocsPerRun(1000, func() {
			if v, err := pc.f.Go(ctx, ex, 1).Wait(ctx); v != 1 || err != nil {
				t.Fatalf("policy=%s: Wait = %d, %v; want 1, nil", pc.name, v, err)
			}
		})
		if got > pc.budget {
			t.Errorf("policy=%s: Func.Go + Wait on Inline: %v allocs per call; want at most %v", pc.name, got, pc.budget)
		}
	}
}

// BenchmarkPolicy measures what each policy adds to a call of a no-op
// registered function through Func.Go + Wait on Inline; package pool's
// BenchmarkPolicy does the same on a pool (importing pool here would bring
// ants' import-time goroutines into this package's leak check).
func BenchmarkPolicy(b *testing.B) {
	ctx := context.Background()
	ex := &execkit.Inline{}
	for _, pc := range policyCosts {
		b.Run("executor=Inline/policy="+pc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pc.f.Go(ctx, ex, 1).Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

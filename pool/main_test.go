package pool_test

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// antsGoroutines are the goroutines that importing package pool leaves
// running: the housekeeping pair of ants' default pool, which ants creates
// at import time. They are ignored by their top function, exactly these two
// and nothing else; TestImportGoroutines checks that the list is complete.
var antsGoroutines = []string{
	"github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers",
	"github.com/panjf2000/ants/v2.(*poolCommon).ticktock",
}

// atStart holds the ids of the goroutines running when TestMain began,
// before any test: what the import left behind, and TestMain's own.
var atStart []string

func TestMain(m *testing.M) {
	for _, g := range goroutines() {
		atStart = append(atStart, g.id)
	}
	var opts []goleak.Option
	for _, fn := range antsGoroutines {
		opts = append(opts, goleak.IgnoreTopFunction(fn))
	}
	goleak.VerifyTestMain(m, opts...)
	os.Exit(0) // not reached: VerifyTestMain exits
}

// TestImportGoroutines checks what a blank import of pool leaves running:
// the goroutines that existed when TestMain began, other than its own, are
// exactly the ants pair, and they are still there (parked, so their top
// functions are the ones above).
func TestImportGoroutines(t *testing.T) {
	want := slices.Sorted(slices.Values(antsGoroutines))
	var got []string
	// Until first scheduled, the two show their go statements' wrappers
	// (goPurge.gowrap1, ...) on top, and briefly the timers they start: wait
	// for them to park.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = got[:0]
		for _, g := range goroutines() {
			if slices.Contains(atStart[1:], g.id) { // [0] is TestMain's goroutine
				got = append(got, g.top)
			}
		}
		slices.Sort(got)
		if slices.Equal(got, want) || time.Now().After(deadline) {
			break
		}
		runtime.Gosched()
	}
	if !slices.Equal(got, want) {
		t.Errorf("goroutines started by importing pool: got %q; want %q", got, want)
	}
}

type goroutine struct{ id, top string }

// goroutines returns the id and top function of every goroutine, the
// calling goroutine's first.
func goroutines() []goroutine {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var gs []goroutine
	for _, g := range strings.Split(string(buf), "\n\n") {
		lines := strings.SplitN(g, "\n", 3)
		if len(lines) < 2 {
			continue
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(lines[0], "goroutine "), " ")
		top := lines[1]
		if i := strings.LastIndexByte(top, '('); i > 0 {
			top = top[:i]
		}
		gs = append(gs, goroutine{id, top})
	}
	return gs
}

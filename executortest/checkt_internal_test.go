package executortest

import (
	"sync"
	"testing"
)

// TestCheckTAfterItsEnd: a goroutine a check started that reports after
// the check ended (it gave up waiting for a call of the executor) must not
// end the test binary: testing.T panics then ("Fail in goroutine after
// ... has completed"), which took every check after it down.
func TestCheckTAfterItsEnd(t *testing.T) {
	release := make(chan struct{})
	var wg sync.WaitGroup
	var c *checkT
	t.Run("check", func(t *testing.T) {
		c = guard(t)
		for _, report := range []func(){
			func() { c.Errorf("late %d", 1) },
			func() { c.Error("late", 2) },
			func() { c.Fatalf("late %d", 3) },
			func() { c.Fatal("late", 4) },
			c.FailNow,
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-release
				report()
			}()
		}
	})
	close(release) // the subtest has completed
	wg.Wait()
	if c.T.Failed() {
		t.Errorf("a report made after the check ended failed it")
	}
}

package benchwork_test

import (
	"fmt"
	"testing"

	"go.uber.org/goleak"

	"github.com/execkit/execkit/internal/benchwork"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTasksAllocateNothing(t *testing.T) {
	for _, task := range benchwork.Tasks {
		if got := testing.AllocsPerRun(100, task.Run); got != 0 {
			t.Errorf("task %s: got %v allocations per run; want 0", task.Name, got)
		}
	}
}

func BenchmarkSpin(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		benchwork.Spin(benchwork.Rounds1us)
	}
}

func ExampleTasks() {
	for _, task := range benchwork.Tasks {
		task.Run()
		fmt.Println(task.Name)
	}
	// Output:
	// noop
	// cpu1us
}

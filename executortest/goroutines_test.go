package executortest_test

import (
	"testing"

	"github.com/execkit/execkit/executortest"
)

// TestGoroutines runs the suite on the executor of the package example, so
// that the example shows an executor that passes it.
func TestGoroutines(t *testing.T) {
	executortest.Run(t, newExecutor)
}

package errgroup_test

import (
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
	"github.com/execkit/execkit/executortest"
)

// TestConformance runs the executor contract suite in its fail-fast mode,
// without and with a limit. A group has no error handler: task errors are
// the group's result, so onError is not used.
func TestConformance(t *testing.T) {
	tests := []struct {
		name  string
		opts  []errgroup.Option
		suite []executortest.Option
	}{
		{"unlimited", nil, []executortest.Option{executortest.FailFast(), executortest.AdmitsFollowUp()}},
		{"Limit", []errgroup.Option{errgroup.Limit(3)}, []executortest.Option{executortest.FailFast(), executortest.Blocking(3), executortest.AdmitsFollowUp()}},
		{"AllErrors", []errgroup.Option{errgroup.AllErrors()}, []executortest.Option{executortest.FailFast(), executortest.AdmitsFollowUp()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			executortest.Run(t, func(t *testing.T, _ func(error)) execkit.Executor {
				g, err := errgroup.New(tt.opts...)
				if err != nil {
					t.Fatal(err)
				}
				return g
			}, tt.suite...)
		})
	}
}

package fireforget_test

import (
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/executortest"
	"github.com/execkit/execkit/fireforget"
)

func TestConformance(t *testing.T) {
	tests := []struct {
		name  string
		opts  []fireforget.Option
		suite []executortest.Option
	}{
		{"unbounded", nil, nil},
		{"limit=4", []fireforget.Option{fireforget.Limit(4)}, []executortest.Option{executortest.Blocking(4)}},
		// The suite's Map check submits 30 tasks at once, which a rejecting
		// executor refuses beyond its capacity: give it room for them.
		{"limit=64,reject", []fireforget.Option{fireforget.Limit(64), fireforget.RejectAtLimit()}, []executortest.Option{executortest.Rejecting(64)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			executortest.Run(t, func(t *testing.T, onError func(error)) execkit.Executor {
				e, err := fireforget.New(append(tt.opts, fireforget.OnError(onError))...)
				if err != nil {
					t.Fatal(err)
				}
				return e
			}, append(tt.suite, executortest.AdmitsFollowUp())...)
		})
	}
}

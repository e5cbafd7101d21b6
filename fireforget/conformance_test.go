package fireforget

import (
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/executortest"
)

func TestConformance(t *testing.T) {
	tests := []struct {
		name  string
		opts  []Option
		suite []executortest.Option
	}{
		{"unbounded", nil, nil},
		{"limit=4", []Option{Limit(4)}, []executortest.Option{executortest.Blocking(4)}},
		// The suite's Map check submits 30 tasks at once, which a rejecting
		// executor refuses beyond its capacity: give it room for them.
		{"limit=64,reject", []Option{Limit(64), RejectAtLimit()}, []executortest.Option{executortest.Rejecting(64)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			executortest.Run(t, func(t *testing.T, onError func(error)) execkit.Executor {
				e, err := New(append(tt.opts, OnError(onError))...)
				if err != nil {
					t.Fatal(err)
				}
				return e
			}, append(tt.suite, executortest.AdmitsFollowUp())...)
		})
	}
}

package fireforget

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/execkit/execkit"
)

func greet(ctx context.Context, msg string) error {
	if msg == "" {
		return errors.New("empty message")
	}
	return nil
}

func TestBackground(t *testing.T) {
	e, _ := newExec(t)
	task := Background(e, greet)
	a, b := task(context.Background(), "task1"), task(context.Background(), "")
	if err := a.Join(context.Background()); err != nil {
		t.Errorf("Join: got %v; want nil", err)
	}
	if err := b.Join(context.Background()); err == nil || err.Error() != "empty message" {
		t.Errorf("Join: got %v; want the function's error", err)
	}
	if !strings.HasPrefix(a.Name(), "greet-") {
		t.Errorf("Name: got %q; want greet-<id>", a.Name())
	}
	if b.ID() <= a.ID() {
		t.Errorf("IDs: got %d then %d; want increasing", a.ID(), b.ID())
	}
}

func TestBackgroundLimit(t *testing.T) {
	tests := []struct {
		name   string
		opts   []Option
		cancel bool
		want   error
	}{
		{"reject", []Option{Limit(1), RejectAtLimit()}, false, execkit.ErrFull},
		{"wait until ctx ends", []Option{Limit(1)}, true, context.Canceled},
		{"wait for a slot", []Option{Limit(1)}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newExec(t)
			started, release := make(chan struct{}), make(chan struct{})
			task := Background(e, func(ctx context.Context, block bool) error {
				if block {
					started <- struct{}{}
					<-release
				}
				return nil
			}, tt.opts...)
			first := task(context.Background(), true)
			<-started
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res := make(chan *Thread, 1)
			go func() { res <- task(ctx, false) }()
			if tt.cancel {
				cancel()
			} else if tt.want == nil {
				close(release)
			}
			second := <-res
			if err := second.Join(context.Background()); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("second call at the limit: got %v; want %v", err, tt.want)
			}
			if tt.want != nil {
				close(release)
			}
			if err := first.Join(context.Background()); err != nil {
				t.Errorf("first call: got %v; want nil", err)
			}
		})
	}
}

func TestBackgroundPanicsOnMisuse(t *testing.T) {
	e, _ := newExec(t)
	tests := []struct {
		name string
		call func()
	}{
		{"nil executor", func() { Background[int](nil, func(context.Context, int) error { return nil }) }},
		{"nil function", func() { Background[int](e, nil) }},
		{"bad option", func() { Background(e, greet, TTL(1)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "fireforget: ") {
					t.Errorf("recovered %v; want a panic message starting with fireforget:", r)
				}
			}()
			tt.call()
		})
	}
}

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
		{"nil *Executor", func() { Background(execkit.Executor((*Executor)(nil)), greet) }},
		{"nil Option", func() { Background(e, greet, nil) }},
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

// TestBackgroundNestedAtLimit holds what Background's and Limit's docs say
// of a call of a Background function from inside its own fn while every
// slot is held: it returns a failed Thread once its ctx ends (fn's own ctx
// ends when Shutdown gives up), and RejectAtLimit refuses it at once.
func TestBackgroundNestedAtLimit(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		own  bool // the nested call gets fn's ctx; else one the test cancels
		want error
	}{
		{"its ctx ends", []Option{Limit(1)}, false, context.Canceled},
		{"fn's ctx, Shutdown gives up", []Option{Limit(1)}, true, context.Canceled},
		{"RejectAtLimit", []Option{Limit(1), RejectAtLimit()}, false, execkit.ErrFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New()
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calling := make(chan struct{})
			nested := make(chan *Thread, 1)
			var task func(context.Context, int) *Thread
			task = Background(e, func(fnCtx context.Context, depth int) error {
				if depth > 0 {
					return nil
				}
				close(calling)
				if tt.own {
					nested <- task(fnCtx, depth+1)
				} else {
					nested <- task(ctx, depth+1)
				}
				return nil
			}, tt.opts...)
			outer := task(context.Background(), 0)
			<-calling
			if tt.own {
				gaveUp, giveUp := context.WithCancel(context.Background())
				giveUp()
				if err := e.Shutdown(gaveUp); !errors.Is(err, context.Canceled) {
					t.Errorf("Shutdown with an ended ctx: got %v; want context.Canceled", err)
				}
			} else {
				cancel()
			}
			if err := (<-nested).Join(context.Background()); !errors.Is(err, tt.want) {
				t.Errorf("nested call: its Thread got %v; want %v", err, tt.want)
			}
			if err := outer.Join(context.Background()); err != nil {
				t.Errorf("outer call: got %v; want nil", err)
			}
			if err := e.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown: got %v; want nil", err)
			}
		})
	}
}

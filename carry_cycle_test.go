package execkit_test

import (
	"context"
	"errors"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

type (
	selfSlice []any
	selfMap   map[string]selfMap
	tree      struct {
		Kids []*tree
	}
)

// listOf returns a linked list of n nodes.
func listOf(n int) *recursive {
	var head *recursive
	for i := range n {
		head = &recursive{V: i, Next: head}
	}
	return head
}

// A value that points back into itself, or nests deeper than gob's
// recursion can go, is refused with an error: gob would recurse until the
// goroutine's stack overflows, a fatal error that no recover catches and
// that ends the process (the caller's, for an argument). A shared pointer
// is not a cycle, and a value of a recursive type that ends still travels.
func TestGobCodecRefusesCyclesAndDepth(t *testing.T) {
	// Gob's recursion on the old code took a 1 GB stack to fail; 256 MB
	// makes it fail sooner, and holds far more than the limit needs.
	defer debug.SetMaxStack(debug.SetMaxStack(256 << 20))
	var c execkit.GobCodec

	loop := &recursive{V: 1}
	loop.Next = &recursive{V: 2, Next: loop}
	viaAny := &holder{}
	viaAny.V = viaAny
	s := selfSlice{1, nil}
	s[1] = s
	m := selfMap{"a": {}}
	m["a"]["b"] = m
	const loops, deep = "points back to a value that holds it", "nests more than 10000"
	for _, tt := range []struct {
		name string
		v    any
		want string
	}{
		{"pointer loop", loop, loops},
		{"loop through an interface", viaAny, loops},
		{"loop in a struct held by an interface", holder{V: loop}, loops},
		{"slice holding itself", s, loops},
		{"map holding itself", m, loops},
		{"list too deep", listOf(200_000), deep},
		{"list too deep behind an interface", holder{V: listOf(200_000)}, deep},
	} {
		_, err := c.Marshal(tt.v)
		if err == nil || !strings.HasPrefix(err.Error(), "execkit: GobCodec cannot carry") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Marshal(%s) = %v; want a refusal saying it %s", tt.name, err, tt.want)
		}
	}

	// Through a Func: ErrPayload, and nothing is sent.
	sent := false
	err := holderFunc.Task(holder{V: loop}).(driver.Portable).RunVia(context.Background(), func(ctx context.Context, name string, payload []byte) ([]byte, error) {
		sent = true
		return nil, nil
	})
	if !errors.Is(err, execkit.ErrPayload) || sent {
		t.Errorf("RunVia of a cyclic argument = %v (sent %v); want ErrPayload, nothing sent", err, sent)
	}

	// What ends travels, shared pointers included.
	shared := &tree{}
	for _, v := range []any{listOf(1000), &tree{Kids: []*tree{shared, shared, {Kids: []*tree{shared}}}}, holder{V: point{1, 2}}} {
		b, err := c.Marshal(v)
		if err != nil {
			t.Errorf("Marshal(%T) = %v; want it encoded", v, err)
			continue
		}
		got := reflect.New(reflect.TypeOf(v))
		if err := c.Unmarshal(b, got.Interface()); err != nil {
			t.Errorf("Unmarshal(%T) = %v", v, err)
		}
	}
	b, err := c.Marshal(listOf(1000))
	var l *recursive
	if err != nil || c.Unmarshal(b, &l) != nil {
		t.Fatalf("round trip of a 1000-node list: %v", err)
	}
	for i := 999; i >= 0; i-- {
		if l == nil || l.V != i {
			t.Fatalf("list arrived changed at node %d: %+v", i, l)
		}
		l = l.Next
	}
}

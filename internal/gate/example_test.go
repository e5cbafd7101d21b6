package gate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/execkit/execkit/internal/gate"
)

func ExampleGate() {
	var g gate.Gate
	g.Init(1, -1, gate.Monotonic)
	fmt.Println(g.Try() == gate.Acquired, g.Try() == gate.Full)

	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	fmt.Println(g.Wait(ctx)) // the one slot stays taken

	g.Release()
	g.Close()
	<-g.Idle()
	fmt.Println(g.Try() == gate.Closed)
	// Output:
	// true true
	// context deadline exceeded
	// true
}

package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/execkit/execkit/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// want is the output of both versions: the server's handlers coordinate so
// that every run tells the same story.
const want = `/a: ok (hello from a)
/b: failed: HTTP 500: b is broken
/c: cancelled (cause: HTTP 500: b is broken)
/d: not started
first error: HTTP 500: b is broken
`

// TestExample runs both versions and compares their output with want.
func TestExample(t *testing.T) {
	for _, v := range extest.Versions() {
		t.Run(v.Name, func(t *testing.T) {
			cmd := v.Command(t)
			if got := extest.Run(t, nil, cmd[0], cmd[1:]...); got != want {
				t.Errorf("output:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/execkit/execkit/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestExample runs both versions with short sleeps; they print the same,
// the attempts their flaky and stuck tasks counted included.
func TestExample(t *testing.T) {
	const want = `map: 0 1 4 9 16 25 36 49 64 81
task1 done
task2 done
flaky: ok on attempt 3
stuck: time limit exceeded after 3 attempts
map after the time limits: 0 1 4 9 16 25 36 49 64 81
`
	for _, v := range extest.Versions() {
		t.Run(v.Name, func(t *testing.T) {
			cmd := v.Command(t)
			if got := extest.Run(t, nil, cmd[0], append(cmd[1:], "--sleep", "0.01")...); got != want {
				t.Errorf("printed:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/execkit/execkit/examples/internal/extest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestExample runs both versions. The two tasks run concurrently, so their
// lines may interleave in any order, except that each task starts before it
// ends.
func TestExample(t *testing.T) {
	for _, v := range extest.Versions() {
		t.Run(v.Name, func(t *testing.T) {
			cmd := v.Command(t)
			out := extest.Run(t, nil, cmd[0], append(cmd[1:], "--delay", "0.2")...)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			sorted := slices.Sorted(slices.Values(lines))
			want := []string{"task1 end", "task1 start", "task2 end", "task2 start"}
			if !slices.Equal(sorted, want) {
				t.Fatalf("lines: got %q; want the four of %q in some order", lines, want)
			}
			for _, msg := range []string{"task1", "task2"} {
				start, end := slices.Index(lines, msg+" start"), slices.Index(lines, msg+" end")
				if start > end {
					t.Errorf("%s ended before it started: %q", msg, lines)
				}
			}
		})
	}
}

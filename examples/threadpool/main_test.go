package main

import (
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/execkit/execkit/examples/internal/extest"
)

// The test binary links package pool, hence ants, whose default pool starts
// these two goroutines at import time (see package pool's doc).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"))
}

// TestExample runs both versions with short sleeps.
func TestExample(t *testing.T) {
	for _, v := range extest.Versions() {
		t.Run(v.Name, func(t *testing.T) {
			cmd := v.Command(t)
			out := extest.Run(t, nil, cmd[0], append(cmd[1:], "--sleep", "0.02")...)
			check(t, strings.Split(strings.TrimSuffix(out, "\n"), "\n"))
		})
	}
}

// check: every task prints start, then stop, then its callback runs; no
// more than three tasks are between start and stop at any line; the lines
// of different tasks may interleave in any other way.
func check(t *testing.T, lines []string) {
	t.Helper()
	tasks := []string{"task1", "task2", "task3", "task4", "task5"}
	var want []string
	for _, task := range tasks {
		want = append(want, task+" start", task+" stop", "callback: "+task+" done")
	}
	if got := slices.Sorted(slices.Values(lines)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Fatalf("output lines:\n%s\nwant these %d in some order:\n%s", strings.Join(lines, "\n"), len(want), strings.Join(want, "\n"))
	}
	for _, task := range tasks {
		start, stop, cb := slices.Index(lines, task+" start"), slices.Index(lines, task+" stop"), slices.Index(lines, "callback: "+task+" done")
		if !(start < stop && stop < cb) {
			t.Errorf("%s: start at line %d, stop at %d, callback at %d; want that order", task, start, stop, cb)
		}
	}
	running, peak := 0, 0
	for _, line := range lines {
		switch {
		case strings.HasSuffix(line, " start"):
			running++
		case strings.HasSuffix(line, " stop"):
			running--
		}
		peak = max(peak, running)
	}
	if peak > 3 {
		t.Errorf("%d tasks ran at once; want at most 3 (a pool of 3)", peak)
	}
}

package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The test binary links package pool, hence ants, whose default pool starts
// these two goroutines at import time (see package pool's doc).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"))
}

// TestGo builds and runs main.go.
func TestGo(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "threadpool")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	check(t, run(t, bin, "-sleep", "20ms"))
}

// TestPython runs main.py, with its threadpool stand-in.
func TestPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH: skipping the run of main.py (install python3 to check it)")
	}
	check(t, run(t, py, "main.py", "--sleep", "0.02"))
}

func run(t *testing.T, name string, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\nstderr:\n%s", name, args, err, stderr.String())
	}
	return strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
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

// Package extest holds what the examples' tests share: building the Go
// version of an example, finding python3 for its Python version, and
// running either with a bound on its time.
package extest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Timeout bounds one run of an example program.
const Timeout = 2 * time.Minute

// BuildGo builds the example in the test's working directory (its
// package main) into a temporary directory and returns the binary's path.
func BuildGo(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "example")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Python returns the path of python3, or skips the test with a message
// saying why when it is not on PATH.
func Python(t testing.TB) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH: skipping the run of main.py (install python3 to check it)")
	}
	return py
}

// Run runs name with args to completion and returns its standard output;
// it fails the test, with the standard error, when the program fails.
func Run(t testing.TB, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\nstdout:\n%s\nstderr:\n%s", name, args, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

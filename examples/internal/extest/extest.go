package extest

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// Serve starts the server program name with args, reads the first line of
// its standard output, which must be "listening on <URL>", and returns the
// URL. When the test ends it interrupts the program and waits for it to
// exit (killing it after Timeout), failing the test if it exits with an
// error.
func Serve(t testing.TB, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, r) // until the program exits
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%s exited with %v; stderr:\n%s", name, err, stderr.String())
			}
		case <-time.After(Timeout):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("%s did not exit on an interrupt; killed it", name)
		}
	})
	var line string
	select {
	case line = <-lines:
	case <-time.After(Timeout):
		t.Fatalf("%s printed no first line in %v", name, Timeout)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("%s: first line %q; want \"listening on <URL>\"", name, line)
	}
	return url
}

// A Version is one implementation of an example: "go" (main.go, built) or
// "python" (main.py, run with python3).
type Version struct {
	Name string
	// Command returns the program and its first arguments; the python
	// version's skips the test when python3 is not on PATH.
	Command func(t testing.TB) []string
}

// Versions returns the Go version and the Python version of the example in
// the test's working directory, for a table test that runs both.
func Versions() []Version {
	return []Version{
		{"go", func(t testing.TB) []string { return []string{BuildGo(t)} }},
		{"python", func(t testing.TB) []string { return []string{Python(t), "main.py"} }},
	}
}

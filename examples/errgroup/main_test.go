package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
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

// TestGo builds and runs main.go.
func TestGo(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "errgroup")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if got := run(t, bin); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

// TestPython runs main.py.
func TestPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH: skipping the run of main.py (install python3 to check it)")
	}
	if got := run(t, py, "main.py"); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\nstderr:\n%s", name, args, err, stderr.String())
	}
	return stdout.String()
}

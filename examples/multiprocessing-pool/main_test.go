package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const want = `map: 0 1 4 9 16 25 36 49 64 81
task1 done
task2 done
`

func TestGo(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "multiprocessing-pool")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	check(t, exec.Command(bin, "-sleep=10ms"))
}

func TestPython(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not on PATH: skipping the Python original")
	}
	check(t, exec.Command("python3", "main.py", "--sleep=0.01"))
}

func check(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	if string(out) != want {
		t.Errorf("%v printed:\n%s\nwant:\n%s", cmd.Args, out, want)
	}
}

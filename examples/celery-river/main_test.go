package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const want = `photo0.jpg -> thumb_320px_photo0.jpg
photo1.jpg -> thumb_320px_photo1.jpg
photo2.jpg -> thumb_320px_photo2.jpg
photo3.jpg -> thumb_320px_photo3.jpg
photo4.jpg -> thumb_320px_photo4.jpg
error: thumbnail bad.jpg: width 0 is not positive
job by id: SUCCESS
never issued: UNKNOWN
`

// database returns the server's URL; it skips the test without a server
// (fails it under CI).
func database(t *testing.T) string {
	t.Helper()
	url := os.Getenv("EXECKIT_PG_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("EXECKIT_PG_URL is not set under CI=true: start PostgreSQL first (riverexec/testdata/pg.sh)")
		}
		t.Skip("EXECKIT_PG_URL is not set: this example needs PostgreSQL (see README.md to start one)")
	}
	return url
}

// freshSchema returns an unused schema name, dropped when the test ends.
func freshSchema(t *testing.T, url string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := "celery_river_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Error(err)
			return
		}
		defer pool.Close()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	return schema
}

// build compiles the example.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "celery-river")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// command makes a command of the example against url.
func command(bin, url string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "EXECKIT_PG_URL="+url)
	cmd.Stderr = os.Stderr
	return cmd
}

// checkOutput runs a submitter and compares its output with want.
func checkOutput(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v", cmd, err)
	}
	if string(out) != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

func TestExample(t *testing.T) {
	url := database(t)
	bin := build(t)
	t.Run("one process", func(t *testing.T) {
		checkOutput(t, command(bin, url, "-schema="+freshSchema(t, url)))
	})
	t.Run("worker processes", func(t *testing.T) {
		schema := freshSchema(t, url)
		var workers []*exec.Cmd
		for range 2 { // one after the other: each creates the tables if missing
			w := command(bin, url, "-mode=work", "-schema="+schema)
			stdout, err := w.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Start(); err != nil {
				t.Fatal(err)
			}
			workers = append(workers, w)
			defer w.Process.Kill()
			if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "worker ready\n" {
				t.Fatalf("worker said %q, %v; want worker ready", line, err)
			}
		}
		checkOutput(t, command(bin, url, "-mode=submit", "-schema="+schema))
		for _, w := range workers {
			_ = w.Process.Signal(syscall.SIGTERM)
			if err := w.Wait(); err != nil {
				t.Errorf("worker after SIGTERM: %v; want a clean exit", err)
			}
		}
	})
	t.Run("python", func(t *testing.T) {
		t.Skip("main.py is a Celery app: it needs the celery package and a Redis broker, so it is for reading, not run here")
	})
}

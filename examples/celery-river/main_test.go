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

// database returns the server's URL and a fresh schema name, dropped when
// the test ends; it skips the test without a server (fails it under CI).
func database(t *testing.T) (url, schema string) {
	t.Helper()
	url = os.Getenv("EXECKIT_PG_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("EXECKIT_PG_URL is not set under CI=true: start PostgreSQL first (riverexec/testdata/pg.sh)")
		}
		t.Skip("EXECKIT_PG_URL is not set: this example needs PostgreSQL (see README.md to start one)")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema = "celery_river_" + hex.EncodeToString(b[:])
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
	return url, schema
}

// build compiles the example once per test.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "celery-river")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestExample(t *testing.T) {
	url, schema := database(t)
	bin := build(t)
	t.Run("one process", func(t *testing.T) {
		cmd := exec.Command(bin, "-schema="+schema+"_1")
		cmd.Env = append(os.Environ(), "EXECKIT_PG_URL="+url)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		if string(out) != want {
			t.Errorf("output:\n%s\nwant:\n%s", out, want)
		}
		dropLater(t, url, schema+"_1")
	})
	t.Run("worker processes", func(t *testing.T) {
		var workers []*exec.Cmd
		for range 2 {
			w := exec.Command(bin, "-mode=work", "-schema="+schema)
			w.Env = append(os.Environ(), "EXECKIT_PG_URL="+url)
			w.Stderr = os.Stderr
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
		cmd := exec.Command(bin, "-mode=submit", "-schema="+schema)
		cmd.Env = append(os.Environ(), "EXECKIT_PG_URL="+url)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		if string(out) != want {
			t.Errorf("output:\n%s\nwant:\n%s", out, want)
		}
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

// dropLater drops another schema when the test ends.
func dropLater(t *testing.T, url, schema string) {
	t.Cleanup(func() {
		ctx := context.Background()
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			return
		}
		defer pool.Close()
		_, _ = pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
}

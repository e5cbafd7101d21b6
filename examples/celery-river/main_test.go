package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/execkit/execkit/examples/internal/extest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// want is what the Go program prints; main.py prints the same but for its
// last line (Celery says PENDING for an id it never issued).
const want = `photo0.jpg -> thumb_320px_photo0.jpg
photo1.jpg -> thumb_320px_photo1.jpg
photo2.jpg -> thumb_320px_photo2.jpg
photo3.jpg -> thumb_320px_photo3.jpg
photo4.jpg -> thumb_320px_photo4.jpg
error: thumbnail bad.jpg: width 0 is not positive
job by id: SUCCESS
order's job: SUCCESS
rates: fetched on attempt 3
report: time limit exceeded after 3 attempts
never issued: UNKNOWN
`

// postgresURL returns the server's URL; it skips the test without a server
// (fails it under CI).
func postgresURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("EXECKIT_PG_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("EXECKIT_PG_URL is not set under CI=true: start PostgreSQL first (riverexec/testdata/pg.sh)")
		}
		t.Skip("EXECKIT_PG_URL is not set: the -db=postgres runs need PostgreSQL (see README.md to start one)")
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

// checkOutput runs a submitter and compares its output with want.
func checkOutput(t *testing.T, cmd *exec.Cmd, want string) {
	t.Helper()
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v", cmd, err)
	}
	if string(out) != want {
		t.Errorf("%v printed:\n%s\nwant:\n%s", cmd.Args, out, want)
	}
}

// startWorkers starts n worker processes of the example with args and
// stops them (SIGTERM, then a clean exit expected) when the test ends.
func startWorkers(t *testing.T, n int, bin string, env []string, args ...string) {
	t.Helper()
	for range n { // one after the other: each creates the tables if missing
		w := exec.Command(bin, append([]string{"-mode=work"}, args...)...)
		w.Env = env
		w.Stderr = os.Stderr
		stdout, err := w.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = w.Process.Signal(syscall.SIGTERM)
			if err := w.Wait(); err != nil {
				t.Errorf("worker after SIGTERM: %v; want a clean exit", err)
			}
		})
		if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "worker ready\n" {
			t.Fatalf("worker said %q, %v; want worker ready", line, err)
		}
	}
}

func TestExample(t *testing.T) {
	bin := build(t)
	t.Run("sqlite, one process", func(t *testing.T) {
		checkOutput(t, exec.Command(bin), want)
	})
	t.Run("sqlite, worker processes", func(t *testing.T) {
		file := "-file=" + filepath.Join(t.TempDir(), "jobs.db")
		startWorkers(t, 2, bin, os.Environ(), file)
		checkOutput(t, exec.Command(bin, "-mode=submit", file), want)
	})
	t.Run("postgres, one process", func(t *testing.T) {
		url := postgresURL(t)
		cmd := exec.Command(bin, "-db=postgres", "-schema="+freshSchema(t, url))
		cmd.Env = append(os.Environ(), "EXECKIT_PG_URL="+url)
		checkOutput(t, cmd, want)
	})
	t.Run("postgres, worker processes", func(t *testing.T) {
		url := postgresURL(t)
		env := append(os.Environ(), "EXECKIT_PG_URL="+url)
		schema := "-schema=" + freshSchema(t, url)
		startWorkers(t, 2, bin, env, "-db=postgres", schema)
		cmd := exec.Command(bin, "-mode=submit", "-db=postgres", schema)
		cmd.Env = env
		checkOutput(t, cmd, want)
	})
	t.Run("python", func(t *testing.T) {
		redisURL := celery(t)
		env := append(os.Environ(), "EXECKIT_REDIS_URL="+redisURL)
		var workerLog bytes.Buffer
		w := exec.Command(python, "-m", "celery", "-A", "main", "worker", "--pool=prefork", "--concurrency=2", "--loglevel=WARNING")
		w.Env, w.Stdout, w.Stderr = env, &workerLog, &workerLog
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_ = w.Process.Signal(syscall.SIGTERM)
			if err := w.Wait(); err != nil || t.Failed() {
				t.Logf("celery worker: %v\n%s", err, workerLog.String())
			}
		}()
		cmd := exec.Command(python, "main.py")
		cmd.Env = env
		checkOutput(t, cmd, strings.Replace(want, "never issued: UNKNOWN", "never issued: PENDING", 1))
	})
}

// python is Debian's Python, for which Debian's python3-celery is built.
const python = "/usr/bin/python3"

// celery starts a Redis server for the test (riverexec/testdata/redis.sh)
// and returns its URL. Without Celery or Redis it skips the test with one
// line, or fails it under CI, which installs them.
func celery(t *testing.T) string {
	t.Helper()
	missing := ""
	if err := exec.Command(python, "-c", "import celery, redis").Run(); err != nil {
		missing = python + " cannot import celery and redis (Debian: apt-get install python3-celery python3-redis)"
	} else if _, err := exec.LookPath("redis-server"); err != nil {
		missing = "no redis-server (Debian: apt-get install redis-server)"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(missing + ", under CI=true: .ci/run installs them")
		}
		t.Skip(missing + ": main.py, the Celery side, does not run")
	}
	script := filepath.Join("..", "..", "riverexec", "testdata", "redis.sh")
	out, err := exec.Command("bash", script, "start").Output()
	if err != nil {
		t.Fatalf("%s start: %v", script, err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		env[k] = strings.Trim(v, "'")
	}
	t.Cleanup(func() {
		if out, err := exec.Command("bash", script, "stop", env["EXECKIT_REDIS_DIR"]).CombinedOutput(); err != nil {
			t.Errorf("%s stop: %v\n%s", script, err, out)
		}
	})
	if env["EXECKIT_REDIS_URL"] == "" {
		t.Fatalf("%s start printed %q; want EXECKIT_REDIS_URL", script, out)
	}
	return env["EXECKIT_REDIS_URL"]
}

// TestPythonWithoutCelery: main.py run by an interpreter that cannot
// import Celery (here Python without its site packages, where Debian's
// python3-celery lives) says in one line what it needs and how to install
// it, and exits 1: it printed a traceback.
func TestPythonWithoutCelery(t *testing.T) {
	py := extest.Python(t)
	cmd := exec.Command(py, "-S", "main.py") // -S: no site packages, so no Celery
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("python3 -S main.py: %v; want exit status 1\nstderr:\n%s", err, stderr.String())
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Contains(msg, "\n") || strings.Contains(msg, "Traceback") || !strings.Contains(msg, "needs Celery") || !strings.Contains(msg, "apt-get install python3-celery") {
		t.Errorf("stderr %q; want one line saying it needs Celery and how to install it", msg)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q; want none", stdout.String())
	}
}

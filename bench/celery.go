package bench

import (
	"bufio"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StratCelery is the Celery row: Celery on a Redis broker, the Python
// original of riverexec.
const StratCelery = "py-celery"

// celeryPython is Debian's Python, for which Debian's python3-celery is
// built.
const celeryPython = "/usr/bin/python3"

//go:embed celery/celery_bench.py
var celeryFiles embed.FS

// celeryMissing says why the Celery row cannot run here ("" when it can):
// it needs Celery and the redis client for celeryPython, and redis-server.
var celeryMissing = sync.OnceValue(func() string {
	if err := exec.Command(celeryPython, "-c", "import celery, redis").Run(); err != nil {
		return celeryPython + " cannot import celery and redis (Debian: apt-get install python3-celery python3-redis)"
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		return "no redis-server (Debian: apt-get install redis-server)"
	}
	return ""
})

// celeryStrategy is the Celery row, or nil where Celery or Redis is
// missing. Each sample starts a Redis server on a free loopback port
// (no persistence), a Celery worker (prefork, GOMAXPROCS processes, late
// acknowledgement off: Celery's defaults) and a client process that
// submits; none of that startup is timed.
func celeryStrategy() *Strategy {
	if celeryMissing() != "" {
		return nil
	}
	return &Strategy{
		Name: StratCelery, Family: FamilyPython, Lang: LangPython, Processes: true,
		Doc:      "Celery (Redis broker, results on Redis), worker --pool=prefork -c GOMAXPROCS: delay() per task then get() each; delay().get() one at a time for round trips",
		Kinds:    []Kind{KindBatch, KindRoundTrip},
		Only:     []string{"noop", "roundtrip"},
		MaxTasks: 200,
		New:      newCeleryRunner,
	}
}

// celeryRunner drives the client process; Close stops all three processes.
type celeryRunner struct {
	w       *Workload
	dir     string
	procs   []*exec.Cmd // redis-server, the worker, the client
	toPy    io.WriteCloser
	fromPy  *bufio.Reader
	workLog *syncBuf
}

func newCeleryRunner(w *Workload) (Runner, error) {
	r := &celeryRunner{w: w, workLog: &syncBuf{}}
	if err := r.start(); err != nil {
		return nil, errors.Join(err, r.Close())
	}
	return r, nil
}

func (r *celeryRunner) start() error {
	dir, err := os.MkdirTemp("", "execkit-bench-celery-")
	if err != nil {
		return err
	}
	r.dir = dir
	script, _ := celeryFiles.ReadFile("celery/celery_bench.py")
	if err := os.WriteFile(filepath.Join(dir, "celery_bench.py"), script, 0o644); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	redis := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(dir, "redis.log"))
	if err := r.run(redis); err != nil {
		return err
	}
	if err := waitListening(port, 10*time.Second); err != nil {
		return fmt.Errorf("bench: redis-server: %w", err)
	}
	env := append(os.Environ(), "EXECKIT_REDIS_URL=redis://127.0.0.1:"+strconv.Itoa(port))
	worker := exec.Command(celeryPython, "-m", "celery", "-A", "celery_bench", "worker",
		"--pool=prefork", "--concurrency="+strconv.Itoa(runtime.GOMAXPROCS(0)), "--loglevel=WARNING", "--without-gossip", "--without-mingle")
	worker.Dir, worker.Env, worker.Stdout, worker.Stderr = dir, env, r.workLog, r.workLog
	if err := r.run(worker); err != nil {
		return err
	}
	client := exec.Command(celeryPython, "celery_bench.py")
	client.Dir, client.Env, client.Stderr = dir, env, r.workLog
	if r.toPy, err = client.StdinPipe(); err != nil {
		return err
	}
	out, err := client.StdoutPipe()
	if err != nil {
		return err
	}
	r.fromPy = bufio.NewReader(out)
	return r.run(client)
}

func (r *celeryRunner) run(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("bench: starting %s: %w", cmd.Args[0], err)
	}
	r.procs = append(r.procs, cmd)
	return nil
}

func (r *celeryRunner) Run(ctx context.Context, n int) error {
	cmd := "batch"
	if r.w.Kind == KindRoundTrip {
		cmd = "rt"
	}
	if _, err := fmt.Fprintf(r.toPy, "%s %d\n", cmd, n); err != nil {
		return fmt.Errorf("bench: celery client: %w", err)
	}
	line, err := r.fromPy.ReadString('\n')
	if err != nil {
		return fmt.Errorf("bench: celery client: %w (worker said: %s)", err, r.workLog.String())
	}
	if line = strings.TrimSpace(line); line != "ok" {
		return fmt.Errorf("bench: celery client: %s", line)
	}
	return ctx.Err()
}

// Close stops the client (end of input), then the worker and Redis
// (SIGTERM to their process groups, SIGKILL after 10 seconds), and removes
// the directory.
func (r *celeryRunner) Close() error {
	if r.toPy != nil {
		_ = r.toPy.Close()
	}
	for i := len(r.procs) - 1; i >= 0; i-- {
		p := r.procs[i]
		if i < len(r.procs)-1 || r.toPy == nil { // the client ends on its own
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGTERM)
		}
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	r.procs = nil
	if r.dir != "" {
		return os.RemoveAll(r.dir)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitListening(port int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuf is a buffer the processes' output goroutines share.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 64<<10 { // keep the start: the first error says why
		return len(p), nil
	}
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

package subprocess_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/execkit/execkit/subprocess"
)

// orphanParent is the helper process of TestOrphans: it starts a busy
// pool, prints its workers' pids, and waits to be killed.
func orphanParent() {
	p, err := subprocess.New(3)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	ctx := context.Background()
	for range 10 {
		hang.Go(ctx, p, struct{}{}) // keep them busy
	}
	fmt.Println("ready")
	select {}
}

// TestOrphans SIGKILLs a process with a busy pool: its workers die with it
// (Pdeathsig), within a second.
func TestOrphans(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), modeEnv+"=orphan")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Orphans are re-parented to the nearest subreaper: make it this
	// process, so that it can wait for them (and reap them).
	setSubreaper(t, true)
	defer setSubreaper(t, false)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q, %v; want %q", line, err, "ready\n")
	}
	pids := childrenOf(t, cmd.Process.Pid)
	if len(pids) != 3 {
		t.Errorf("helper has children %v; want its 3 workers", pids)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed := time.Now()
	deadline := time.After(time.Second)
	for _, pid := range pids {
		gone := make(chan error, 1)
		go func() {
			var ws syscall.WaitStatus
			_, err := syscall.Wait4(pid, &ws, 0, nil)
			gone <- err
		}()
		select {
		case err := <-gone:
			if err != nil {
				t.Errorf("waiting for worker %d: %v", pid, err)
			}
		case <-deadline:
			t.Errorf("worker %d still alive %v after its parent was killed", pid, time.Since(killed))
			syscall.Kill(pid, syscall.SIGKILL)
			<-gone
		}
	}
}

func setSubreaper(t *testing.T, on bool) {
	const prSetChildSubreaper = 36
	v := 0
	if on {
		v = 1
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, uintptr(v), 0); errno != 0 {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
}

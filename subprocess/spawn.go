package subprocess

import (
	"os"
	"os/exec"
	"runtime"
)

// spawnRequest asks the spawner to start a process.
type spawnRequest struct {
	cmd  *exec.Cmd
	errc chan error
}

// spawner starts every worker process from one goroutine locked to its OS
// thread. Pdeathsig is delivered when the thread that started a child
// exits, not the process: the Go runtime ends a thread when a goroutine
// locked to it returns, so an ordinary goroutine could leave workers killed
// at random, or, worse, not tied to a thread that lives. This thread lives
// until every worker was reaped.
func (p *Pool) spawner() {
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	defer close(p.spawnerDone)
	for req := range p.spawnc {
		req.errc <- req.cmd.Start()
	}
}

// spawn starts cmd on the spawner's thread.
func (p *Pool) spawn(cmd *exec.Cmd) error {
	req := spawnRequest{cmd: cmd, errc: make(chan error, 1)}
	select {
	case p.spawnc <- req:
		return <-req.errc
	case <-p.stopc:
		return errStopped
	}
}

// environ is the environment of a new worker.
func environ() []string { return append(os.Environ(), envMarker+"=1") }

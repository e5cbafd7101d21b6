package subprocess

import (
	"fmt"
	"syscall"
)

// selfExe names the running binary even if its file was replaced or
// deleted since it started.
const selfExe = "/proc/self/exe"

// sysProcAttr puts a worker in its own process group (so that killing the
// group also kills what its tasks started) and has the kernel kill it when
// the thread that started it ends (see Pool.spawner).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the process group led by pid.
func killGroup(pid int) { syscall.Kill(-pid, syscall.SIGKILL) }

// closeOnExec checks that the protocol fds are open and marks them
// close-on-exec. They stay blocking: a worker reads them like a
// single-threaded program, with no trip through the runtime's poller.
func closeOnExec(fds ...int) error {
	for _, fd := range fds {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return fmt.Errorf("fd %d: %w", fd, err)
		}
		syscall.CloseOnExec(fd)
	}
	return nil
}

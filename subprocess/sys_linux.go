package subprocess

import (
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"unsafe"
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

// hideProtocol moves the protocol pipes, fds 3 to 5, to close-on-exec fds
// at a random height, and puts /dev/null in their place: a task that writes
// to fd 4 or reads fd 3 (by mistake, or a library that assumes them free)
// cannot break the protocol, and programs the task starts do not inherit
// the pipes. The pipes stay blocking: a worker reads them like a
// single-threaded program, with no trip through the runtime's poller. It
// returns the new fds, in the order of fds.
func hideProtocol(fds ...int) ([]int, error) {
	for _, fd := range fds {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return nil, fmt.Errorf("fd %d: %w", fd, err)
		}
	}
	null, err := syscall.Open("/dev/null", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(null)
	moved := make([]int, len(fds))
	for i, fd := range fds {
		nfd, err := dupCloexec(fd, 64+rand.IntN(448))
		if err != nil { // above the fd limit: the lowest free fd will do
			nfd, err = dupCloexec(fd, 10)
		}
		if err != nil {
			return nil, fmt.Errorf("moving fd %d: %w", fd, err)
		}
		if err := syscall.Dup3(null, fd, syscall.O_CLOEXEC); err != nil {
			return nil, fmt.Errorf("replacing fd %d: %w", fd, err)
		}
		moved[i] = nfd
	}
	return moved, nil
}

// dupCloexec duplicates fd to the lowest free fd >= min, close-on-exec.
func dupCloexec(fd, min int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, uintptr(min))
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// waitExit blocks until process pid has exited, without reaping it: the
// zombie keeps its pid and process group reserved until Pool.reap waits
// for it, so that a kill in between cannot reach a recycled pid. It
// returns early if pid is not a child of this process.
func waitExit(pid int) {
	var info [128]byte // siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid), uintptr(unsafe.Pointer(&info)), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if errno != syscall.EINTR {
			return
		}
	}
}

const pPID = 1 // waitid's idtype P_PID

// pipeSize returns the capacity of the pipe f writes to (F_GETPIPE_SZ),
// or a page when it cannot tell.
func pipeSize(f *os.File) int {
	n := 4096
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			if r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, fGetPipeSize, 0); errno == 0 && int(r) > 0 {
				n = int(r)
			}
		})
	}
	return n
}

// fGetPipeSize is F_GETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 8), which
// package syscall does not name.
const fGetPipeSize = 1032

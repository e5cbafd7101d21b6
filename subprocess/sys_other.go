//go:build !linux

package subprocess

import (
	"errors"
	"os"
	"syscall"
)

// Worker processes need Linux: Pdeathsig ties them to the pool's process.
// Elsewhere starting one fails with an error naming the missing file.
const selfExe = "/proc/self/exe (subprocess workers need Linux)"

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(pid int) {}

func hideProtocol(fds ...int) ([]int, error) { return nil, errors.New("subprocess workers need Linux") }

func waitExit(pid int) {}

func pipeSize(*os.File) int { return 4096 }

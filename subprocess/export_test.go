package subprocess

import (
	"syscall"
	"time"
)

// WriteResultPipe writes b to the worker's result pipe, wherever init moved
// it: the tests' stand-in for a task that found the pipe anyway.
func WriteResultPipe(b []byte) error {
	_, err := syscall.Write(protocolFds.results, b)
	return err
}

// SetFrameStall sets the bound of frameStall for the pools started until
// restore is called.
func SetFrameStall(d time.Duration) (restore func()) {
	old := frameStall
	frameStall = d
	return func() { frameStall = old }
}

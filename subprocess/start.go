package subprocess

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// startWorker starts a worker process and does its handshake: HELLO, then
// the initializer, if any. killed reports a worker killed by a signal from
// outside the pool during the handshake.
func (p *Pool) startWorker() (w *worker, killed bool, err error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, false, fmt.Errorf("subprocess: starting a worker: %w", err)
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, false, fmt.Errorf("subprocess: starting a worker: %w", err)
	}
	bellR, bellW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		resR.Close()
		resW.Close()
		return nil, false, fmt.Errorf("subprocess: starting a worker: %w", err)
	}
	w = &worker{
		reqW:      reqW,
		resR:      resR,
		bellW:     bellW,
		ahead:     pipeSize(reqW) / 2,
		stderr:    &tail{max: tailSize},
		wake:      make(chan struct{}, 1),
		serveWake: make(chan struct{}, 1),
		exited:    make(chan struct{}),
	}
	cmd := &exec.Cmd{
		Path:        selfExe,
		Args:        []string{os.Args[0]},
		Env:         environ(),
		ExtraFiles:  []*os.File{reqR, resW, bellR}, // fds 3, 4 and 5
		Stderr:      w.stderr,
		SysProcAttr: sysProcAttr(),
		WaitDelay:   waitDelay,
	}
	if p.cfg.passthrough {
		cmd.Stdout = os.Stdout
		cmd.Stderr = io.MultiWriter(w.stderr, os.Stderr)
	}
	err = p.spawn(cmd)
	reqR.Close()
	resW.Close()
	bellR.Close()
	if err != nil {
		reqW.Close()
		resR.Close()
		bellW.Close()
		if err == errStopped {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("subprocess: starting a worker: %w", err)
	}
	w.cmd, w.pid = cmd, cmd.Process.Pid
	go func() {
		waitExit(w.pid)
		close(w.exited)
	}()
	w.fr = newStallReader(resR, frameStall)
	if err := p.handshake(w); err != nil {
		w.kill(err)
		p.reap(w)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			st := cmd.ProcessState
			ws, _ := st.Sys().(syscall.WaitStatus)
			return nil, ws.Signaled(), fmt.Errorf("subprocess: worker %d %s before its handshake%s", w.pid, exitText(st), stderrText(w.stderr.bytes()))
		}
		return nil, false, err
	}
	return w, false, nil
}

// handshake reads the worker's HELLO and runs the initializer. It is
// bounded: the worker is killed if it has not said hello within
// helloTimeout, or finished starting within the start timeout, or when the
// pool stops meanwhile; handshake then returns why.
func (p *Pool) handshake(w *worker) error {
	helloed := make(chan struct{})
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		helloT := time.NewTimer(min(helloTimeout, p.cfg.startTimeout))
		defer helloT.Stop()
		startT := time.NewTimer(p.cfg.startTimeout)
		defer startT.Stop()
		for {
			select {
			case <-helloed:
				helloed = nil
				helloT.Stop()
				continue
			case <-helloT.C:
				w.kill(fmt.Errorf("subprocess: worker %d did not say hello within %v: %w", w.pid, min(helloTimeout, p.cfg.startTimeout), context.DeadlineExceeded))
			case <-startT.C:
				what := "its handshake"
				if p.cfg.initName != "" {
					what = fmt.Sprintf("the initializer %q", p.cfg.initName)
				}
				w.kill(fmt.Errorf("subprocess: worker %d did not finish starting within %v (StartTimeout): %s had not returned: %w", w.pid, p.cfg.startTimeout, what, context.DeadlineExceeded))
			case <-p.stopc:
				w.kill(errStopped)
			case <-done:
			}
			return
		}
	}()
	err := p.greet(w, helloed)
	close(done)
	<-exited
	if w.killErr != nil {
		return w.killErr // it was killed: not io.EOF, which means it died by itself
	}
	return err
}

// greet does the handshake for handshake; it closes helloed once the
// worker said hello.
func (p *Pool) greet(w *worker, helloed chan<- struct{}) error {
	typ, _, payload, err := w.fr.read()
	if err != nil {
		return err
	}
	if typ != frameHello {
		return fmt.Errorf("%w: worker %d sent frame type %d before HELLO", ErrProtocol, w.pid, typ)
	}
	h, err := decodeHello(payload)
	if err != nil {
		return fmt.Errorf("%w (from worker %d)", err, w.pid)
	}
	if h.version != protocolVersion {
		return fmt.Errorf("%w: worker %d speaks protocol version %d, the pool %d; refused", ErrProtocol, w.pid, h.version, protocolVersion)
	}
	if h.hash != p.hash {
		return fmt.Errorf("%w: worker %d registered other functions than the pool (registry hash %s, want %s); refused: register functions at package level, the same way in every run", ErrProtocol, w.pid, h.hash, p.hash)
	}
	close(helloed)
	if p.cfg.initName == "" {
		return nil
	}
	req := request{name: p.cfg.initName, args: [][]byte{p.cfg.initArg}}
	frame, err := appendFrame(nil, frameInit, 0, req.append)
	if err != nil {
		return fmt.Errorf("subprocess: initializer %q: %w", req.name, err)
	}
	if _, err := w.reqW.Write(frame); err != nil {
		return io.EOF // it died: the caller reports how
	}
	typ, id, payload, err := w.fr.read()
	if err != nil {
		return err
	}
	if typ != frameResult || id != 0 {
		return fmt.Errorf("%w: worker %d answered the initializer with frame type %d for call %d", ErrProtocol, w.pid, typ, id)
	}
	outs, _, err := decodeOutcomes(payload) // the initializer's policy counts: not a task's
	if err != nil {
		return fmt.Errorf("%w (from worker %d)", err, w.pid)
	}
	if len(outs) != 1 && len(outs) != 2 { // a batch of one: see request
		return fmt.Errorf("%w: worker %d answered the initializer with %d outcomes", ErrProtocol, w.pid, len(outs))
	}
	err = errorOf(req.name, outs[0], nil)
	if err == nil && len(outs) == 2 {
		err = errorOf(req.name, outs[1], nil)
	}
	if err != nil {
		return fmt.Errorf("subprocess: initializer %q failed in worker %d: %w", req.name, w.pid, err)
	}
	return nil
}

// frameStall bounds the wait for the rest of a frame from a worker once its
// first byte arrived (see newStallReader); the worker is then killed. A
// frame of 64 MiB crosses a pipe in tens of milliseconds. A variable, for
// the tests.
var frameStall = 10 * time.Second

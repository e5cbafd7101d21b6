package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
)

// processStrategies are the ways of running a task in another process
// written without execkit: the raw pipe floor.
func processStrategies() []*Strategy {
	return []*Strategy{{
		Name: "raw-pipe", Family: FamilyProcess, Lang: LangGo, Python: "py-mp-pool",
		Doc:   "the floor: GOMAXPROCS re-executed children echoing 12-byte frames on stdin/stdout, no codec, no registry",
		Kinds: []Kind{KindBatch, KindRoundTrip, KindMap}, Only: []string{"noop", "roundtrip", "map"},
		New: newPipeRunner,
	}}
}

// The raw pipe frame: a 4-byte little-endian length, then the payload (the
// task's argument, 8 bytes). The child echoes every frame.
const pipePayload = 8

type pipeRunner struct {
	w    *Workload
	kids []*pipeKid
}

type pipeKid struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	w   *bufio.Writer
	r   *bufio.Reader
}

func newPipeRunner(w *Workload) (Runner, error) {
	r := &pipeRunner{w: w}
	for range runtime.GOMAXPROCS(0) {
		k, err := startPipeKid()
		if err != nil {
			r.Close()
			return nil, err
		}
		r.kids = append(r.kids, k)
	}
	return r, nil
}

func startPipeKid() (*pipeKid, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: raw pipe: %w", err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envChild+"="+childPipeEcho)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: raw pipe: start child: %w", err)
	}
	return &pipeKid{cmd: cmd, in: in, w: bufio.NewWriterSize(in, 64<<10), r: bufio.NewReaderSize(out, 64<<10)}, nil
}

func (k *pipeKid) send(x int) error {
	var f [4 + pipePayload]byte
	binary.LittleEndian.PutUint32(f[:4], pipePayload)
	binary.LittleEndian.PutUint64(f[4:], uint64(x))
	_, err := k.w.Write(f[:])
	return err
}

func (k *pipeKid) recv() (int, error) {
	var f [4 + pipePayload]byte
	if _, err := io.ReadFull(k.r, f[:]); err != nil {
		return 0, err
	}
	if binary.LittleEndian.Uint32(f[:4]) != pipePayload {
		return 0, errors.New("bench: raw pipe: bad frame")
	}
	return int(binary.LittleEndian.Uint64(f[4:])), nil
}

func (r *pipeRunner) Run(ctx context.Context, n int) error {
	if r.w.Kind == KindRoundTrip {
		k := r.kids[0]
		for i := range n {
			if err := k.send(i); err != nil {
				return err
			}
			if err := k.w.Flush(); err != nil {
				return err
			}
			got, err := k.recv()
			if err != nil {
				return err
			}
			if got != i {
				return fmt.Errorf("bench: raw pipe: got %d; want %d", got, i)
			}
		}
		return nil
	}
	// Pipelined: frames go round robin to the children, flushed every 64
	// frames; one reader per child collects the echoes.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for j, k := range r.kids {
		want := n / len(r.kids)
		if j < n%len(r.kids) {
			want++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range want {
				if _, err := k.recv(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	var werr error
	for i := 0; i < n && werr == nil; i++ {
		k := r.kids[i%len(r.kids)]
		werr = k.send(i)
		if werr == nil && (i/len(r.kids))%64 == 63 {
			werr = k.w.Flush()
		}
	}
	for _, k := range r.kids {
		if err := k.w.Flush(); err != nil && werr == nil {
			werr = err
		}
	}
	if werr != nil {
		r.Close() // unblocks the readers
	}
	wg.Wait()
	return errors.Join(append(errs, werr)...)
}

func (r *pipeRunner) Close() error {
	var errs []error
	for _, k := range r.kids {
		k.in.Close() // the child exits at EOF
		errs = append(errs, k.cmd.Wait())
	}
	r.kids = nil
	return errors.Join(errs...)
}

// servePipeEcho is the raw pipe child: it echoes frames from stdin to
// stdout, flushing whenever no more input is buffered, until EOF.
func servePipeEcho() error {
	r := bufio.NewReaderSize(os.Stdin, 64<<10)
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	var hdr [4]byte
	buf := make([]byte, 0, 64)
	for {
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return w.Flush()
			}
			return err
		}
		size := binary.LittleEndian.Uint32(hdr[:])
		if size > 1<<20 {
			return fmt.Errorf("bench: raw pipe child: frame of %d bytes", size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		w.Write(hdr[:])
		w.Write(buf)
	}
}

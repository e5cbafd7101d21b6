package executortest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/execkit/execkit"
)

// The suite's tasks are one registered function, so that they run on every
// executor, including those whose tasks run in another process. A job
// records what happened to it in files under its Dir, which both sides of a
// process boundary can see.
type job struct {
	Dir  string
	ID   int
	Mode mode
}

type mode int

const (
	record      mode = iota // record start and finish, return ID
	waitRelease             // wait until Dir/release exists (or ctx ends)
	waitCtx                 // wait until ctx ends, record it, return ctx.Err()
	fail                    // return an error naming the job
	panics                  // panic with a message naming the job
	goexits                 // end the goroutine: runtime.Goexit, as t.FailNow does
)

var jobFunc = execkit.Register("executortest.job", runJob)

const (
	startedFile   = "started"
	finishedFile  = "finished"
	cancelledFile = "cancelled"
	releaseFile   = "release"
)

// How a job that waits for its ctx (waitCtx, and the policy checks' wait
// function) saw it end: its ID goes into one of these files by what
// ctx.Err() said. A task's ctx ends as a ctx of package context does, on
// every executor, so that a task moves from one to another unchanged:
// context.Canceled when it was cancelled, context.DeadlineExceeded when a
// deadline passed (its caller's, or its function's TimeLimit); and a ctx
// derived from it ends with the same error.
const (
	ctxCanceledFile = "ctx-canceled"
	ctxExpiredFile  = "ctx-deadline-exceeded"
	ctxOtherFile    = "ctx-other" // neither, or a derived ctx ended otherwise
)

// waitEnd waits until ctx ends, as a function that hands its ctx on does
// (through a derived ctx), records that it did and how, and returns
// ctx.Err().
func waitEnd(ctx context.Context, dir string, id int) error {
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	<-child.Done()
	err := ctx.Err()
	name := ctxOtherFile
	switch {
	case child.Err() != err:
	case err == context.Canceled:
		name = ctxCanceledFile
	case err == context.DeadlineExceeded:
		name = ctxExpiredFile
	}
	// How it ended goes in first: a check that waits for the cancelled
	// line (and not for the task, whose Future may return before it
	// ends) then finds it.
	_ = appendID(dir, name, id)
	_ = appendID(dir, cancelledFile, id)
	return err
}

func runJob(ctx context.Context, j job) (int, error) {
	if err := appendID(j.Dir, startedFile, j.ID); err != nil {
		return 0, err
	}
	switch j.Mode {
	case waitRelease:
		for !exists(filepath.Join(j.Dir, releaseFile)) {
			select {
			case <-ctx.Done():
				_ = appendID(j.Dir, cancelledFile, j.ID)
				return 0, ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
	case waitCtx:
		return 0, waitEnd(ctx, j.Dir, j.ID)
	case fail:
		return 0, fmt.Errorf("executortest: job %d failed", j.ID)
	case panics:
		panic(fmt.Sprintf("executortest: job %d panics", j.ID))
	case goexits:
		runtime.Goexit()
	}
	return j.ID, appendID(j.Dir, finishedFile, j.ID)
}

// appendID appends one line; O_APPEND writes this small are atomic, so
// concurrent tasks (and processes) never interleave.
func appendID(dir, name string, id int) error {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strconv.Itoa(id) + "\n")
	return errors.Join(err, f.Close())
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// counts reads Dir/name and returns how many times each ID appears.
func counts(dir, name string) (map[int]int, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return map[int]int{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := make(map[int]int)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id, err := strconv.Atoi(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("executortest: corrupt line %q in %s", sc.Text(), name)
		}
		m[id]++
	}
	return m, sc.Err()
}

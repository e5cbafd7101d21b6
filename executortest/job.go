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
		<-ctx.Done()
		_ = appendID(j.Dir, cancelledFile, j.ID)
		return 0, ctx.Err()
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

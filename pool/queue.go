package pool

import (
	"sync"

	"github.com/execkit/execkit"
)

// queue holds the admitted tasks of a pool made with [Queue] until a
// drainer takes them, and counts the drainers. A drainer is an ants worker
// running Pool.drain: it takes the next task, runs it, and goes on until
// the queue is empty, so a busy pool passes tasks to its workers under a
// short lock, with no goroutine handoff (no wake-up) per task. A drainer
// takes one task at a time rather than a batch: a batch held behind a
// long task would keep queued tasks from a worker that is free meanwhile.
// The queue's length is bounded by the gate (size+n slots), not here.
type queue struct {
	mu      sync.Mutex
	buf     []execkit.Task // ring of len(buf) slots, a power of two, or nil
	head, n int
	active  int // drainers running or being started
	busy    int // drainers running a task
	workers int // drainers allowed: the pool's size
}

// minRing is the ring's first size; shrinkRing is the size above which an
// emptied ring is dropped, so that memory taken by a burst is returned.
const (
	minRing    = 64
	shrinkRing = 4096
)

// push appends t and reports whether the caller must start a drainer (one
// more is allowed and the task would otherwise wait).
func (q *queue) push(t execkit.Task) (start bool) {
	q.mu.Lock()
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = t
	q.n++
	if q.active < q.workers && q.active-q.busy < q.n { // fewer idle drainers than tasks
		q.active++
		start = true
	}
	q.mu.Unlock()
	return start
}

func (q *queue) grow() {
	size := max(2*len(q.buf), minRing)
	buf := make([]execkit.Task, size)
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf, q.head = buf, 0
}

// next ends the drainer's previous task (when ran) and returns the next
// queued task, or false, counting the drainer out, when the queue is empty
// or more drainers run than the pool's size now allows (after a Resize
// down); the drainer must then return.
func (q *queue) next(ran bool) (execkit.Task, bool) {
	q.mu.Lock()
	if ran {
		q.busy--
	}
	if q.n == 0 || q.active > q.workers {
		q.active--
		if q.n == 0 && len(q.buf) > shrinkRing {
			q.buf, q.head = nil, 0
		}
		q.mu.Unlock()
		return nil, false
	}
	t := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	q.busy++
	q.mu.Unlock()
	return t, true
}

// exited records that a drainer's goroutine ended while it ran a task
// (next's count of it as busy and active is taken back), and reports
// whether the caller must start another drainer for the tasks still
// queued.
func (q *queue) exited() (start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.busy--
	q.active--
	if q.n > q.active-q.busy && q.active < q.workers {
		q.active++
		return true
	}
	return false
}

// setWorkers changes the number of drainers allowed and reports how many
// more the caller must start for the tasks queued now.
func (q *queue) setWorkers(n int) (start int) {
	q.mu.Lock()
	q.workers = n
	start = max(min(n-q.active, q.n-(q.active-q.busy)), 0)
	q.active += start
	q.mu.Unlock()
	return start
}

// takeAll empties the queue and returns what it held, in order: for a
// Shutdown that gave up, which reports them cancelled itself rather than
// leave them to drainers that may all be stuck.
func (q *queue) takeAll() []execkit.Task {
	q.mu.Lock()
	defer q.mu.Unlock()
	ts := make([]execkit.Task, q.n)
	for i := range ts {
		j := (q.head + i) & (len(q.buf) - 1)
		ts[i], q.buf[j] = q.buf[j], nil
	}
	q.head, q.n = 0, 0
	return ts
}

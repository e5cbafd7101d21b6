package fireforget

import "strconv"

// output is a job's retained output: the first headCap bytes written and the
// last tailCap bytes (a ring), with a count of the bytes cut between them, so
// its size is bounded however much a job prints. It is guarded by its job's
// mutex.
type output struct {
	headCap, tailCap int
	head             []byte
	tail             []byte // ring buffer once full (len == tailCap)
	tailStart        int    // index of the oldest byte in a full tail
	total            int64  // bytes written in all
}

func newOutput(max int) output {
	return output{headCap: max / 2, tailCap: max - max/2}
}

func (o *output) write(p []byte) {
	o.total += int64(len(p))
	if room := o.headCap - len(o.head); room > 0 {
		n := min(room, len(p))
		o.head = append(o.head, p[:n]...)
		p = p[n:]
	}
	if len(p) == 0 {
		return
	}
	if len(p) >= o.tailCap {
		if cap(o.tail) < o.tailCap {
			o.tail = make([]byte, 0, o.tailCap)
		}
		o.tail = append(o.tail[:0], p[len(p)-o.tailCap:]...)
		o.tailStart = 0
		return
	}
	if room := o.tailCap - len(o.tail); room > 0 { // not full yet
		n := min(room, len(p))
		if cap(o.tail)-len(o.tail) < n {
			// Grow to at most tailCap: append may overshoot, so size it.
			t := make([]byte, len(o.tail), min(o.tailCap, max(2*cap(o.tail), len(o.tail)+n, 64)))
			copy(t, o.tail)
			o.tail = t
		}
		o.tail = append(o.tail, p[:n]...)
		p = p[n:]
	}
	for len(p) > 0 { // full: overwrite the oldest bytes
		n := copy(o.tail[o.tailStart:], p)
		p = p[n:]
		o.tailStart = (o.tailStart + n) % o.tailCap
	}
}

// cut returns how many bytes were written but not retained.
func (o *output) cut() int64 { return o.total - int64(len(o.head)) - int64(len(o.tail)) }

// String returns the retained output in order, with a marker line where
// bytes were cut.
func (o *output) String() string {
	if len(o.tail) == 0 {
		return string(o.head)
	}
	b := make([]byte, 0, len(o.head)+len(o.tail)+48)
	b = append(b, o.head...)
	if n := o.cut(); n > 0 {
		b = append(b, "\n[... "...)
		b = strconv.AppendInt(b, n, 10)
		b = append(b, " bytes cut ...]\n"...)
	}
	b = append(b, o.tail[o.tailStart:]...)
	b = append(b, o.tail[:o.tailStart]...)
	return string(b)
}

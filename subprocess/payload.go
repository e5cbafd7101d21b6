package subprocess

import (
	"encoding/binary"
	"fmt"
)

// The payloads inside frames (framing: frame.go): HELLO, the requests of
// INIT, CALL and BATCH, the outcomes of RESULT, and the decoder that reads
// them.

// appendBytes appends s as a length-prefixed byte string.
func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// hello is the first frame a worker sends.
type hello struct {
	version int
	pid     int
	hash    string
}

func (h hello) append(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(h.version))
	b = binary.AppendUvarint(b, uint64(h.pid))
	return appendString(b, h.hash)
}

func decodeHello(p []byte) (hello, error) {
	d := decoder{p: p}
	h := hello{version: int(d.uvarint()), pid: int(d.uvarint()), hash: string(d.bytes())}
	return h, d.finish("hello")
}

// request is the payload of INIT, CALL and BATCH frames: a registered
// function's name and its encoded arguments (one for a task). INIT and
// BATCH frames carry one argument, a batch made by driver.EncodeBatch
// (of one item, for INIT), which the worker runs with driver.InvokeBatch:
// their RESULT holds the encoded results as the first outcome (or the
// batch's own error), followed, when some item failed, by one outcome per
// item, kindOK for those that succeeded.
type request struct {
	name     string
	deadline int64 // the caller's ctx deadline in Unix nanoseconds (0: none); the worker's ctx gets it
	limit    int64 // the function's TimeLimit in nanoseconds (0: none), which the pool times from the call's start: the worker's ctx reports it as its Deadline
	args     [][]byte
}

func (r request) append(b []byte) []byte {
	b = appendString(b, r.name)
	b = binary.AppendUvarint(b, uint64(r.deadline))
	b = binary.AppendUvarint(b, uint64(r.limit))
	b = binary.AppendUvarint(b, uint64(len(r.args)))
	for _, a := range r.args {
		b = appendBytes(b, a)
	}
	return b
}

// size is the number of payload bytes append writes, at most.
func (r request) size() int {
	n := binary.MaxVarintLen64 * (4 + len(r.args))
	n += len(r.name)
	for _, a := range r.args {
		n += len(a)
	}
	return n
}

// frameSize is the length of the frame of r (the bytes after the length
// field).
func (r request) frameSize() int {
	n := frameHeader - 4 + uvarintLen(len(r.name)) + len(r.name) + uvarintLen(int(r.deadline)) + uvarintLen(int(r.limit)) + uvarintLen(len(r.args))
	for _, a := range r.args {
		n += uvarintLen(len(a)) + len(a)
	}
	return n
}

func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n))
}

func decodeRequest(p []byte) (request, error) {
	d := decoder{p: p}
	r := request{name: string(d.bytes())}
	r.deadline = int64(d.uvarint())
	r.limit = int64(d.uvarint())
	n := d.count()
	if d.err == nil {
		r.args = make([][]byte, n)
		for i := range r.args {
			r.args[i] = d.bytes()
		}
	}
	return r, d.finish("request")
}

// batchOutcomes is the RESULT of a batch: see request.
func batchOutcomes(name string, res []byte, errs []error, err error) []outcome {
	if err != nil {
		return []outcome{outcomeOf(name, err)}
	}
	outs := make([]outcome, 1, 1+len(errs))
	outs[0] = outcome{kind: kindOK, data: res}
	for _, e := range errs {
		o := outcome{kind: kindOK}
		if e != nil {
			o = outcomeOf(name, e)
		}
		outs = append(outs, o)
	}
	return outs
}

// outcome is what became of one argument of a call in the worker.
type outcome struct {
	kind  byte
	data  []byte // the result (kindOK), the panic value's text, or the error as driver.EncodeError encodes it
	stack []byte // kindPanic and kindPanicError only
}

// policyCounts are the retries and timeouts the policies of the functions
// a call ran in the worker counted there (see jobScope): a RESULT carries
// them after its outcomes, and Pool.Stats adds them.
type policyCounts struct{ retries, timeouts uint64 }

// maxPolicyCount bounds each count a RESULT may carry: far more than a
// call's items can retry (a frame of 64 MiB holds fewer items), and little
// enough that the pool's counters cannot overflow.
const maxPolicyCount = 1 << 32

func appendOutcomes(b []byte, outs []outcome, counts policyCounts) []byte {
	b = binary.AppendUvarint(b, uint64(len(outs)))
	for _, o := range outs {
		b = append(b, o.kind)
		b = appendBytes(b, o.data)
		if o.kind == kindPanic || o.kind == kindPanicError {
			b = appendBytes(b, o.stack)
		}
	}
	b = binary.AppendUvarint(b, counts.retries)
	return binary.AppendUvarint(b, counts.timeouts)
}

func decodeOutcomes(p []byte) ([]outcome, policyCounts, error) {
	d := decoder{p: p}
	n := d.count()
	var outs []outcome
	if d.err == nil {
		outs = make([]outcome, n)
		for i := range outs {
			o := &outs[i]
			o.kind = d.byte()
			if d.err == nil && o.kind >= kindLimit {
				d.fail(fmt.Sprintf("outcome kind %d", o.kind))
			}
			o.data = d.bytes()
			if o.kind == kindPanic || o.kind == kindPanicError {
				o.stack = d.bytes()
			}
		}
	}
	var counts policyCounts
	if d.err == nil {
		counts.retries = d.uvarint()
		counts.timeouts = d.uvarint()
		if d.err == nil && max(counts.retries, counts.timeouts) > maxPolicyCount {
			d.fail(fmt.Sprintf("policy counts %d, %d", counts.retries, counts.timeouts))
		}
	}
	return outs, counts, d.finish("result")
}

// decoder reads the fields of a payload; the first error sticks and every
// later read returns a zero value.
type decoder struct {
	p   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %w: bad %s", ErrProtocol, errFrame, what)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.p) == 0 {
		d.fail("byte")
		return 0
	}
	c := d.p[0]
	d.p = d.p[1:]
	return c
}

// bytes returns a length-prefixed byte string, sharing the payload's memory.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.p)) {
		d.fail("length")
		return nil
	}
	s := d.p[:n:n]
	d.p = d.p[n:]
	return s
}

// count reads the number of items that follow; every item takes at least
// one byte, so a count above the bytes left is malformed (and is refused
// before anything is allocated for it).
func (d *decoder) count() int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.p)) {
		d.fail("count")
		return 0
	}
	return int(n)
}

// finish reports the first error, or trailing bytes.
func (d *decoder) finish(what string) error {
	if d.err == nil && len(d.p) != 0 {
		d.fail(what + " (trailing bytes)")
	}
	if d.err != nil {
		return fmt.Errorf("%w (in %s)", d.err, what)
	}
	return nil
}

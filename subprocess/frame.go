package subprocess

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/execkit/execkit"
)

// The wire protocol between the pool and a worker. Every message is a frame:
//
//	length  uint32, big endian: the bytes after it (type + id + payload)
//	type    byte
//	id      uint64, big endian: the call it belongs to (0 for HELLO and INIT)
//	payload length-9 bytes, laid out by the type (see the append* functions)
//
// Frames are at most maxFrame bytes. Inside payloads, byte strings are a
// uvarint length followed by the bytes. The envelope is hand-rolled rather
// than gob: BenchmarkEnvelope measures both (see doc.go for the figures);
// the function arguments and results inside it are encoded by each Func's
// own codec.
const (
	protocolVersion = 9 // 3: errors as driver.EncodeError encodes them; 4: a request carries its deadline; 5: EXPIRE, and a request carries its TimeLimit; 6: KEPT; 7: the bell; 8: kindPanicError; 9: a RESULT carries policy counts
	frameHeader     = 4 + 1 + 8
)

// maxFrame is the largest frame: type + id + payload. A variable, which
// only the tests change (see export_test.go), in the pool and its workers
// alike.
var maxFrame = 64 << 20

// Frame types.
const (
	frameHello   byte = 1 + iota // worker -> pool: version, pid, registry hash
	frameInit                    // pool -> worker: the initializer call (id 0)
	frameCall                    // pool -> worker: a function name and one or more arguments
	frameCancel                  // pool -> worker: cancel call id (no payload)
	frameResult                  // worker -> pool: one outcome per argument of call id
	frameRevoke                  // pool -> worker: give call id back unless it started (no payload)
	frameRevoked                 // worker -> pool: call id given back, not started (no payload)
	frameBatch                   // pool -> worker: a function name and one batch of arguments (driver.EncodeBatch)
	frameMore                    // worker -> pool: a piece of the payload of call id's RESULT, which follows (see workerSide.send)
	frameExpire                  // pool -> worker: cancel call id, whose deadline passed (no payload): its ctx ends with context.DeadlineExceeded
	frameKept                    // worker -> pool: call id not given back: it started, or it ended (no payload), the other answer to REVOKE

	frameLast = frameKept // the highest frame type
)

// ErrTooLarge is wrapped, with [execkit.ErrPayload], by the error of a
// call whose argument, or whose result, does not fit in one frame of the
// protocol (64 MiB): from Apply and a Future, and for one item of [Map] or
// [MapUnordered], whose chunks are split to fit whatever [ChunkSize]
// says, so that only an item too large alone fails. The results of a
// chunk may total 64 MiB per item.
var ErrTooLarge = errors.New("subprocess: over the 64 MiB frame limit")

// Outcome kinds of a result: how an error crossed the process boundary.
const (
	kindOK            byte = iota // data is the encoded result
	kindError                     // data is the error's text
	kindPanic                     // data is the panic value's text, then the stack
	kindNotRegistered             // the name is not registered in the worker
	kindPayload                   // an argument or result did not encode or decode
	kindCanceled                  // the call's context was cancelled
	kindDeadline                  // the call's context passed its deadline
	kindPanicError                // data is the panic value, an error, as driver.EncodeError encodes it, then the stack
	kindLimit                     // first kind value that is not valid
)

// errFrame describes a frame that does not follow the protocol; it is
// wrapped in ErrProtocol by readFrame and the decoders.
var errFrame = errors.New("malformed frame")

// frameReader reads frames from a worker's or the pool's pipe.
type frameReader struct {
	r     *bufio.Reader
	stall *stallReader // nil: no bound on a frame's rest
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// newStallReader returns a frameReader of f, a pipe that supports read
// deadlines, that fails a frame whose rest stops coming: once a frame's
// first byte arrived, each read of the rest must return within stall.
// Between frames it waits without bound. So the pool never hangs on a
// worker that wrote part of a frame and stalled.
func newStallReader(f *os.File, stall time.Duration) *frameReader {
	sr := &stallReader{f: f, stall: stall}
	return &frameReader{r: bufio.NewReaderSize(sr, 64<<10), stall: sr}
}

// stallReader reads f, with a read deadline while armed.
type stallReader struct {
	f     *os.File
	stall time.Duration
	armed bool // reading the rest of a frame
	set   bool // a deadline is set on f
}

func (sr *stallReader) Read(b []byte) (int, error) {
	switch {
	case sr.armed:
		sr.f.SetReadDeadline(time.Now().Add(sr.stall))
		sr.set = true
	case sr.set:
		sr.f.SetReadDeadline(time.Time{})
		sr.set = false
	}
	return sr.f.Read(b)
}

// read returns the next frame. The payload is freshly allocated: decoded
// messages may keep slices of it. It returns io.EOF at a clean end between
// frames, and an error wrapping ErrProtocol for a frame that breaks the
// protocol (length out of range, unknown type, truncated, or, for a
// stallReader, stalled).
func (fr *frameReader) read() (typ byte, id uint64, payload []byte, err error) {
	if fr.stall != nil {
		if _, err := fr.r.Peek(1); err != nil {
			return 0, 0, nil, err
		}
		fr.stall.armed = true
		defer func() {
			fr.stall.armed = false
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = fmt.Errorf("%w: a frame stalled: its rest did not arrive within %v", ErrProtocol, fr.stall.stall)
			}
		}()
	}
	var hdr [frameHeader]byte
	if _, err := io.ReadFull(fr.r, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("%w: truncated frame header", ErrProtocol)
		}
		return 0, 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[0:4])
	typ = hdr[4]
	id = binary.BigEndian.Uint64(hdr[5:13])
	if n < frameHeader-4 || int(n) > maxFrame {
		return 0, 0, nil, fmt.Errorf("%w: frame length %d out of range [%d, %d]", ErrProtocol, n, frameHeader-4, maxFrame)
	}
	if typ < frameHello || typ > frameLast {
		return 0, 0, nil, fmt.Errorf("%w: unknown frame type %d", ErrProtocol, typ)
	}
	payload = make([]byte, n-(frameHeader-4))
	if _, err := io.ReadFull(fr.r, payload); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, 0, nil, err
		}
		return 0, 0, nil, fmt.Errorf("%w: truncated frame of %d bytes: %v", ErrProtocol, n, err)
	}
	return typ, id, payload, nil
}

// appendFrame appends a frame of type typ for call id, whose payload
// body appends, to b. It returns an error wrapping ErrPayload, and b
// unchanged, when the frame would exceed maxFrame.
func appendFrame(b []byte, typ byte, id uint64, body func([]byte) []byte) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, 0, 0, typ)
	b = binary.BigEndian.AppendUint64(b, id)
	if body != nil {
		b = body(b)
	}
	n := len(b) - start - 4
	if n > maxFrame {
		return b[:start], tooLarge("subprocess: a frame of %d bytes exceeds the %s frame limit", n, limitText())
	}
	binary.BigEndian.PutUint32(b[start:], uint32(n))
	return b, nil
}

// tooLarge returns an error wrapping ErrTooLarge and execkit.ErrPayload
// whose text is the format's.
func tooLarge(format string, args ...any) error {
	return &sizeError{fmt.Sprintf(format, args...)}
}

// limitText describes the frame limit: "64 MiB (67108864-byte)".
func limitText() string {
	if maxFrame%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB (%d-byte)", maxFrame>>20, maxFrame)
	}
	return fmt.Sprintf("%d-byte", maxFrame)
}

type sizeError struct{ msg string }

func (e *sizeError) Error() string   { return e.msg }
func (e *sizeError) Unwrap() []error { return []error{ErrTooLarge, execkit.ErrPayload} }

package execkit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/execkit/execkit/internal/errtext"
)

// A RemoteError is the error of a registered function that ran in another
// process (a worker of package subprocess, a riverexec job), rebuilt in the
// caller's: an error value cannot cross a process boundary, so what crosses
// is its text, the name of its type, and which of the sentinel errors
// declared with [Errors] it matched. errors.Is(err, sentinel) therefore
// holds for those sentinels, and for context.Canceled,
// context.DeadlineExceeded, [ErrPayload] and [ErrNotRegistered], exactly as
// it held where the function ran; errors.As finds the *RemoteError itself,
// never the original's type (which only this process could rebuild).
type RemoteError struct {
	// Type is the original error's type, as %T prints it
	// ("*fs.PathError", "*errors.errorString").
	Type string
	// Message is the original error's text; Error returns it unchanged.
	Message string
	// Sentinels are the errors, among those declared with [Errors] and
	// the four above, that the original matched with errors.Is, in
	// declaration order.
	Sentinels []error
}

// Error returns Message, the text of the original error.
func (e *RemoteError) Error() string {
	if e == nil {
		return "<nil>"
	}
	return e.Message
}

// Unwrap returns Sentinels, so that errors.Is matches each of them.
func (e *RemoteError) Unwrap() []error {
	if e == nil {
		return nil
	}
	return e.Sentinels
}

type errorsOption []error

func (o errorsOption) apply(c *registerConfig) { c.sentinels = append(c.sentinels, o...) }

// Errors declares the sentinel error values a registered function may
// return, wrapped or not, for callers to test with errors.Is: when the call
// runs in another process, its error comes back as a [*RemoteError] that
// matches each of these the original matched. In-process executors return
// the function's error itself, so errors.Is holds there for every error;
// declare the ones callers rely on so that it holds on every executor.
// The values must be the same in every process (package-level variables,
// as errors.New makes them); their texts are part of the registry hash that
// a worker process checks (driver.RegistryHash).
// Register panics when one of them is nil.
func Errors(sentinels ...error) RegisterOption { return errorsOption(sentinels) }

// builtinSentinels are matched for every function, before its own.
var builtinSentinels = [...]error{context.Canceled, context.DeadlineExceeded, ErrPayload, ErrNotRegistered, ErrTimeLimit, ErrPermanent}

// remoteErrorVersion is the first byte of an encoded error.
const remoteErrorVersion byte = 1

// encodeError encodes err for the trip back to the caller:
// driver.EncodeError documents it.
func encodeError(name string, err error) []byte {
	if err == nil {
		return nil
	}
	typ := fmt.Sprintf("%T", err)
	if re, ok := err.(*RemoteError); ok { // relayed: keep the original's type
		typ = errtext.Cap(re.Type)
	}
	msg := errtext.Cap(errtext.Of(err)) // a typed nil's Error panics: that text, not a dead worker
	b := make([]byte, 0, 4+len(typ)+len(msg))
	b = append(b, remoteErrorVersion)
	b = binary.AppendUvarint(b, uint64(len(typ)))
	b = append(b, typ...)
	b = binary.AppendUvarint(b, uint64(len(msg)))
	b = append(b, msg...)
	matched := errtext.Matches(err, sentinelsOf(name), errors.Is)
	b = binary.AppendUvarint(b, uint64(len(matched)))
	for _, i := range matched {
		b = binary.AppendUvarint(b, i)
	}
	return b
}

// decodeError rebuilds what encodeError encoded: driver.DecodeError
// documents it.
func decodeError(name string, data []byte) error {
	bad := func() error { return fmt.Errorf("%w: the error of %q does not decode", ErrPayload, name) }
	if len(data) == 0 || data[0] != remoteErrorVersion {
		return bad()
	}
	p := data[1:]
	field := func() (string, bool) {
		n, k := binary.Uvarint(p)
		if k <= 0 || n > uint64(len(p)-k) {
			return "", false
		}
		s := string(p[k : k+int(n)])
		p = p[k+int(n):]
		return s, true
	}
	e := &RemoteError{}
	var ok bool
	if e.Type, ok = field(); !ok {
		return bad()
	}
	if e.Message, ok = field(); !ok {
		return bad()
	}
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) { // every index takes a byte
		return bad()
	}
	p = p[k:]
	all := sentinelsOf(name)
	for range n {
		i, k := binary.Uvarint(p)
		if k <= 0 {
			return bad()
		}
		p = p[k:]
		if i < uint64(len(all)) { // else the registrations differ: not matched here
			e.Sentinels = append(e.Sentinels, all[i])
		}
	}
	if len(p) != 0 {
		return bad()
	}
	return e
}

// sentinelsOf returns the built-in sentinels followed by those declared for
// the function registered under name (none for an unknown name).
func sentinelsOf(name string) []error {
	registry.Lock()
	e, ok := registry.funcs[name]
	registry.Unlock()
	if !ok {
		return builtinSentinels[:]
	}
	return e.sentinels()
}

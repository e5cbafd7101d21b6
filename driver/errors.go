package driver

import "github.com/execkit/execkit/internal/link"

// EncodeError encodes err, an error that [Invoke] or [InvokeBatch]
// returned for the function registered under name, for the trip back to
// the caller, who rebuilds it with [DecodeError]: its text, its type name,
// and the sentinels it matches (those declared with [execkit.Errors], and
// the four [execkit.RemoteError] lists). An [*execkit.PanicError] is
// encoded as any error, by its text: an executor that wants to keep the
// stack sends it aside. It returns nil for a nil err, never blocks and is
// safe for concurrent use.
func EncodeError(name string, err error) []byte { return link.EncodeError(name, err) }

// DecodeError rebuilds, in the caller's process, an error that
// [EncodeError] encoded for the function registered under name: an
// [*execkit.RemoteError] whose Sentinels are this process's values of the
// sentinels the original matched. Data that does not decode gives an error
// wrapping [execkit.ErrPayload]. It never blocks and is safe for concurrent
// use.
func DecodeError(name string, data []byte) error { return link.DecodeError(name, data) }

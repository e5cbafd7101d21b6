package execkit

import "github.com/execkit/execkit/internal/link"

// init hands the unexported mechanisms to package driver and execkit's
// executors (see internal/link).
func init() {
	link.IsNil = func(t link.Task) bool { return isNil(t) }
	link.IsPanic = isPanic
	link.NewPanic = func(v any) error { return newPanicError(v) }
	link.ReadablePanic = readablePanic
	link.Invoke = invokeName
	link.InvokeBatch = invokeBatchName
	link.RegistryHash = registryHash
	link.EncodeError = encodeError
	link.DecodeError = decodeError
	link.EncodeBatch = func(f, items any) ([]byte, error) { return f.(batcher).encodeArgs(items) }
	link.DecodeBatch = func(f any, data []byte) (any, error) { return f.(batcher).decodeResults(data) }
	link.DecodeBatchInto = func(f any, data []byte, dst any, bad func(int, error)) error {
		return f.(batcher).decodeResultsInto(data, dst, bad)
	}
}

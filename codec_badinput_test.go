package execkit_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

// GobCodec, used directly, answers bad input with an error starting
// "execkit: GobCodec", and never panics: a nil pointer to Marshal (gob
// panicked), a nil or non-pointer target for Unmarshal (a nil *int
// panicked; a nil target made gob discard the value and report success).
// Bytes after the value are an error, as for the compact forms: gob read
// the first value and ignored the rest, so a corrupt payload decoded
// without a word.
func TestGobCodecBadInput(t *testing.T) {
	var c execkit.GobCodec
	try := func(name string, f func() error) {
		t.Helper()
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s panicked: %v", name, r)
			}
		}()
		if err := f(); err == nil || !strings.HasPrefix(err.Error(), "execkit: GobCodec") {
			t.Errorf("%s = %v; want an error starting with execkit: GobCodec", name, err)
		}
	}
	good, err := c.Marshal(point{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	try("Marshal(nil)", func() error { _, err := c.Marshal(nil); return err })
	try("Marshal(nil *point)", func() error { _, err := c.Marshal((*point)(nil)); return err })
	try("Unmarshal into nil", func() error { return c.Unmarshal(good, nil) })
	try("Unmarshal into a point", func() error { return c.Unmarshal(good, point{}) })
	try("Unmarshal into a nil *point", func() error { return c.Unmarshal(good, (*point)(nil)) })
	try("Unmarshal into a nil *int", func() error { return c.Unmarshal([]byte{2}, (*int)(nil)) })
	try("Unmarshal into a nil *string", func() error { return c.Unmarshal([]byte("s"), (*string)(nil)) })
	try("Unmarshal into a nil *[]byte", func() error { return c.Unmarshal([]byte("s"), (*[]byte)(nil)) })
	var p point
	try("Unmarshal of a value and junk", func() error { return c.Unmarshal(append(good[:len(good):len(good)], 1, 2, 3), &p) })
	try("Unmarshal of two values", func() error { return c.Unmarshal(append(good[:len(good):len(good)], good...), &p) })

	// A batch (subprocess.Map's chunk) too.
	b, err := driver.EncodeBatch(ptrFunc, []*point{{1, 2}, {3, 4}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := driver.InvokeBatch(context.Background(), ptrFunc.Name(), append(b, 1, 2, 3)); !errors.Is(err, execkit.ErrPayload) {
		t.Errorf("InvokeBatch of a batch and junk = %v; want ErrPayload", err)
	}
	// And what is whole still decodes.
	if err := c.Unmarshal(good, &p); err != nil || p != (point{1, 2}) {
		t.Errorf("Unmarshal of a point = %v, %v; want {1 2}", p, err)
	}
}

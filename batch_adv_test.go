package execkit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

// Adversarial tests of the batch layout of a custom Codec: AppendMarshal
// that does not honour its contract, Unmarshal that panics or keeps the
// bytes it is given.

// rudeCodec carries strings as their bytes, through an AppendMarshal that
// misuses the slice it is given, by mode:
//
//	"fresh":   returns a new slice holding the encoding alone (as if it
//	           were Marshal), not b extended
//	"reslice": drops the last byte it was given (b[:len(b)-1]) and appends
//	           the encoding there
//	"partial": appends half the encoding, then panics
type rudeCodec struct{ mode string }

func (c rudeCodec) Marshal(v any) ([]byte, error) { return []byte(v.(string)), nil }

func (c rudeCodec) AppendMarshal(b []byte, p any) ([]byte, error) {
	return c.appendValue(b, deref(p))
}

func (c rudeCodec) appendValue(b []byte, v any) ([]byte, error) {
	s := v.(string)
	switch c.mode {
	case "fresh":
		return []byte(s), nil
	case "reslice":
		return append(b[:len(b)-1], s...), nil
	case "partial":
		if s == "boom" {
			_ = append(b, s[:2]...)
			panic("rudeCodec: boom")
		}
	}
	return append(b, s...), nil
}

func (rudeCodec) Unmarshal(b []byte, v any) error {
	*v.(*string) = string(b)
	return nil
}

var (
	rudeFresh   = execkit.Register("test.adv.rude.fresh", func(_ context.Context, s string) (string, error) { return s, nil }, execkit.UseCodec(rudeCodec{"fresh"}))
	rudeReslice = execkit.Register("test.adv.rude.reslice", func(_ context.Context, s string) (string, error) { return s, nil }, execkit.UseCodec(rudeCodec{"reslice"}))
	rudePartial = execkit.Register("test.adv.rude.partial", func(_ context.Context, s string) (string, error) { return s, nil }, execkit.UseCodec(rudeCodec{"partial"}))
)

// An AppendMarshal that returns a slice not extending the one it was given
// must not make a payload that carries other values than the items: the
// batch either carries the items or fails.
func TestAdvAppendMarshalNotExtendingB(t *testing.T) {
	// Each item longer than the payload before it, so that a slice of
	// the encoding alone is never shorter than the one AppendMarshal was
	// given.
	items := []string{strings.Repeat("a", 10), strings.Repeat("b", 40), strings.Repeat("c", 200)}
	for _, f := range []*execkit.Func[string, string]{rudeFresh, rudeReslice} {
		payload, err := driver.EncodeBatch(f, items)
		if err != nil {
			if !errors.Is(err, execkit.ErrPayload) {
				t.Errorf("%s: EncodeBatch = %v; want an error wrapping ErrPayload", f.Name(), err)
			}
			continue // refused: fine
		}
		got, err := driver.DecodeBatch(f, payload)
		if err == nil && fmt.Sprint(got) == fmt.Sprint(items) {
			continue
		}
		t.Errorf("%s: EncodeBatch(%q) = %x, nil, which decodes to %q, %v: the payload silently carries other values", f.Name(), items, payload, got, err)
	}
}

// An AppendMarshal that panics having appended a few bytes fails its item
// alone on the results side; the arguments side names the item.
func TestAdvAppendMarshalPanicAfterAppend(t *testing.T) {
	ctx := context.Background()
	for _, items := range [][]string{{"boom", "b", "c"}, {"a", "boom", "c"}, {"a", "b", "boom"}} {
		_, err := driver.EncodeBatch(rudePartial, items)
		at := strings.Index(strings.Join(items, ""), "boom") // index of the item: items are one byte but "boom"
		if !errors.Is(err, execkit.ErrPayload) || !strings.Contains(errText(err), fmt.Sprintf("item %d: codec panicked", at)) {
			t.Errorf("EncodeBatch(%q) = %v; want ErrPayload naming item %d", items, err, at)
		}
	}
	// Results side: fn maps a number to a string, and "boom" panics.
	outs, errs := batch(ctx, t, rudeResults, []int{1, -1, 2, -1, 3})
	for i, want := range []string{"x", "", "xx", "", "xxx"} {
		if outs[i] != want {
			t.Errorf("item %d: got %q; want %q", i, outs[i], want)
		}
		if (want == "") != strings.Contains(errs[i], "codec panicked: rudeCodec: boom") {
			t.Errorf("item %d: error %q", i, errs[i])
		}
	}
}

var rudeResults = execkit.Register("test.adv.rude.results", func(_ context.Context, n int) (string, error) {
	if n < 0 {
		return "boom", nil
	}
	return strings.Repeat("x", n), nil
}, execkit.UseCodec(mixedCodec{rudeCodec{"partial"}}))

// mixedCodec carries ints with appendCodec and strings with its rudeCodec.
type mixedCodec struct{ r rudeCodec }

func (m mixedCodec) Marshal(v any) ([]byte, error) { return m.appendValue(nil, v) }

func (m mixedCodec) AppendMarshal(b []byte, p any) ([]byte, error) {
	return m.appendValue(b, deref(p))
}

func (m mixedCodec) appendValue(b []byte, v any) ([]byte, error) {
	if _, ok := v.(int); ok {
		return appendCodec{}.appendValue(b, v)
	}
	return m.r.appendValue(b, v)
}

func (m mixedCodec) Unmarshal(b []byte, v any) error { return appendCodec{}.Unmarshal(b, v) }

package bench

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParsePython feeds arbitrary output to the parser of bench.py's
// lines: it must return results or an error, never panic, and every result
// it returns must name its cell.
func FuzzParsePython(f *testing.F) {
	f.Add(pyInfoLine + "\n" + `{"type": "result", "workload": "noop", "strategy": "py-thread", "tasks": 1, "seconds": 0.1, "error": null}`)
	f.Add(pyInfoLine + "\n" + `{"type": "result", "workload": "noop", "strategy": "py-thread", "error": "boom"}`)
	f.Add("Traceback (most recent call last):\n")
	f.Add(`{"type": "info"}` + "\n" + `{"type": "result", "tasks": -1}`)
	f.Fuzz(func(t *testing.T, out string) {
		_, rs, err := ParsePython(strings.NewReader(out), nil)
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.Workload == "" || r.Strategy == "" {
				t.Errorf("got result %+v without its cell", r)
			}
		}
	})
}

// FuzzVarintCodec checks that whatever decodes re-encodes to the same bytes.
func FuzzVarintCodec(f *testing.F) {
	var c VarintCodec
	for _, x := range []int{0, 1, -1, 1 << 40, -(1 << 62)} {
		b, _ := c.Marshal(x)
		f.Add(b)
	}
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		var x int
		if err := c.Unmarshal(b, &x); err != nil {
			return
		}
		again, err := c.Marshal(x)
		if err != nil || !bytes.Equal(again, b) {
			t.Errorf("decoded %x as %d, which encodes as %x (%v)", b, x, again, err)
		}
	})
}

func TestVarintCodec(t *testing.T) {
	var c VarintCodec
	for _, x := range []int{0, 7, -7, 1 << 50} {
		b, err := c.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := c.Unmarshal(b, &got); err != nil || got != x {
			t.Errorf("round trip of %d: got %d, %v; want %d", x, got, err, x)
		}
	}
	if _, err := c.Marshal("x"); err == nil {
		t.Errorf("Marshal(string): got nil error; want one")
	}
	var s string
	if err := c.Unmarshal([]byte{1}, &s); err == nil {
		t.Errorf("Unmarshal into *string: got nil error; want one")
	}
}

package fireforget

import (
	"fmt"
	"strings"
	"testing"
)

// wantOutput is what a job that wrote data keeps with a cap of max bytes.
func wantOutput(data string, max int) (string, int64) {
	if len(data) <= max {
		return data, 0
	}
	h, tl := max/2, max-max/2
	cut := len(data) - h - tl
	return fmt.Sprintf("%s\n[... %d bytes cut ...]\n%s", data[:h], cut, data[len(data)-tl:]), int64(cut)
}

func TestOutputKeepsHeadAndTail(t *testing.T) {
	alphabet := "abcdefghijklmnopqrstuvwxyz0123456789"
	long := strings.Repeat(alphabet, 40)
	tests := []struct {
		name   string
		max    int
		chunks []int // sizes of successive writes of long's bytes
	}{
		{"nothing", 10, nil},
		{"under the cap", 10, []int{3, 4}},
		{"exactly the cap", 10, []int{10}},
		{"one write over the cap", 10, []int{25}},
		{"byte by byte", 9, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"tail wraps many times", 64, []int{7, 13, 50, 3, 200, 1, 1, 90, 31, 64, 65}},
		{"large cap, growing tail", 1000, []int{100, 400, 10, 300, 250, 333}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOutput(tt.max)
			off := 0
			for _, n := range tt.chunks {
				o.write([]byte(long[off : off+n]))
				off += n
			}
			want, wantCut := wantOutput(long[:off], tt.max)
			if got := o.String(); got != want {
				t.Errorf("String: got %q; want %q", got, want)
			}
			if o.cut() != wantCut {
				t.Errorf("cut: got %d; want %d", o.cut(), wantCut)
			}
			if c := cap(o.head) + cap(o.tail); c > 2*tt.max {
				t.Errorf("retained capacity: got %d bytes; want at most %d", c, 2*tt.max)
			}
		})
	}
}

package fireforget

import (
	"context"
	"errors"
	"io"
	"math/bits"
	"strings"
	"testing"
)

func TestParseID(t *testing.T) {
	valid := "0123456789abcdef0123456789abcdef"
	tests := []struct {
		in string
		ok bool
	}{
		{valid, true},
		{strings.ToUpper(valid), false},
		{valid[:31], false},
		{valid + "0", false},
		{"", false},
		{"0123456789abcdef0123456789abcdeg", false},
		{strings.Repeat("0", 32), false}, // the zero ID is never issued
		{"3080772748", false},            // a web.py thread id
		{"<script>alert(1)</script>", false},
	}
	for _, tt := range tests {
		id, err := ParseID(tt.in)
		if tt.ok {
			if err != nil || id.String() != tt.in {
				t.Errorf("ParseID(%q): got %v, %v; want the id back", tt.in, id, err)
			}
			continue
		}
		if !errors.Is(err, ErrMalformedID) {
			t.Errorf("ParseID(%q): got %v; want ErrMalformedID", tt.in, err)
		}
	}
}

// TestIDsUnguessableAndNeverReused starts numJobs jobs through a Registry
// that keeps only 100 finished ones, so nearly every id is evicted before
// the last is drawn, and checks that no id repeats and that the ids look
// like independent uniform 128-bit values: every bit is set in about half
// of them, and consecutive ids differ in about half their bits (a counter,
// a clock or a thread address would fail both).
func TestIDsUnguessableAndNeverReused(t *testing.T) {
	const n = 100_000
	r := newTestRegistry(t, KeepFinished(100), Limit(n)) // Start never waits for jobs to end
	seen := make(map[ID]struct{}, n)
	var ones [128]int
	var prev ID
	xorBits := 0
	noop := func(context.Context, io.Writer) error { return nil }
	for i := range n {
		j, err := r.Start(noop)
		if err != nil {
			t.Fatalf("Start %d: %v", i, err)
		}
		id := j.ID()
		if _, dup := seen[id]; dup {
			t.Fatalf("id %v issued twice (job %d)", id, i)
		}
		seen[id] = struct{}{}
		for b := range 128 {
			ones[b] += int(id[b/8]>>(b%8)) & 1
		}
		if i > 0 {
			for k := range id {
				xorBits += bits.OnesCount8(id[k] ^ prev[k])
			}
		}
		prev = id
	}
	// Each count is Binomial(n, 1/2): standard deviation sqrt(n)/2. Six of
	// them is a bound a fair source breaks about once in 5e8 bits.
	sd := sqrtInt(n) / 2
	for b, c := range ones {
		if d := c - n/2; d > 6*sd || d < -6*sd {
			t.Errorf("bit %d set in %d of %d ids; want %d ± %d", b, c, n, n/2, 6*sd)
		}
	}
	// Differing bits of consecutive ids: Binomial(128(n-1), 1/2).
	pairs := 128 * (n - 1)
	if d, sd := xorBits-pairs/2, sqrtInt(pairs)/2; d > 6*sd || d < -6*sd {
		t.Errorf("consecutive ids differ in %d of %d bits; want %d ± %d", xorBits, pairs, pairs/2, 6*sd)
	}
}

func sqrtInt(n int) int {
	x := 1
	for x*x < n {
		x++
	}
	return x
}

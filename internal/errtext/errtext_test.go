package errtext

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// Cap keeps at most MaxText bytes, says how many it cut, cuts between
// runes, and leaves what it returned as it is: a text capped where it was
// made and again where it arrives was cut twice, with two lines, the second
// miscounting.
func TestCap(t *testing.T) {
	for _, s := range []string{
		strings.Repeat("x", MaxText),
		strings.Repeat("x", MaxText+1),
		strings.Repeat("é", MaxText),      // two bytes a rune
		strings.Repeat("€x", 3*MaxText/4), // three, then one
	} {
		c := Cap(s)
		if len(s) <= MaxText {
			if c != s {
				t.Errorf("Cap of %d bytes changed it", len(s))
			}
			continue
		}
		i := strings.Index(c, "\n[... ")
		var n int
		if i < 0 {
			t.Fatalf("Cap of %d bytes: no line saying what was cut", len(s))
		}
		if _, err := fmt.Sscanf(c[i:], "\n[... %d bytes cut ...]\n", &n); err != nil {
			t.Fatalf("Cap of %d bytes: %v", len(s), err)
		}
		line := fmt.Sprintf("\n[... %d bytes cut ...]\n", n)
		if len(c) > MaxText || len(c)-len(line)+n != len(s) || !strings.HasPrefix(s, c[:i]) || !strings.HasSuffix(s, c[i+len(line):]) {
			t.Errorf("Cap of %d bytes: %d bytes, %d said cut; want at most %d, the rest of s around the line", len(s), len(c), n, MaxText)
		}
		if utf8.ValidString(s) && !utf8.ValidString(c) {
			t.Errorf("Cap of %d bytes of valid UTF-8 cut a rune", len(s))
		}
		if Cap(c) != c {
			t.Errorf("Cap of its own result (%d bytes) cut it again", len(c))
		}
	}
}

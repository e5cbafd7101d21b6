package execkit

import "testing"

// TestDigestTellsRegistriesApart: names may hold any byte, "\x00" and "\n"
// too, which the digest once used to join a name to its signature and
// entries to each other: two different registries hashed alike, and a
// worker built from the other passed the handshake.
func TestDigestTellsRegistriesApart(t *testing.T) {
	pairs := [][2]map[string]string{
		{{"a\x00func(int) int": "func(string) string"}, {"a": "func(int) int\x00func(string) string"}},
		{{"a": "func(int) int\nb\x00func(int) int"}, {"a": "func(int) int", "b": "func(int) int"}},
		{{"x": "s"}, {"x\n": "s"}},
	}
	for _, p := range pairs {
		if digest(p[0]) == digest(p[1]) {
			t.Errorf("digest(%q) == digest(%q); want them apart", p[0], p[1])
		}
	}
	if digest(map[string]string{"a": "s", "b": "t"}) != digest(map[string]string{"b": "t", "a": "s"}) {
		t.Error("digest depends on the map's order")
	}
}

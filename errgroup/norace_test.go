//go:build !race

package errgroup_test

// raceEnabled tells TestAllocs to skip: the race detector allocates on its own.
const raceEnabled = false

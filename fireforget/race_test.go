//go:build race

package fireforget

// Under the race detector every goroutine and atomic costs about ten times
// more, so TestRegistryMemoryBounded runs a tenth of its jobs there (the
// bound it asserts scales with the Registry's caps, not the count).
const (
	// raceEnabled tells the allocation tests to skip: the race detector
	// allocates on its own.
	raceEnabled = true

	numMemJobs = 100_000
)

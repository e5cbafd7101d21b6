//go:build !race

package fireforget

// The job counts the issue asks for; see race_test.go for the race build.
const (
	// raceEnabled tells the allocation tests to skip: the race detector
	// allocates on its own.
	raceEnabled = false

	numMemJobs = 1_000_000
)

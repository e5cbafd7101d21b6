//go:build !race

package fireforget

// The job counts the issue asks for; see race_test.go for the race build.
const (
	numMemJobs = 1_000_000
)

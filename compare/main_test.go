package compare_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/execkit/execkit/subprocess"
)

func TestMain(m *testing.M) {
	subprocess.Main()
	mainRan = true // see needsMain
	// Importing package pool leaves ants' default pool's housekeeping
	// pair running (ants starts it at import time; pool's own TestMain
	// checks that it is exactly these two).
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"))
}

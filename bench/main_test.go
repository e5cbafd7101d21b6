package bench

import (
	"testing"

	"github.com/execkit/execkit/subprocess"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	subprocess.Main() // worker processes of the execkit-subprocess row
	ChildMain()       // the raw pipe's children and the memory cases re-execute this binary
	goleak.VerifyTestMain(m,
		// ants starts its default pool when imported.
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
	)
}

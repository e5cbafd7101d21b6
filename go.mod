module github.com/execkit/execkit

go 1.24.0

require (
	github.com/sourcegraph/conc v0.3.0
	go.uber.org/goleak v1.3.0
)

require github.com/stretchr/testify v1.10.0 // indirect

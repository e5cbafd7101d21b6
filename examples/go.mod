module github.com/execkit/execkit/examples

go 1.24.0

require (
	github.com/execkit/execkit v0.0.0
	go.uber.org/goleak v1.3.0
)

replace github.com/execkit/execkit => ../

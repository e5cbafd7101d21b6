module github.com/execkit/execkit/examples

go 1.24.0

require github.com/execkit/execkit v0.0.0

require (
	github.com/panjf2000/ants/v2 v2.12.1 // indirect
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.19.0 // indirect
)

replace github.com/execkit/execkit => ../

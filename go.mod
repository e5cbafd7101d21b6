module github.com/execkit/execkit

go 1.25.0

require (
	github.com/panjf2000/ants/v2 v2.12.1
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.22.0
)

require golang.org/x/time v0.12.0

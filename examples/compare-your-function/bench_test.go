package main

import (
	"testing"

	"github.com/execkit/execkit/compare"
)

// go test -run '^$' -bench Strategies -count 6 | benchstat -
func BenchmarkStrategiesHash(b *testing.B) {
	compare.Benchmark(b, Hash, buffers())
}

func BenchmarkStrategiesFetch(b *testing.B) {
	srv := newServer()
	defer srv.Close()
	defer client.CloseIdleConnections()
	compare.Benchmark(b, Fetch, []string{srv.URL + "/?ms=5"})
}

// Package testlog captures what log/slog's default logger writes during a
// test, for the tests of the executors' error handlers.
package testlog

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// A Log holds what was logged; it is safe for concurrent use.
type Log struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p; it never fails.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was logged so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Capture sends log/slog's default logger, as text, to a Log until the
// test ends.
func Capture(t testing.TB) *Log {
	l := &Log{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(l, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return l
}

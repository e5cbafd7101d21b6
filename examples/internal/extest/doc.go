// Package extest holds what the examples' tests share: building the Go
// version of an example, finding python3 for its Python version, and
// running either with a bound on its time, as a command or as a server.
package extest

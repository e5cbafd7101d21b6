// Package examples holds no code of its own: each folder below is one Python
// background-work pattern beside its execkit counterpart, runnable with
// `go run ./<folder>` and `python3 <folder>/main.py`, and checked by its
// main_test.go. It is a module of its own so that what the tests drive (a
// headless browser, for one) never enters the library's go.mod.
package examples

// Package benchwork holds the task bodies that execkit's overhead
// benchmarks run on each executor and on the library it wraps, so that
// both sides of a comparison run exactly the same work.
package benchwork

// Package subprocess runs registered functions in a pool of worker
// processes: the counterpart of Python's multiprocessing.Pool.
package subprocess

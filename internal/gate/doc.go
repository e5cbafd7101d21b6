// Package gate is the admission control of execkit's bounded executors: a
// counting semaphore whose limit can change, whose waiters queue in FIFO
// order, honour their ctx and can be bounded in number, and which can be
// closed (waking every waiter) and tells when its last slot is given back.
//
// The fast paths (a free slot and nobody waiting; a release with nobody
// waiting) are one CAS or one atomic add on a single word; waiting takes a
// mutex and a pooled waiter, and allocates nothing. package pool puts a
// Gate in front of a non-blocking ants pool, and package errgroup uses one
// for its Limit, because neither library's own wait can be cancelled.
package gate

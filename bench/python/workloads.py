"""The workload functions of the Python side of the execkit bench.

They live in a module of their own (not in bench.py, which runs as
__main__) so that multiprocessing workers can import them by name with any
start method. Each mirrors a function registered in bench/workload.go.
"""

import threading
import time

MASK = (1 << 64) - 1

# Set by calibrate(): iterations of spin_loop per nanosecond of CPU.
_iters_per_ns = None


class InjectedFailure(Exception):
    """The error of the fail-fast workload's failing task."""


def noop(x):
    """Return the argument: the executor's own cost per task."""
    return x


def spin_loop(iters):
    """Run iters steps of a xorshift generator (the Go side's loop)."""
    x = 88172645463325252
    for _ in range(iters):
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
    return x & 0xFFFF


def calibrate():
    """Measure spin_loop once; return the iterations per nanosecond.

    The best of many short runs: on a busy machine some run undisturbed.
    """
    global _iters_per_ns
    if _iters_per_ns is None:
        iters = 20_000
        best = float("inf")
        for _ in range(25):
            start = time.perf_counter_ns()
            spin_loop(iters)
            best = min(best, time.perf_counter_ns() - start)
        _iters_per_ns = iters / best
    return _iters_per_ns


def spin_iters(ns):
    """The iteration count that burns about ns nanoseconds of CPU."""
    return max(1, int(ns * calibrate()))


def spin(iters):
    """About the CPU the caller asked for (the argument is an iteration count)."""
    return spin_loop(iters)


def sleep(us):
    """Wait us microseconds."""
    time.sleep(us / 1e6)
    return us


# The fail-fast workload's cancel signal, per process: set once a task
# failed, so that waiting tasks return early.
cancelled = threading.Event()


def failorsleep(us):
    """Fail at once when us is negative, else wait us µs unless cancelled."""
    if us < 0:
        raise InjectedFailure("bench: injected failure")
    if cancelled.wait(us / 1e6):
        raise InjectedFailure("bench: cancelled")
    return us

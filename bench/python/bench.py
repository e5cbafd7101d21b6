#!/usr/bin/env python3
"""The Python side of the execkit bench: the Python originals of each Go
strategy, run on the same workloads.

Reads a JSON plan on stdin, {"cases": [case, ...]}, where a case is
    {"workload": "noop", "strategy": "py-threadpool", "kind": "batch",
     "n": 5000, "workers": 2, "producers": 0, "func": "noop",
     "param": 0, "fail_at": 10, "min_time": 0.0}
and prints JSON lines on stdout: first
    {"type": "info", "python": "3.11.7", "implementation": "CPython", ...}
then one per case, in order,
    {"type": "result", "workload": ..., "strategy": ..., "detail": ...,
     "tasks": N, "seconds": S, "ns_per_task": X, "peak_threads": T,
     "peak_rss_bytes": R, "cpu_seconds": C, "error": null or "message"}
The Go harness (bench/python.go) writes the plan and parses the lines.
"""

import concurrent.futures as cf
import functools
import json
import multiprocessing
import os
import platform
import resource
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads  # noqa: E402  (the path above makes it importable)

SAMPLE_EVERY = 0.001  # seconds between two thread counts


class Case:
    """One cell of the plan, with the argument of each task."""

    def __init__(self, d):
        self.workload = d["workload"]
        self.strategy = d["strategy"]
        self.kind = d["kind"]
        self.n = int(d["n"])
        self.workers = max(1, int(d.get("workers") or 1))
        self.producers = max(1, int(d.get("producers") or 1))
        self.func = getattr(workloads, d["func"])
        self.func_name = d["func"]
        self.param = int(d.get("param") or 0)
        self.fail_at = int(d.get("fail_at") or 0)
        self.min_time = float(d.get("min_time") or 0)
        if self.func_name == "spin":
            self._arg = workloads.spin_iters(self.param)
        else:
            self._arg = self.param

    def arg(self, i):
        if self.kind == "failfast" and i == self.fail_at:
            return -1
        if self.func_name == "noop":
            return i
        return self._arg


class Batch:
    """Counts the failures of one batch; the first sets the cancel signal."""

    def __init__(self):
        self.lock = threading.Lock()
        self.error = None
        workloads.cancelled.clear()

    def fail(self, err):
        with self.lock:
            if self.error is None:
                self.error = err
        workloads.cancelled.set()

    def check(self, case):
        if case.kind == "failfast":
            if not isinstance(self.error, workloads.InjectedFailure):
                raise RuntimeError("fail-fast batch returned %r; want InjectedFailure" % (self.error,))
        elif self.error is not None:
            raise self.error


def produce(case, n, submit):
    """Call submit(i) for every task, from case.producers threads at once.

    In a fail-fast batch a producer stops once a task has failed, as a
    careful caller does (the Go side's loops check their context the same
    way).
    """
    check = case.kind == "failfast"

    def loop(lo, hi):
        for i in range(lo, hi):
            if check and workloads.cancelled.is_set():
                return
            submit(i)

    if case.producers == 1:
        loop(0, n)
        return
    p = case.producers
    threads = [threading.Thread(target=loop, args=(k * n // p, (k + 1) * n // p)) for k in range(p)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def guarded(case, batch, i):
    """Run task i, recording a failure in the batch instead of raising."""
    try:
        case.func(case.arg(i))
    except Exception as e:  # the task's error is the batch's outcome
        batch.fail(e)


# --- strategies: each returns a runner, run(n), and a close() ---------------

def run_threads(case, n, start):
    """Start every task with start(batch, i), which returns its thread, then
    join them all: the shape both thread-per-task originals share."""
    batch = Batch()
    threads = [None] * n

    def submit(i):
        threads[i] = start(batch, i)
    produce(case, n, submit)
    for t in threads:
        if t is not None:
            t.join()
    batch.check(case)


def thread_per_task(case):
    """threading.Thread per task, started and joined by the caller."""
    def start(batch, i):
        t = threading.Thread(target=guarded, args=(case, batch, i))
        t.start()
        return t
    return (lambda n: run_threads(case, n, start)), (lambda: None), \
        "threading.Thread(target=...).start() per task, join all"


def background(fn):
    """The decorator of the original: each call starts a thread running fn."""
    @functools.wraps(fn)
    def start(*args):
        t = threading.Thread(target=fn, args=args)
        t.start()
        return t
    return start


def decorator_per_call(case):
    """A @background-decorated function: every call starts its own thread."""
    task = background(guarded)
    return (lambda n: run_threads(case, n, lambda batch, i: task(case, batch, i))), (lambda: None), \
        "@background decorator: a thread per call, join the handles"


def flagged(case, batch, i):
    """Run task i; a failure also sets the batch's cancel signal, then raises."""
    try:
        return case.func(case.arg(i))
    except Exception as e:
        batch.fail(e)
        raise


def thread_pool(case):
    """concurrent.futures.ThreadPoolExecutor(max_workers=workers)."""
    ex = cf.ThreadPoolExecutor(max_workers=case.workers)

    def run(n):
        batch = Batch()
        futures = [None] * n

        if case.kind == "failfast":
            def submit(i):
                futures[i] = ex.submit(flagged, case, batch, i)
        else:
            def submit(i):
                futures[i] = ex.submit(case.func, case.arg(i))
        produce(case, n, submit)
        futures = [f for f in futures if f is not None]
        if case.kind == "failfast":
            done, pending = cf.wait(futures, return_when=cf.FIRST_EXCEPTION)
            for f in done:
                if f.exception() is not None:
                    batch.fail(f.exception())
                    break
            for f in pending:
                f.cancel()
            cf.wait(pending)
        else:
            for f in futures:
                f.result()
        batch.check(case)
    return run, lambda: ex.shutdown(wait=True), "ThreadPoolExecutor.submit per task, then the futures (FIRST_EXCEPTION + cancel for fail-fast)"


def mp_pool(case):
    """multiprocessing.Pool(workers): apply_async, apply or map by kind."""
    pool = multiprocessing.Pool(case.workers)

    def close():
        pool.close()
        pool.join()

    if case.kind == "roundtrip":
        def run(n):
            for i in range(n):
                pool.apply(case.func, (case.arg(i),))
        return run, close, "Pool.apply, one call at a time"
    if case.kind == "map":
        def run(n):
            pool.map(case.func, [case.arg(i) for i in range(n)])
        return run, close, "Pool.map (default chunksize)"

    def run(n):
        results = [pool.apply_async(case.func, (case.arg(i),)) for i in range(n)]
        for r in results:
            r.get()
    return run, close, "Pool.apply_async per task, then .get() each"


def process_pool(case):
    """concurrent.futures.ProcessPoolExecutor(max_workers=workers)."""
    ex = cf.ProcessPoolExecutor(max_workers=case.workers)

    def close():
        ex.shutdown(wait=True)

    if case.kind == "roundtrip":
        def run(n):
            for i in range(n):
                ex.submit(case.func, case.arg(i)).result()
        return run, close, "submit(...).result(), one call at a time"
    if case.kind == "map":
        def run(n):
            list(ex.map(case.func, [case.arg(i) for i in range(n)]))
        return run, close, "Executor.map (default chunksize=1)"

    def run(n):
        futures = [ex.submit(case.func, case.arg(i)) for i in range(n)]
        for f in futures:
            f.result()
    return run, close, "submit per task, then the futures"


STRATEGIES = {
    "py-thread": thread_per_task,
    "py-decorator": decorator_per_call,
    "py-threadpool": thread_pool,
    "py-mp-pool": mp_pool,
    "py-processpool": process_pool,
}


class PeakThreads:
    """Samples threading.active_count() until stopped; keeps the peak."""

    def __init__(self):
        self.peak = threading.active_count()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop_event.wait(SAMPLE_EVERY):
            self.peak = max(self.peak, threading.active_count())

    def stop(self):
        self.peak = max(self.peak, threading.active_count())
        self.stop_event.set()
        self.thread.join()
        return self.peak - 1  # less the sampler


def run_case(case):
    """Measure one case: a warm-up batch, then batches until min_time."""
    make = STRATEGIES.get(case.strategy)
    if make is None:
        raise ValueError("unknown strategy %r" % case.strategy)
    run, close, detail = make(case)
    try:
        if case.kind != "memory":
            run(max(case.n // 10, min(case.n, case.fail_at + 1), 1))
        sampler = PeakThreads()
        tasks = 0
        cpu0 = time.process_time()
        start = time.perf_counter()
        while True:
            run(case.n)
            tasks += case.n
            elapsed = time.perf_counter() - start
            if elapsed >= case.min_time or case.kind == "memory":
                break
        cpu = time.process_time() - cpu0
        peak = sampler.stop()
    finally:
        close()
    return {
        "detail": detail,
        "tasks": tasks,
        "seconds": elapsed,
        "ns_per_task": elapsed * 1e9 / tasks,
        "peak_threads": peak,
        "peak_rss_bytes": peak_rss(),
        "cpu_seconds": cpu,
    }


def peak_rss():
    """This process's peak resident set in bytes.

    VmHWM from /proc/self/status where there is one: ru_maxrss of a process
    started by fork and exec starts from its parent's high-water mark on
    Linux, so a child of a big Go process would seem as big.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def main():
    plan = json.load(sys.stdin)
    emit({
        "type": "info",
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "start_method": multiprocessing.get_start_method(),
        "spin_iters_per_us": workloads.calibrate() * 1000,
    })
    for d in plan["cases"]:
        out = {"type": "result", "workload": d.get("workload"), "strategy": d.get("strategy"), "error": None}
        try:
            out.update(run_case(Case(d)))
        except Exception as e:  # reported to the Go side, which shows it
            out["error"] = "%s: %s" % (type(e).__name__, e)
        emit(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

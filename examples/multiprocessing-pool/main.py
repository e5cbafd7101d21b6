"""A pool of 4 worker processes: map, then apply_async with callbacks,
close and join; then a time limit and retries, which multiprocessing
leaves to its user. The Python original that main.go translates.

Run: python3 main.py [--sleep SECONDS]
"""

import argparse
import multiprocessing
import os
import random
import tempfile
import time
from multiprocessing import Pool


def task(msg, delay):
    """Runs in a worker process."""
    time.sleep(delay)
    return msg + " done"


def square(x):
    return x * x


def flaky(counter):
    """A call to a flaky service: its first two attempts fail."""
    attempt = count_attempt(counter)
    if attempt <= 2:
        raise ConnectionError(f"rates service: attempt {attempt}: connection refused")
    return f"ok on attempt {attempt}"


def stuck(counter):
    """A call that hangs for an hour and cannot be interrupted (C code, a
    blocking read)."""
    count_attempt(counter)
    time.sleep(3600)


def count_attempt(counter):
    """Adds one to the count of attempts kept in the file named counter and
    returns it: each attempt sees the ones before, whichever worker ran them."""
    with open(counter, "ab") as f:
        f.write(b".")
        return f.tell()


def apply_with_retries(pool, func, args, timeout=None, retries=0, backoff=0.01, retry_for=(Exception,)):
    """apply with a time limit and retries, which multiprocessing does not
    have: what its users write. Before retry k it sleeps up to
    backoff * 2**(k-1) seconds."""
    for attempt in range(retries + 1):
        try:
            # A timeout stops the wait, not the task: it keeps its worker.
            return pool.apply_async(func, args).get(timeout=timeout)
        except retry_for:
            if attempt == retries:
                raise
            time.sleep(random.uniform(0, backoff * 2**attempt))


def policies():
    with tempfile.TemporaryDirectory() as tmp, Pool(processes=4) as pool:
        flaky_counter, stuck_counter = os.path.join(tmp, "flaky"), os.path.join(tmp, "stuck")
        print("flaky:", apply_with_retries(pool, flaky, (flaky_counter,), retries=2, retry_for=(ConnectionError,)))
        try:
            apply_with_retries(pool, stuck, (stuck_counter,), timeout=0.2, retries=2,
                               retry_for=(multiprocessing.TimeoutError,))
        except multiprocessing.TimeoutError:
            print(f"stuck: time limit exceeded after {os.path.getsize(stuck_counter)} attempts")
        # Three of the four workers still run stuck; the last one maps.
        print("map after the time limits:", " ".join(str(s) for s in pool.map(square, range(10))))
    # Leaving the with block terminates the pool, killing the stuck
    # workers; close and join would wait an hour for them.


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sleep", type=float, default=1.0, help="seconds each task sleeps")
    args = parser.parse_args()

    results = {}
    pool = Pool(processes=4)
    squares = pool.map(square, range(10))  # chunks of ceil(10 / (4*4)) = 1
    print("map:", " ".join(str(s) for s in squares))
    for msg in ("task1", "task2"):
        # The callback runs in the pool's result-handler thread.
        pool.apply_async(task, (msg, args.sleep), callback=lambda r, m=msg: results.__setitem__(m, r))
    pool.close()  # no more tasks
    pool.join()  # wait for them (forever, if a worker was killed meanwhile)
    for msg in ("task1", "task2"):
        print(results[msg])

    policies()


if __name__ == "__main__":  # workers import this module: keep the program here
    main()

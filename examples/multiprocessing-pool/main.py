"""A pool of 4 worker processes: map, then apply_async with callbacks,
close and join. The Python original that main.go translates.

Run: python3 main.py [--sleep SECONDS]
"""

import argparse
import time
from multiprocessing import Pool


def task(msg, delay):
    """Runs in a worker process."""
    time.sleep(delay)
    return msg + " done"


def square(x):
    return x * x


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


if __name__ == "__main__":  # workers import this module: keep the program here
    main()

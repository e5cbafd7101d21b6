"""A pool of three threads runs tasks that print start and stop lines; the
callbacks run in the main thread, inside pool.wait(). threadpool.py beside
this file stands in for the threadpool package, which is not installed."""

import argparse
import sys
import threading
import time

import threadpool

SLEEP = 2.0  # seconds each task sleeps; --sleep changes it
_out = threading.Lock()


def say(line):
    """Print one whole line: the workers print concurrently."""
    with _out:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def task(msg):
    say(msg + " start")
    time.sleep(SLEEP)
    say(msg + " stop")
    return msg + " done"


def callback(request, result):
    say("callback: " + result)


def exc_callback(request, exc):
    say("callback: error: " + str(exc))


def main():
    global SLEEP
    parser = argparse.ArgumentParser()
    parser.add_argument("--sleep", type=float, default=SLEEP, help="seconds each task sleeps")
    SLEEP = parser.parse_args().sleep

    pool = threadpool.ThreadPool(3)
    requests = threadpool.makeRequests(task, ("task1", "task2", "task3", "task4", "task5"), callback, exc_callback)
    for request in requests:
        pool.putRequest(request)
    pool.wait()
    pool.dismissWorkers()


if __name__ == "__main__":
    main()

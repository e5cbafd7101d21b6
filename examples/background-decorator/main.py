"""A @background decorator: each call of the decorated function runs it in
a new thread and returns at once.

Usage: python3 main.py [--delay SECONDS]
"""

import argparse
import functools
import threading
import time

DELAY = 10.0


def background(func):
    """Run every call of func in a thread of its own; return the thread."""

    @functools.wraps(func)
    def start(*args, **kwargs):
        t = threading.Thread(target=func, args=args, kwargs=kwargs, name=func.__name__)
        t.start()
        return t

    return start


@background
def task(msg):
    print(msg + " start", flush=True)
    time.sleep(DELAY)
    print(msg + " end", flush=True)


def main():
    global DELAY
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=DELAY, help="seconds each call sleeps")
    DELAY = parser.parse_args().delay

    threads = [task("task1"), task("task2")]
    # The original returned nothing and never joined; returning the thread
    # lets the caller wait, and Python waits for non-daemon threads at exit.
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()

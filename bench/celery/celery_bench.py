"""The Celery row of execkit's benchmark: Celery's original of riverexec.

A Celery app on a Redis broker with its results on Redis. As a worker it is
started with `python3 -m celery -A celery_bench worker`; as the client,
`python3 celery_bench.py` reads commands on stdin, one a line, and answers
each with one line ("ok", or "error <text>"):

    batch N   delay() N no-op tasks, then get() each: pipelined
    rt N      N times delay().get(): one task in flight, the round trip

EXECKIT_REDIS_URL names the Redis server.
"""

import os
import sys

from celery import Celery

redis = os.environ["EXECKIT_REDIS_URL"]
app = Celery("celery_bench", broker=redis + "/0", backend=redis + "/1")
app.conf.broker_connection_retry_on_startup = True
app.conf.worker_hijack_root_logger = False


@app.task(name="celery_bench.noop")
def noop(i):
    return None


def serve():
    for line in sys.stdin:
        cmd, _, n = line.strip().partition(" ")
        try:
            n = int(n)
            if cmd == "batch":
                pending = [noop.delay(i) for i in range(n)]
                for r in pending:
                    r.get(timeout=120)
            elif cmd == "rt":
                for i in range(n):
                    noop.delay(i).get(timeout=120)
            else:
                raise ValueError(f"unknown command {cmd!r}")
            print("ok", flush=True)
        except Exception as err:  # reported to the Go side, one line
            print("error", repr(err).replace("\n", " "), flush=True)


if __name__ == "__main__":
    serve()

"""Thumbnails made in the background with Celery: the pattern that
main.go ports to Go on River (SQLite or PostgreSQL).

A real Celery app on a Redis broker, with results on Redis too. The
example's test runs it beside the Go program and compares what they print
(the one line where they differ is the point: Celery cannot tell an id it
never issued from a waiting task). Run it yourself with Debian's packages
(python3-celery, python3-redis, redis-server) or pip install "celery[redis]":

    redis-server --port 6379 &
    celery -A main worker --loglevel=WARNING     # one or more workers, any machine
    python3 main.py                              # the submitter

EXECKIT_REDIS_URL names the Redis server (default redis://127.0.0.1:6379);
the broker uses its database 0, the results its database 1, and the tasks
count their attempts in its database 2.
"""

import os
import sqlite3
import sys
import tempfile
import time
import uuid

try:
    from celery import Celery
    from celery.exceptions import SoftTimeLimitExceeded
    from redis import Redis
except ImportError as e:
    sys.exit(f"main.py needs Celery and redis-py ({e}): Debian: apt-get install "
             "python3-celery python3-redis redis-server; or pip install 'celery[redis]'")

redis = os.environ.get("EXECKIT_REDIS_URL", "redis://127.0.0.1:6379")
app = Celery(
    "celery_river",
    broker=redis + "/0",   # the queue
    backend=redis + "/1",  # where results wait for the caller
)
app.conf.task_acks_late = True  # re-deliver when a worker dies mid-task
app.conf.broker_connection_retry_on_startup = True
attempts = Redis.from_url(redis + "/2")  # where tasks count their attempts


@app.task(name="celery_river.thumbnail")  # no retries by default; autoretry_for=(...), max_retries=3 would add them
def thumbnail(name, width):
    if width <= 0:
        raise ValueError(f"thumbnail {name}: width {width} is not positive")
    return f"{name} -> thumb_{width}px_{name}"


@app.task(
    name="celery_river.fetch_rates",
    autoretry_for=(ConnectionError,),  # retry these; any other exception fails at once
    retry_backoff=True,  # before retry k, a random 0 to 2**(k-1) whole seconds
    max_retries=2,
)
def fetch_rates(key):
    """A call to a flaky service: its first two attempts fail."""
    attempt = count_attempt(key)
    if attempt <= 2:
        raise ConnectionError(f"rates service: attempt {attempt}: connection refused")
    return f"fetched on attempt {attempt}"


@app.task(
    name="celery_river.report",
    soft_time_limit=0.2,  # then SoftTimeLimitExceeded is raised in the task...
    time_limit=2,  # ...and if it is still running, the worker kills its process
    autoretry_for=(SoftTimeLimitExceeded,),
    retry_backoff=True,
    max_retries=2,
)
def report(key):
    """A report that always takes longer than its limit allows."""
    count_attempt(key)
    time.sleep(10)
    return "report done"


def count_attempt(key):
    """Adds one to key's count of attempts and returns it. The count is in
    Redis, which every worker shares, so each attempt sees the ones before,
    whichever worker on whichever machine ran them."""
    return attempts.incr(key)


def order_then_send(db, name, width):
    """Record an order, commit, then send its task: what Django's
    transaction.on_commit does. A crash between the commit and the send
    loses the task; riverexec's EnqueueTx puts the job in the transaction."""
    with db:  # commits at the end of the block
        db.execute("INSERT INTO orders (photo) VALUES (?)", (name,))
    return thumbnail.delay(name, width)


def main(n=5):
    # apply_async for each, then wait for each result in order.
    pending = [thumbnail.delay(f"photo{i}.jpg", 320) for i in range(n)]
    for result in pending:
        print(result.get(timeout=30))

    # A failure comes back as the task's exception, re-raised by get().
    try:
        thumbnail.delay("bad.jpg", 0).get(timeout=30)
    except ValueError as err:
        print("error:", err)

    # Keep the id, look the state up later (a status page would).
    job = thumbnail.delay("later.jpg", 640)
    job.get(timeout=30)
    print("job by id:", app.AsyncResult(job.id).state)

    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(os.path.join(tmp, "orders.db"))
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, photo TEXT)")
        job = order_then_send(db, "order.jpg", 128)
        job.get(timeout=30)
        print("order's job:", app.AsyncResult(job.id).state)
        db.close()

    # Declared limits and retries: the caller sees the last attempt's outcome.
    rates_key, report_key = f"rates-{uuid.uuid4()}", f"report-{uuid.uuid4()}"  # this run's counts
    rates = fetch_rates.delay(rates_key)
    slow = report.delay(report_key)
    print("rates:", rates.get(timeout=30))
    try:
        slow.get(timeout=30)
    except SoftTimeLimitExceeded:
        print(f"report: time limit exceeded after {int(attempts.getdel(report_key))} attempts")
    attempts.delete(rates_key)

    # Celery cannot tell an id it never issued from a waiting task:
    print("never issued:", app.AsyncResult("no-such-id").state)  # PENDING


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)

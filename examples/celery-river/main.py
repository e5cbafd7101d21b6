"""Thumbnails made in the background with Celery: the pattern that
main.go ports to Go on River and PostgreSQL.

This file is for reading side by side with main.go; the tests do not run
it, since it needs the celery package and a running broker (Redis here).
Run it yourself with:

    pip install "celery[redis]"
    celery -A main worker --loglevel=INFO      # one or more workers, any machine
    python3 main.py                            # the submitter
"""

import sys

from celery import Celery

app = Celery(
    "celery_river",
    broker="redis://localhost:6379/0",   # the queue
    backend="redis://localhost:6379/1",  # where results wait for the caller
)
app.conf.task_acks_late = True           # re-deliver when a worker dies mid-task


@app.task  # no retries by default; autoretry_for=(...), max_retries=3 would add them
def thumbnail(name, width):
    if width <= 0:
        raise ValueError(f"thumbnail {name}: width {width} is not positive")
    return f"{name} -> thumb_{width}px_{name}"


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
    # Celery cannot tell an id it never issued from a waiting task:
    print("never issued:", app.AsyncResult("no-such-id").state)  # PENDING


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)

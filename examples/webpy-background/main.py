"""web.py's @backgrounder/@background pattern, rebuilt on Python 3's
standard library (web.py's background module was never ported).

GET / prints two lines, starts a background function that prints a line
every INTERVAL seconds ten times, and redirects to /?_t=<thread id>;
reloading that page shows everything printed so far.

Usage: python3 main.py [--addr HOST:PORT] [--interval SECONDS]
"""

import argparse
import io
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import sleep
from urllib.parse import parse_qs, urlsplit

INTERVAL = 1.0

# Thread id -> the list of strings that thread printed. Like web.py's
# threaddb it is never cleaned up, and thread ids are reused by the OS once a
# thread has exited, so an old _t may show a newer job's output.
threaddb = {}

_local = threading.local()


class ThreadStdout(io.TextIOBase):
    """sys.stdout replacement: print() in a thread that has an output list
    appends to it; other threads print to the real stdout."""

    def write(self, s):
        out = getattr(_local, "out", None)
        if out is None:
            return sys.__stdout__.write(s)
        out.append(s)
        return len(s)

    def flush(self):
        sys.__stdout__.flush()


def background(func):
    """Run func in a new thread that prints to the calling request's output."""

    def start(*args, **kwargs):
        out = _local.out

        def target():
            _local.out = out
            func(*args, **kwargs)

        t = threading.Thread(target=target, daemon=True)
        t.start()
        threaddb[t.ident] = out
        _local.started = t.ident
        return t

    return start


def backgrounder(method):
    """Serve the job page when _t is given; otherwise run method with its
    prints captured and redirect to ?_t=<id of the thread it started>."""

    def handle(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if "_t" in query:
            t = query["_t"][0]
            if not t.isdigit():
                return self.answer(400, "bad _t\n")
            out = threaddb.get(int(t))
            if out is None:
                return self.answer(404, "no such thread\n")
            return self.answer(200, "".join(out))
        _local.out, _local.started = [], None
        try:
            method(self)
        finally:
            _local.out = None
        sep = "&" if url.query else ""
        self.send_response(303)
        self.send_header("Location", f"{url.path}?{url.query}{sep}_t={_local.started}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    return handle


@background
def longrunning():
    for i in range(10):
        sleep(INTERVAL)
        print(f"{i}: {datetime.now()}")


class Index(BaseHTTPRequestHandler):
    @backgrounder
    def do_GET(self):
        print(f"Started at {datetime.now()}")
        print("hit f5 to refresh!")
        longrunning()

    def answer(self, code, text):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    global INTERVAL
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--addr", default="localhost:8080", help="address to listen on")
    parser.add_argument("--interval", type=float, default=INTERVAL, help="seconds between lines")
    args = parser.parse_args()
    INTERVAL = args.interval
    host, _, port = args.addr.rpartition(":")
    sys.stdout = ThreadStdout()
    server = ThreadingHTTPServer((host, int(port)), Index)
    print(f"listening on http://{host}:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

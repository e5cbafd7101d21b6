"""Fetch four URLs from a local server, at most two at a time, and stop at
the first failure: concurrent.futures.wait(return_when=FIRST_EXCEPTION),
then cancel what has not started. /b fails; /c is running by then and /d is
waiting for a worker."""

import concurrent.futures as cf
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

c_started = threading.Event()  # /c's request has reached the server
give_up = threading.Event()  # the client stopped waiting for /c


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/b":
            c_started.wait(30)
            self.reply(500, "b is broken")
        elif self.path == "/c":
            c_started.set()
            # A Python thread blocked in urlopen cannot be interrupted, so
            # the server has to let go of the request itself.
            give_up.wait(30)
            self.reply(503, "given up")
        else:
            self.reply(200, "hello from " + self.path.strip("/"))

    def reply(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class NotStarted(Exception):
    pass


class Cancelled(Exception):
    pass


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.read().decode().strip()
    except urllib.error.HTTPError as e:
        raise RuntimeError("HTTP %d: %s" % (e.code, e.read().decode().strip())) from None


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]

    failed = threading.Event()
    first = []

    def task(path):
        if failed.is_set():  # picked up after the failure: do not start
            raise NotStarted()
        try:
            return fetch(base + path)
        except Exception as exc:
            if failed.is_set():
                raise Cancelled("cause: %s" % first[0]) from None
            first.append(exc)
            failed.set()
            raise

    paths = ["/a", "/b", "/c", "/d"]
    with cf.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {path: pool.submit(task, path) for path in paths}
        done, not_done = cf.wait(futures.values(), return_when=cf.FIRST_EXCEPTION)
        for f in not_done:
            f.cancel()  # only a future that has not started can be cancelled
        give_up.set()
    server.shutdown()

    for path in paths:
        f = futures[path]
        if f.cancelled():
            print("%s: not started" % path)
            continue
        try:
            print("%s: ok (%s)" % (path, f.result()))
        except NotStarted:
            print("%s: not started" % path)
        except Cancelled as exc:
            print("%s: cancelled (%s)" % (path, exc))
        except Exception as exc:
            print("%s: failed: %s" % (path, exc))
    print("first error:", first[0])


if __name__ == "__main__":
    main()

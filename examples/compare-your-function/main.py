"""The Python guess that compare answers in Go: threads or processes?

Times the same two functions as main.go (sha256 of 1 MiB buffers, an HTTP
call to a local server that answers after 5 ms) inline, on a thread pool of
one thread per core and of 64 threads, and on a process pool, and prints the
time per call of each. Python 3, standard library only.
"""

import hashlib
import http.server
import os
import threading
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def hash_buf(buf):
    return hashlib.sha256(buf).hexdigest()[:16]


def fetch(url):
    with urllib.request.urlopen(url) as resp:
        resp.read()
        return resp.status


class Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.005)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    # The default listen backlog, 5, overflows with 64 calls at once: the
    # dropped connections wait a second for TCP to retry, and the measure
    # would be of that, not of the threads.
    request_queue_size = 1024


def per_call(fn, items, executor=None):
    start = time.perf_counter()
    if executor is None:
        for x in items:
            fn(x)
    else:
        list(executor.map(fn, items))
    return (time.perf_counter() - start) / len(items)


def report(name, fn, items):
    cores = os.cpu_count() or 1
    rows = [("inline", per_call(fn, items))]
    with ThreadPoolExecutor(cores) as ex:
        rows.append((f"threads-{cores}", per_call(fn, items, ex)))
    with ThreadPoolExecutor(64) as ex:
        rows.append(("threads-64", per_call(fn, items, ex)))
    with ProcessPoolExecutor(cores) as ex:
        rows.append((f"processes-{cores}", per_call(fn, items, ex)))
    print(name)
    for strategy, t in rows:
        print(f"  {strategy:12} {t * 1e6:10.0f} µs per call")


def main():
    server = Server(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/?ms=5"
    bufs = [bytes((i + j) % 256 for j in range(1 << 20)) for i in range(4)]
    report("hash", hash_buf, bufs * 25)
    report("fetch", fetch, [url] * 200)
    server.shutdown()


if __name__ == "__main__":
    main()

"""A tiny stand-in for the threadpool package (Christopher Arndt's, on PyPI),
written for this example because that package is not installed here and no
longer maintained. It keeps the calls main.py uses and their behaviour:
worker threads take requests from a queue, results go to a second queue,
and poll()/wait() run the callbacks in the thread that calls them."""

import queue
import threading


class NoResultsPending(Exception):
    """poll() found no request waiting for its result."""


class WorkRequest:
    """One call of callable_(*args) and what to do with its outcome."""

    def __init__(self, callable_, args=None, callback=None, exc_callback=None):
        self.callable = callable_
        self.args = args or []
        self.callback = callback
        self.exc_callback = exc_callback
        self.request_id = id(self)


class _Worker(threading.Thread):
    def __init__(self, requests, results):
        super().__init__(daemon=True)
        self._requests, self._results = requests, results
        self.start()

    def run(self):
        while True:
            request = self._requests.get()
            if request is None:
                return
            try:
                self._results.put((request, False, request.callable(*request.args)))
            except Exception as exc:  # delivered to exc_callback by poll()
                self._results.put((request, True, exc))


class ThreadPool:
    def __init__(self, num_workers):
        self._requests, self._results = queue.Queue(), queue.Queue()
        self._pending = {}
        self._workers = [_Worker(self._requests, self._results) for _ in range(num_workers)]

    def putRequest(self, request):
        self._pending[request.request_id] = request
        self._requests.put(request)

    def poll(self, block=False):
        """Run the callbacks of finished requests in this thread."""
        while True:
            if not self._pending:
                raise NoResultsPending
            try:
                request, failed, value = self._results.get(block=block)
            except queue.Empty:
                return
            del self._pending[request.request_id]
            if failed and request.exc_callback:
                request.exc_callback(request, value)
            elif not failed and request.callback:
                request.callback(request, value)

    def wait(self):
        while True:
            try:
                self.poll(block=True)
            except NoResultsPending:
                return

    def dismissWorkers(self):
        for _ in self._workers:
            self._requests.put(None)
        for w in self._workers:
            w.join()


def makeRequests(callable_, args_list, callback=None, exc_callback=None):
    return [WorkRequest(callable_, [args], callback, exc_callback) for args in args_list]

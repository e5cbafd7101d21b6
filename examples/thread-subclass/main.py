"""A threading.Thread subclass that downloads a URL to a file after a delay.

Usage: python3 main.py [--delay SECONDS] URL FILE
"""

import argparse
import threading
import time
import urllib.request


class Download(threading.Thread):
    """Fetches url into location, delay seconds after it was started."""

    def __init__(self, url, location, delay):
        super().__init__(name="download")
        self.url = url
        self.location = location
        self.delay = delay
        self.size = 0

    def run(self):
        # An exception raised here goes to threading.excepthook and is lost
        # for the code that started the thread: join() cannot report it.
        time.sleep(self.delay)
        with urllib.request.urlopen(self.url, timeout=30) as resp:
            body = resp.read()
        with open(self.location, "wb") as f:
            f.write(body)
        self.size = len(body)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=10.0, help="seconds to wait before fetching")
    parser.add_argument("url")
    parser.add_argument("location")
    args = parser.parse_args()

    d = Download(args.url, args.location, args.delay)
    d.start()
    print(f"started {d.name}")
    d.join()
    print(f"saved {d.size} bytes to {args.location}")


if __name__ == "__main__":
    main()

"""Server-sent events (/events): the preview pushes each new state of the page to every open
page as it happens, instead of each page asking for it.

`Events` keeps one queue per open connection; `publish` puts the newest state in each. A
connection's handler writes what its queue gets as `text/event-stream` (and a comment line every
KEEPALIVE seconds, so a page that went away is noticed), and returns when the preview closes
the events: an open page never holds up stopping.
"""

from __future__ import annotations

import io
import json
import threading
from queue import Empty, Queue

KEEPALIVE = 15.0  # seconds between comment lines on a quiet connection


class Events:
    """The open event streams, and what to send them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queues: set[Queue] = set()
        self.closed = False

    def publish(self, name: str, data: dict) -> None:
        """Send event `name` with `data` (as JSON) to every open stream."""
        message = event(name, data)
        with self.lock:
            for queue in self.queues:
                queue.put(message)

    def close(self) -> None:
        """End every stream (the preview is stopping) and refuse new ones."""
        with self.lock:
            self.closed = True
            for queue in self.queues:
                queue.put(None)

    def stream(self, out: io.BufferedIOBase, first: bytes) -> None:
        """Write `first`, then each event published, to `out` until the events are closed or
        the page goes away."""
        queue: Queue = Queue()
        with self.lock:
            if self.closed:
                return
            self.queues.add(queue)
        try:
            out.write(first)
            out.flush()
            while True:
                try:
                    message = queue.get(timeout=KEEPALIVE)
                except Empty:
                    message = b": still here\n\n"
                if message is None:
                    return
                out.write(message)
                out.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the page was closed or reloaded
        finally:
            with self.lock:
                self.queues.discard(queue)


def event(name: str, data: dict) -> bytes:
    """One event as it is written to a stream."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()

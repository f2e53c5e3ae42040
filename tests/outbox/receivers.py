"""A webhook receiver on loopback for the delivery-timing tests: it records when each request arrived and what it
said, answers from a list of statuses, and can hold requests open until the test lets them go."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from renocrm.outbox import webhooks


class TimingReceiver:
    def __init__(self, statuses=(200,), *, hold: int = 0):
        """``statuses``: the answers in turn, the last one repeated. ``hold``: how many of the first requests are
        kept waiting (after they were recorded) until ``release()``."""
        self.statuses = list(statuses)
        self.calls: list[dict] = []
        self.secret = ""
        self.hold = hold
        self.released = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                arrived = time.time()
                body = self.rfile.read(int(self.headers["Content-Length"]))
                delivery = self.headers["X-RenoCRM-Delivery"]
                with receiver._lock:
                    receiver.calls.append(
                        {
                            "at": arrived,
                            "event_id": int(self.headers["X-RenoCRM-Event-Id"]),
                            "delivery": delivery,
                            "attempt": int(self.headers["X-RenoCRM-Attempt"]),
                            "verified": webhooks.verify(
                                receiver.secret, self.headers[webhooks.HEADER], body, delivery_id=delivery
                            ),
                            "body": json.loads(body),
                        }
                    )
                    number = len(receiver.calls)
                    status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                if number <= receiver.hold:
                    receiver.released.wait(30)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"try later")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self) -> None:
        self.released.set()

    def wait_for(self, count: int, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.calls) >= count:
                return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

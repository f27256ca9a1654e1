"""A fake SMTP relay on loopback that accepts everything and counts who talked to it: enough
to prove which process opened SMTP (the worker) and which never did (the web request)."""
from __future__ import annotations

import socketserver
import threading


class _Session(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        relay: FakeRelay = self.server.relay  # type: ignore[attr-defined]
        with relay.lock:
            relay.connections += 1
        self.wfile.write(b"220 fake.relay ESMTP\r\n")
        in_data = False
        while line := self.rfile.readline():
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    with relay.lock:
                        relay.messages += 1
                    self.wfile.write(b"250 2.0.0 Ok: queued\r\n")
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-fake.relay\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                in_data = True
                self.wfile.write(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 Ok\r\n")


class FakeRelay:
    """``with FakeRelay() as relay:`` serves on ``relay.port`` until the block ends."""

    def __init__(self) -> None:
        self.connections = 0
        self.messages = 0
        self.lock = threading.Lock()
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Session)
        self.server.daemon_threads = True
        self.server.relay = self  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]

    def __enter__(self) -> "FakeRelay":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

"""A small TCP proxy that a test can cut, for injecting Redis and PostgreSQL faults for real.

``FaultProxy(target_port).start()`` listens on ``127.0.0.1:<port>`` and forwards every connection to
the target. Then:

- :meth:`cut` closes every connection and stops listening: clients see their connections reset and
  new ones refused, as when the server has crashed.
- :meth:`blackhole` keeps accepting but forwards nothing, either way: what a dropped network looks
  like (only timeouts end a wait).
- :meth:`restore` forwards again on the same port: the server is back.

Used by the ``fault_proxy`` fixture (``commerce/testing/faults.py``); one thread per direction of
each connection, all daemons, stopped by :meth:`stop`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Literal

Mode = Literal["forward", "blackhole", "cut"]
CHUNK = 65536


class FaultProxy:
    def __init__(self, target_port: int, *, target_host: str = "127.0.0.1", listen_port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.port = listen_port
        self.mode: Mode = "forward"
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    # --- control ---------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._stopped.clear()
        self._listen()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._close_all(listener=True)

    def cut(self) -> None:
        """Connections reset, new ones refused."""
        self.mode = "cut"
        self._close_all(listener=True)

    def blackhole(self) -> None:
        """Connections stay open and new ones are accepted, but no byte gets through."""
        self.mode = "blackhole"

    def restore(self) -> None:
        """Forward again (on the same port); connections cut earlier stay closed."""
        if self.mode == "blackhole":
            # Half a conversation was swallowed: those connections are unusable, as after a real drop.
            self._close_all(listener=False)
        self.mode = "forward"
        if self._listener is None:
            self._listen()

    def url(self, scheme: str, path: str = "") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    # --- plumbing --------------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="fault-proxy").start()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed (cut or stop)
                return
            self._track(client)
            if self.mode == "blackhole":
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                self._drop(client)
                continue
            upstream.settimeout(None)
            self._track(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(CHUNK)
                if not data:
                    break
                if self.mode == "blackhole":
                    continue  # dropped on the floor; the other side waits
                sink.sendall(data)
        except OSError:
            pass  # one side was closed (by cut, or by its owner): close the pair below
        self._drop(source)
        self._drop(sink)

    def _swallow(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while client.recv(CHUNK):
                pass
        self._drop(client)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _close_all(self, *, listener: bool) -> None:
        if listener and self._listener is not None:
            # shutdown wakes the thread blocked in accept(); close alone would leave it listening.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            # SO_LINGER 0: a reset, as when the server's host goes away, not a polite goodbye.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self._drop(sock)

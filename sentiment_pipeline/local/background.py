"""A standard-library HTTP server answering on a daemon thread (the local fakes' shared shape)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer

__all__ = ["BackgroundServer"]


class BackgroundServer:
    """Owns ``_server`` (set by the subclass) and the thread serving it."""

    _server: ThreadingHTTPServer
    _thread: threading.Thread | None = None

    def _serve_in_background(self, server: ThreadingHTTPServer, name: str) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def start(self) -> Self:
        assert self._thread is not None
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

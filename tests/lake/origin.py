"""A tiny HTTP origin for the lake's safety tests: fixed routes, a request log, redirects, and
close-delimited bodies (HTTP/1.0, no Content-Length) that ``uvicorn`` cannot produce."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: no Content-Length: the body ends when the connection closes (and may be cut short)
    close_delimited: bool = False


class Origin:
    """Serves ``routes`` (path -> Route) on ``host`` (any 127/8 address); records every request."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[dict[str, Any]] = []
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, with_body: bool) -> None:
                path = self.path.split("?", 1)[0]
                origin.requests.append(
                    {"method": self.command, "path": self.path, "host": self.headers["Host"]}
                )
                route = origin.routes.get(path, Route(b"not found", 404))
                if route.close_delimited:
                    self.protocol_version = "HTTP/1.0"
                    self.close_connection = True
                self.send_response(route.status)
                for key, value in route.headers.items():
                    self.send_header(key, value)
                if not route.close_delimited:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(route.body)

            def do_GET(self) -> None:
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.host = host
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def paths(self) -> list[str]:
        return [r["path"].split("?", 1)[0] for r in self.requests]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

"""Wire-level test helpers: scripted answers for pytest-httpserver, a raw-socket server that can drop
or stall a connection, and signature checks written independently of ``airflow_provider_rtc.signing``
(the TC3 key chain is the official SDK's ``Sign.sign_tc3``; the canonical request is rebuilt here from
what the server actually received)."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from tencentcloud.common.sign import Sign
from werkzeug import Request, Response

from tests.support.credentials import SECRET_ID, SECRET_KEY, ZEGO_APP_ID, ZEGO_SECRET

# --- what the server received -----------------------------------------------------------------


@dataclass
class Seen:
    """One request as received: lower-case header names, every query value as a list, raw body."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    query: dict[str, list[str]]
    body: bytes

    @classmethod
    def from_werkzeug(cls, request: Request) -> Seen:
        return cls(
            method=request.method,
            path=request.path,
            query_string=request.query_string.decode(),
            headers={k.lower(): v for k, v in request.headers.items()},
            query={k: request.args.getlist(k) for k in request.args},
            body=request.get_data(),
        )

    @classmethod
    def from_raw(cls, request: RawRequest) -> Seen:
        path, _, query_string = request.target.partition("?")
        query: dict[str, list[str]] = {}
        for key, value in parse_qsl(query_string, keep_blank_values=True):
            query.setdefault(key, []).append(value)
        return cls(request.method, path, query_string, dict(request.headers), query, request.body)

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def q(self, key: str) -> str:
        values = self.query[key]
        assert len(values) == 1, (key, values)
        return values[0]


class Script:
    """Scripted cloud answers for pytest-httpserver; every request is recorded (``seen``, ``calls``).

    Script in order (``Script(a, b)``: each request takes the next answer) or per action
    (``script.on("DescribeX", a, b)``: Tencent's ``X-TC-Action`` or ZEGO's ``?Action=``; the last
    answer repeats). An answer is a JSON dict (HTTP 200), ``(status, dict)``, a werkzeug
    ``Response`` sent as is, or a callable returning one of those. Requests beyond the script get
    HTTP 599 so a test that counts them notices.
    """

    def __init__(self, *answers: Any) -> None:
        self.in_order = list(answers)
        self.answers: dict[str, list[Any]] = {}
        self.seen: list[Seen] = []
        self.calls: list[str] = []

    def on(self, action: str, *answers: Any) -> Script:
        self.answers[action] = list(answers)
        return self

    def __call__(self, request: Request) -> Response:
        self.seen.append(Seen.from_werkzeug(request))
        return self.answer(request.headers.get("X-TC-Action") or request.args.get("Action") or "?")

    def answer(self, action: str) -> Response:
        self.calls.append(action)
        queue = self.answers.get(action)
        if queue:
            item = queue.pop(0) if len(queue) > 1 else queue[0]
        elif self.in_order:
            item = self.in_order.pop(0)
        else:
            return Response(json.dumps({"error": f"unscripted {action}"}), status=599)
        if callable(item) and not isinstance(item, Response):  # a Response is a WSGI callable too
            item = item()
        if isinstance(item, Response):
            return item
        status, body = item if isinstance(item, tuple) else (200, item)
        return Response(json.dumps(body), status=status, content_type="application/json")


def serve(httpserver: Any, *answers: dict[str, Any] | Response) -> Script:
    """Install a script on pytest-httpserver for every request to ``/``."""
    script = Script(*answers)
    httpserver.expect_request("/").respond_with_handler(script)
    return script


def tc_ok(request_id: str = "rid-ok-0001", **fields: Any) -> dict[str, Any]:
    return {"Response": {**fields, "RequestId": request_id}}


def tc_err(code: str, message: str = "vendor message", request_id: str = "rid-err-0001") -> dict[str, Any]:
    return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}}


def zego_ok(data: Any = None, request_id: str = "zrid-ok-0001") -> dict[str, Any]:
    body: dict[str, Any] = {"Code": 0, "Message": "success", "RequestId": request_id}
    if data is not None:
        body["Data"] = data
    return body


def zego_err(code: int, message: str = "vendor message", request_id: str = "zrid-err-0001") -> dict[str, Any]:
    return {"Code": code, "Message": message, "RequestId": request_id}


def html_502() -> Response:
    page = "<html><body><h1>502 Bad Gateway</h1><p>nginx SECRET-LOOKING-PROXY-PAGE</p></body></html>"
    return Response(page, status=502, content_type="text/html")


# --- independent signature checks -------------------------------------------------------------

_AUTH_RE = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)/tc3_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})"
)


def tc3_expected_authorization(
    seen: Seen, *, secret_id: str = SECRET_ID, secret_key: str = SECRET_KEY, service: str
) -> str:
    """Rebuild the Authorization header from the request as received (method, headers, raw body)."""
    match = _AUTH_RE.fullmatch(seen.headers["authorization"])
    assert match, seen.headers["authorization"]
    signed = match["signed"].split(";")
    assert signed == sorted(signed)
    assert {"content-type", "host"} <= set(signed)
    timestamp = int(seen.headers["x-tc-timestamp"])
    date = datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")
    canonical_headers = "".join(f"{h}:{seen.headers[h].strip().lower()}\n" for h in signed)
    canonical = "\n".join(
        [
            seen.method,
            "/",
            seen.query_string if seen.method == "GET" else "",
            canonical_headers,
            ";".join(signed),
            hashlib.sha256(seen.body).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signature = Sign.sign_tc3(secret_key, date, service, to_sign)
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={';'.join(signed)}, "
        f"Signature={signature}"
    )


def assert_tencent_call(
    seen: Seen,
    *,
    action: str,
    version: str,
    service: str,
    body: dict[str, Any],
    region: str | None = "ap-guangzhou",
    secret_id: str = SECRET_ID,
    secret_key: str = SECRET_KEY,
) -> None:
    """Method, path, X-TC-* headers, exact JSON body and a signature that verifies independently."""
    assert seen.method == "POST"
    assert seen.path == "/"
    assert seen.query_string == ""
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["x-tc-action"] == action
    assert seen.headers["x-tc-version"] == version
    if region is None:
        assert "x-tc-region" not in seen.headers
    else:
        assert seen.headers["x-tc-region"] == region
    assert abs(int(seen.headers["x-tc-timestamp"]) - time.time()) < 300
    assert seen.json == body
    # exact JSON types too: 1234 is not "1234"
    assert json.dumps(seen.json, sort_keys=True) == json.dumps(body, sort_keys=True)
    assert seen.headers["authorization"] == tc3_expected_authorization(
        seen, secret_id=secret_id, secret_key=secret_key, service=service
    )


def zego_md5(app_id: int | str, nonce: str, secret: str, timestamp: int | str) -> str:
    return hashlib.md5(f"{app_id}{nonce}{secret}{timestamp}".encode()).hexdigest()


def assert_zego_signed(
    seen: Seen, *, action: str, app_id: int = ZEGO_APP_ID, secret: str = ZEGO_SECRET
) -> None:
    """Public parameters in the query, a 16-hex nonce, a current timestamp and the md5 signature."""
    assert seen.path == "/"
    assert seen.q("Action") == action
    assert seen.q("AppId") == str(app_id)
    assert seen.q("SignatureVersion") == "2.0"
    nonce = seen.q("SignatureNonce")
    assert re.fullmatch(r"[0-9a-f]{16}", nonce), nonce
    timestamp = seen.q("Timestamp")
    assert timestamp.isdigit() and abs(int(timestamp) - time.time()) < 300
    assert seen.q("Signature") == zego_md5(app_id, nonce, secret, timestamp)


PUBLIC_ZEGO = {"Action", "AppId", "SignatureNonce", "Timestamp", "Signature", "SignatureVersion"}


def zego_business_query(seen: Seen) -> dict[str, list[str]]:
    return {k: v for k, v in seen.query.items() if k not in PUBLIC_ZEGO}


# --- connections ------------------------------------------------------------------------------

FAST = {"retry_delay": 0.01, "retry_max_delay": 0.05, "retry_total_timeout": 10, "timeout": [2, 2]}


def tencent_conn_json(url: str | None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"region": "ap-guangzhou", "sdk_app_id": 1400000001, "pacing": False, **FAST}
    if url:
        base["endpoint"] = url
    return {
        "conn_type": "tencentcloud",
        "login": extra.pop("login", SECRET_ID),
        "password": extra.pop("password", SECRET_KEY),
        "extra": {**base, **extra},
    }


def zego_conn_json(url: str | None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"pacing": False, **FAST}
    if url:
        base["endpoint"] = url
    return {
        "conn_type": "zegocloud",
        "login": extra.pop("login", str(ZEGO_APP_ID)),
        "password": extra.pop("password", ZEGO_SECRET),
        "extra": {**base, **extra},
    }


# --- a raw-socket server ----------------------------------------------------------------------


@dataclass
class RawRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


Step = str | tuple[int, str, bytes] | dict[str, Any]


@dataclass
class RawServer:
    """HTTP on 127.0.0.1 written on bare sockets. Each *connection* takes the next step of the plan
    after reading one whole request: ``"drop"`` closes the socket without a byte of answer, ``"hang"``
    never answers (until the client gives up), a dict is a JSON 200 and ``(status, ctype, body)`` is
    sent as is. Every answer closes the connection, so each attempt is a new connection."""

    plan: list[Step]
    requests: list[RawRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def close(self) -> None:
        self._stop.set()
        self._acceptor.join(2)
        for thread in self._threads:
            thread.join(2)
        self._sock.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _read_request(self, conn: socket.socket) -> RawRequest | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return RawRequest(method, target, headers, body)

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                request = self._read_request(conn)
            except OSError:
                return
            if request is None:
                return
            with self._lock:
                index = len(self.requests)
                self.requests.append(request)
            step: Step = self.plan[index] if index < len(self.plan) else (599, "text/plain", b"extra")
            if step == "drop":
                return
            if step == "hang":
                conn.settimeout(0.05)
                while not self._stop.is_set():
                    try:
                        if not conn.recv(1024):
                            return
                    except TimeoutError:
                        continue
                    except OSError:
                        return
                return
            if isinstance(step, dict):
                status, ctype, body = 200, "application/json", json.dumps(step).encode()
            else:
                status, ctype, body = step  # type: ignore[misc]
            head = (
                f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            )
            try:
                conn.sendall(head.encode() + body)
            except OSError:
                return

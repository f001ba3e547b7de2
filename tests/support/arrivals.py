"""An HTTPS server on 127.0.0.1 that records when each request ARRIVES (its own ``time.monotonic()``)
and opens every connection slowly: its TLS handshake starts ``setup_delay`` seconds after the TCP
accept, the way DNS, TCP and TLS to a real cloud take 40-140 ms on a fresh worker's first call.
The delay is one the client sees (``connect`` returns after the handshake), unlike a slow
``accept()``, which the kernel hides by completing the TCP handshake itself.

Also used by ``benchmarks/arrivals.py``; imports no Airflow."""

from __future__ import annotations

import bisect
import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


def busiest_second(arrivals: list[float]) -> int:
    """The most arrivals in any window [t, t + 1 s) on the server's clock (margin-free: the count the
    clouds' per-second limits are about)."""
    times = sorted(arrivals)
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a leaf for 127.0.0.1 (strict X.509 checks pass): (ca.pem, leaf.pem, leaf.key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rtc-test-ca")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = (directory / "ca.pem", directory / "leaf.pem", directory / "leaf.key")
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem))
    paths[2].write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class ArrivalServer(ThreadingHTTPServer):
    """Answers every POST with ``answer(n)`` (n = 1 for the first request); records arrivals."""

    daemon_threads = True

    def __init__(
        self,
        tls: ssl.SSLContext,
        setup_delay: float,
        answer: Callable[[int], Any],
        idle_close: float | None = None,
    ) -> None:
        # ``idle_close``: seconds a kept-alive connection may idle before the server closes it
        handler = type("_IdleHandler", (_Handler,), {"timeout": idle_close}) if idle_close else _Handler
        super().__init__(("127.0.0.1", 0), handler)
        self.tls = tls
        self.setup_delay = setup_delay
        self.answer = answer
        self.arrivals: list[float] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.ca_file = ""

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"

    def finish_request(self, request: Any, client_address: Any) -> None:  # one thread per connection
        with self.lock:
            self.connections += 1
        time.sleep(self.setup_delay)  # before the TLS handshake: the client's connect() waits
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        self.RequestHandlerClass(conn, client_address, self)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the clouds' gateways
    server: ArrivalServer

    def do_POST(self) -> None:
        arrived = time.monotonic()  # the request line and headers have been read
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.arrivals.append(arrived)
            number = len(self.server.arrivals)
        body = json.dumps(self.server.answer(number)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def arrival_server(
    setup_delay: float, answer: Callable[[int], Any], idle_close: float | None = None
) -> Iterator[ArrivalServer]:
    """A started :class:`ArrivalServer`; ``ca_file`` is the CA its certificate chains to."""
    with tempfile.TemporaryDirectory() as tmp:
        ca_file, leaf, key = _certificates(Path(tmp))
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(leaf, key)
        server = ArrivalServer(tls, setup_delay, answer, idle_close)
        server.ca_file = str(ca_file)
        thread = threading.Thread(target=server.serve_forever, name="arrival-server", daemon=True)
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)

"""Fetching recording files over HTTP without becoming a proxy into the worker's network (SSRF).

A manifest's URLs come from callbacks and vendor APIs; a playlist's segment URIs and every redirect
come from whatever server answers. Left unchecked, ``http://169.254.169.254/...`` (the cloud's
instance metadata, credentials included) or ``http://127.0.0.1:8080/...`` would be fetched by the
worker and written into the lake for anyone who reads it. So, unless ``allow_private_sources``:

* every host is resolved **once per copy run** and refused when any of its addresses is not a
  globally routable unicast address (loopback, private, link-local - which holds the metadata
  endpoints 169.254.169.254 and Tencent's 169.254.0.23 -, shared/CGNAT 100.64/10 - Alibaba's
  100.100.100.200 -, ULA fd00::/8 - AWS's fd00:ec2::254 -, IPv4-mapped, reserved, multicast);
* the request is then sent **to the checked address** (the URL's host is replaced by the IP, the
  ``Host`` header and TLS SNI/certificate check keep the name), so a DNS answer that changes between
  the check and the connect (DNS rebinding) is never used. Through a proxy from the environment
  (``HTTPS_PROXY``...; a proxy's CONNECT tunnel would verify TLS against the IP), the name is
  checked the same way but the proxy resolves it: pinning there is the proxy's job;
* redirects are followed here, at most :data:`MAX_REDIRECTS`, each target checked the same way
  (``httpx``'s own ``follow_redirects`` would connect first and ask nobody).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    import httpx

MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
#: named in refusals so that a reader knows why it matters (all are also non-global addresses)
METADATA_ADDRESSES = frozenset({"169.254.169.254", "169.254.0.23", "100.100.100.200", "fd00:ec2::254"})

Resolver = Callable[[str, int], list[str]]


class SourceRefused(Exception):
    """A URL that must not be fetched (its message names the host and address, never the query)."""


class SourceNotResolved(Exception):
    """A host that does not resolve now (DNS may recover: retryable)."""


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: str) -> bool:
    """A globally routable unicast address (IPv4-mapped IPv6 judged by its IPv4 address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and str(ip) not in METADATA_ADDRESSES


def _proxied(scheme: str, host: str) -> bool:
    """Whether the environment sends requests for ``host`` through a proxy (as httpx reads it)."""
    import urllib.request

    proxies = urllib.request.getproxies()
    return bool(proxies.get(scheme) or proxies.get("all")) and not urllib.request.proxy_bypass(host)


class SourceGuard:
    """Resolves and checks source hosts once per run; pins each request to its checked address."""

    def __init__(self, allow_private: bool = False, resolver: Resolver | None = None) -> None:
        self.allow_private = allow_private
        self._resolver = resolver or _resolve
        self._pinned: dict[tuple[str, int], str] = {}
        self._lock = threading.Lock()

    def address(self, url: str) -> str | None:
        """The checked address to connect to for ``url`` (``None`` when private sources are allowed);
        raises :class:`SourceRefused` or :class:`SourceNotResolved`."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceRefused(f"only http(s) URLs with a host are fetched, got {parts.scheme or '?'}://")
        if self.allow_private:
            return None
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with self._lock:
            pinned = self._pinned.get((host, port))
        if pinned is not None:
            return pinned
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = self._resolver(host, port)
            except OSError as err:
                raise SourceNotResolved(f"{host} does not resolve ({type(err).__name__})") from None
        if not addresses:
            raise SourceNotResolved(f"{host} does not resolve")
        for address in addresses:  # every answer must be public: any one could be chosen later
            if not is_public(address):
                what = "a cloud metadata address" if address in METADATA_ADDRESSES else "not a public address"
                raise SourceRefused(
                    f"{host} resolves to {address} ({what}: loopback, private, link-local or "
                    "metadata); set allow_private_sources=True to copy from such hosts"
                )
        with self._lock:
            return self._pinned.setdefault((host, port), addresses[0])

    def request(
        self, client: httpx.Client, method: str, url: str, headers: dict[str, str] | None = None
    ) -> httpx.Request:
        """A request for ``url`` sent to its checked address (the name kept for Host and TLS)."""
        import httpx

        address = self.address(url)
        original = httpx.URL(url)
        if address is None or (client.trust_env and _proxied(original.scheme, original.host)):
            return client.build_request(method, url, headers=headers)
        host_header = original.netloc.decode("ascii")
        pinned = original.copy_with(host=address)
        request = client.build_request(method, pinned, headers={**(headers or {}), "Host": host_header})
        if original.scheme == "https":
            request.extensions["sni_hostname"] = original.host
        return request

    def send(
        self,
        client: httpx.Client,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        stream: bool = False,
    ) -> httpx.Response:
        """Send, following at most :data:`MAX_REDIRECTS` redirects, each target checked first."""
        for _ in range(MAX_REDIRECTS + 1):
            response = client.send(
                self.request(client, method, url, headers), stream=stream, follow_redirects=False
            )
            location = response.headers.get("location")
            if response.status_code not in REDIRECTS or not location:
                return response
            response.close()
            url = urljoin(url, location)
            if response.status_code == 303 and method != "HEAD":
                method = "GET"
        raise SourceRefused(f"more than {MAX_REDIRECTS} redirects")

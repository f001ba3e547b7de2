"""The one exception the backends raise: it carries the cloud's own code, never an HTTP status.

The wire layers turn it into each cloud's envelope, so the same rule can be tested without HTTP.
"""

from __future__ import annotations


class SandboxError(Exception):
    """A business or protocol error answered with ``code`` (Tencent string or ZEGO int)."""

    def __init__(self, code: str | int, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else str(code))
        self.code = code
        self.message = message or str(code)

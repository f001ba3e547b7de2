"""Keeping secrets out of logs and errors: one pure module for every redaction rule.

The promise "secrets never reach logs" rests on three rules, kept together so one mutation run
(``[tool.mutmut] only_mutate``) and one import-linter floor (pure: no Airflow) cover them all:

* **presigned query values** (:func:`redact_query`) - a signed URL's signature, credential or token
  replaced by ``***`` wherever it appears in a text (plain, ``%3D``/``%26``-encoded, any case);
* **HTTP client logs** (:func:`redact_client_logs`) - a filter on the loggers of httpx, httpcore and
  urllib3 that applies :func:`redact_query` to each record's message and arguments;
* **URLs shown to users** - :func:`redact_url` (no query, no userinfo: a file URL in an error or a
  progress line) and :func:`redact_db_url` (a database URL's password, in the netloc or a
  ``password=`` parameter, masked; the rest kept so the location stays recognisable).
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: query parameters of presigned/signed URLs whose values let a log reader act or authenticate:
#: ZEGO ``Signature`` (and S3 SigV2's), S3 SigV4 ``X-Amz-Signature``/``X-Amz-Credential``/
#: ``X-Amz-Security-Token``, COS ``q-signature``, ``q-ak`` and the other ``q-sign-*``/``q-key-*``
#: fields, COS ``x-cos-security-token``, and a COS ``sign=`` carrying the whole authorization
#: (COS "Request signature" doc; AWS "Authenticating Requests: Using Query Parameters")
PRESIGNED_PARAMS = (
    "Signature",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "AWSAccessKeyId",
    "q-signature",
    "q-ak",
    "q-sign-[A-Za-z-]+",
    "q-key-time",
    "x-cos-security-token",
    "sign",
)
_PRESIGNED = re.compile(
    r"(?i)((?:^|[?&;]|%26|%3F)(?:" + "|".join(PRESIGNED_PARAMS) + r")(?:=|%3D))[^&\s\"'#<>]*"
)
#: the loggers that write request URLs: httpx (INFO), urllib3 (DEBUG) and httpcore's (DEBUG)
CLIENT_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "urllib3.connectionpool",
)


def redact_query(text: str) -> str:
    """``text`` with the value of every presigned-URL query parameter replaced by ``***``."""
    return _PRESIGNED.sub(r"\1***", text) if "=" in text or "%3D" in text.upper() else text


class _RedactSignature(logging.Filter):
    """urllib3 (DEBUG) and httpx (INFO) log request URLs. A ZEGO query's Signature covers neither the
    Action nor the parameters, and a presigned COS/S3 URL is a bearer credential until it expires:
    either would let a log reader act, so their values are redacted (message and arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        return True


def _redact_arg(arg: Any) -> Any:
    if isinstance(arg, int | float | bool) or arg is None:
        return arg
    text = str(arg)
    redacted = redact_query(text)
    return arg if redacted == text else redacted


def redact_client_logs() -> None:
    """Install the redaction on the HTTP clients' loggers (idempotent; a logger's filter sees only
    the records logged on it, so each logger that writes URLs gets one)."""
    for name in CLIENT_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactSignature) for f in logger.filters):
            logger.addFilter(_RedactSignature())


def redact_url(url: str) -> str:
    """A URL for logs: no query string (signed URLs carry their signature there) and no userinfo.

    The userinfo ends at the authority's LAST ``@``, as URL parsers read it (urllib's ``hostname``,
    httpx): a password holding an unescaped ``@`` (``user:p@ss@host``) is dropped whole."""
    head, _, _ = url.partition("?")
    scheme, sep, rest = head.partition("://")
    authority, slash, path = rest.partition("/")
    if sep and "@" in authority:
        rest = authority.rpartition("@")[2] + slash + path
    return f"{scheme}{sep}{rest}"


def redact_db_url(url: str) -> str:
    """``url`` without its password (in the netloc or a ``password=`` query parameter)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
        query = urlencode(
            [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(parts.query, True)]
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return "postgresql://<unparseable URL>"

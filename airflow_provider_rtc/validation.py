"""Input rules checked before any network call, so a typo fails fast with a message naming the
parameter and the rule instead of burning retries on a 400-class answer."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from typing import Any

from airflow_provider_rtc.exceptions import RtcValidationError

UINT32_MAX = 4_294_967_295

#: Tencent Cloud region ids (API 3.0). TRTC serves a subset per API; the cloud answers for the rest.
TENCENT_REGIONS = frozenset(
    {
        "ap-guangzhou",
        "ap-shanghai",
        "ap-nanjing",
        "ap-beijing",
        "ap-chengdu",
        "ap-chongqing",
        "ap-hongkong",
        "ap-taipei",
        "ap-singapore",
        "ap-mumbai",
        "ap-jakarta",
        "ap-seoul",
        "ap-bangkok",
        "ap-tokyo",
        "na-siliconvalley",
        "na-ashburn",
        "na-toronto",
        "sa-saopaulo",
        "eu-frankfurt",
        "ap-shanghai-fsi",
        "ap-shenzhen-fsi",
        "ap-beijing-fsi",
    }
)

_MIX_SESSION_RE = re.compile(r"^[A-Za-z0-9_]+$")
_STR_ROOM_RE = re.compile(r"^[A-Za-z0-9 !#$%&()+\-:;<=.>?@\[\]^_{}|~,]+$")
_ZEGO_STREAM_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
_TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")


def region(value: Any, *, required: bool) -> str | None:
    if value in (None, ""):
        if required:
            raise RtcValidationError(
                "region", "required for TRTC: set the connection extra 'region' or pass region="
            )
        return None
    text = str(value).strip()
    if text not in TENCENT_REGIONS:
        raise RtcValidationError(
            "region", f"unknown Tencent Cloud region; one of {sorted(TENCENT_REGIONS)}", text
        )
    return text


def sdk_app_id(value: Any) -> int:
    if value in (None, ""):
        raise RtcValidationError(
            "sdk_app_id", "missing SDKAppID: set the connection extra 'sdk_app_id' or pass sdk_app_id="
        )
    return positive_int(value, "sdk_app_id", maximum=UINT32_MAX)


def positive_int(value: Any, param: str, *, maximum: int | None = None) -> int:
    if isinstance(value, bool) or value is None:
        raise RtcValidationError(param, "must be a positive integer", value)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not text.isdigit():
            raise RtcValidationError(param, "must be a positive integer", value)
        number = int(text)
    if number <= 0 or (maximum is not None and number > maximum):
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise RtcValidationError(param, f"must be > 0{upper}", value)
    return number


def trtc_room_id(value: Any, *, str_room_id: bool, param: str = "room_id") -> int | str:
    """Numeric rooms are uint32 (a numeric string from a template is converted); string rooms <= 64 bytes."""
    if not str_room_id:
        if isinstance(value, str) and not value.strip().isdigit():
            raise RtcValidationError(
                param,
                "must be a number from 1 to 4294967295 (use str_room_id=True for string room ids)",
                value,
            )
        return positive_int(value, param, maximum=UINT32_MAX)
    text = "" if value is None else str(value)
    if not text or len(text.encode()) > 64 or not _STR_ROOM_RE.match(text):
        raise RtcValidationError(
            param, "must be 1-64 bytes of letters, digits and TRTC's allowed symbols", value
        )
    return text


def _parse_list_text(text: str, param: str, value: Any) -> list[Any]:
    """A list rendered by a template: JSON (``| tojson``) or a Python literal (``{{ params.ids }}``)."""
    try:
        parsed = json.loads(text)
    except ValueError:
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise RtcValidationError(param, "must be a list of ids or a JSON array", value) from None
    if not isinstance(parsed, list | tuple):
        raise RtcValidationError(param, "must be a list of ids or a JSON array", value)
    return list(parsed)


def string_list(value: Any, param: str, *, max_items: int, max_bytes: int = 128) -> list[str]:
    """A list of ids from a literal, a JSON-array string rendered by a template, or one id."""
    items: Iterable[Any]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "(")):
            items = _parse_list_text(text, param, value)
        else:
            items = [text] if text else []
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    else:
        raise RtcValidationError(param, "must be a list of ids", value)
    result = [str(v) for v in items]
    if not result:
        raise RtcValidationError(param, "must name at least one id", value)
    if len(result) > max_items:
        raise RtcValidationError(
            param, f"at most {max_items} ids per call (got {len(result)})", show_value=False
        )
    for item in result:
        if not item.strip() or len(item.encode()) > max_bytes:
            raise RtcValidationError(param, f"each id must be 1-{max_bytes} bytes", item)
    if len(set(result)) != len(result):
        raise RtcValidationError(param, "ids must be unique", value)
    return result


def token(value: Any, param: str, *, max_bytes: int = 128) -> str:
    """A task or session id: non-empty printable ASCII without spaces."""
    text = "" if value is None else str(value).strip()
    if not text or len(text.encode()) > max_bytes or not _TOKEN_RE.match(text):
        raise RtcValidationError(param, f"must be 1-{max_bytes} printable characters without spaces", value)
    return text


def mix_stream_session_id(value: Any, param: str = "mix_stream_session_id") -> str:
    text = "" if value is None else str(value).strip()
    if not text or len(text.encode()) > 80 or not _MIX_SESSION_RE.match(text):
        raise RtcValidationError(param, "must be 1-80 bytes of letters, digits and underscores", value)
    return text


def zego_id(value: Any, param: str, *, max_bytes: int = 128) -> str:
    text = "" if value is None else str(value)
    if not text.strip() or len(text.encode()) > max_bytes:
        raise RtcValidationError(param, f"must be 1-{max_bytes} bytes", value)
    return text


def secret_text(value: Any, param: str, *, max_bytes: int) -> str:
    """A credential-like value (UserSig): checked like an id, but never echoed in the error."""
    text = "" if value is None else str(value)
    if not text.strip() or len(text.encode()) > max_bytes:
        raise RtcValidationError(param, f"must be 1-{max_bytes} bytes", show_value=False)
    return text


def zego_stream_id(value: Any, param: str = "stream_id") -> str:
    text = "" if value is None else str(value)
    if not text or len(text.encode()) > 256 or not _ZEGO_STREAM_RE.match(text):
        raise RtcValidationError(param, "must be 1-256 bytes of letters, digits, '-' and '_'", value)
    return text


def optional_text(value: Any, param: str, *, max_bytes: int) -> str | None:
    if value in (None, ""):
        return None
    text = str(value)
    if len(text.encode()) > max_bytes:
        raise RtcValidationError(param, f"at most {max_bytes} bytes", show_value=False)
    return text


def non_negative_int(value: Any, param: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise RtcValidationError(param, "must be an integer >= 0", value)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise RtcValidationError(param, "must be an integer >= 0", value) from None
    if number < 0:
        raise RtcValidationError(param, "must be an integer >= 0", value)
    return number


def receiver_url(value: Any, param: str = "callback_receiver_url") -> str:
    """The callback receiver's URL: ``http(s)://host[:port][/path-prefix]``.

    A path prefix is allowed because the receiver may be mounted under one (the Airflow plugin serves
    it at ``/rtc-callbacks``); userinfo, a query or a fragment are not (they would be sent, echoed or
    silently dropped from signed reads).
    """
    from urllib.parse import urlsplit

    text = str(value).strip().rstrip("/") if value is not None else ""
    rule = (
        "must be http(s)://host[:port] with an optional path prefix, e.g. http://airflow:8080/rtc-callbacks"
    )
    if not text or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in text):
        raise RtcValidationError(param, rule, value)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise RtcValidationError(param, rule + " (the port is invalid)", value) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RtcValidationError(param, rule, value)
    if "@" in parts.netloc:
        raise RtcValidationError(param, "must not contain user:password@", show_value=False)
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise RtcValidationError(param, rule + " (no query or fragment)", value)
    if port == 0:
        raise RtcValidationError(param, rule + " (the port is invalid)", value)
    return text

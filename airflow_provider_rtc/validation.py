"""The one input contract, checked before any network call: a typo, a template that rendered
``None`` or a list that rendered as text fails at once with an :class:`RtcValidationError` naming
the parameter and the rule, instead of burning retries on a 400-class answer or "succeeding"
against an id that never existed.

Shared by every operator, bulk operator, sensor, hook argument and connection extra:

* ids are ``str`` or ``int`` (never ``bool``, ``bytes``, ``float`` or ``None``) of the documented
  shape; the literals ``None``/``null``, empty or whitespace-only values and control characters
  are refused; numeric ids are ASCII digits only (full-width or superscript digits are not numbers here).
* :func:`id_list` is the only list parser: a real list, a JSON list string or a Python-literal list
  string (bounded in size and depth), never a bare string iterated or split on commas.
* :func:`integer` and :func:`number` are the only number parsers: numeric strings from templates
  are accepted, NaN, infinities and out-of-range values are not.
"""

from __future__ import annotations

import ast
import json
import math
import re
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from airflow_provider_rtc.errors import RtcValidationError

T = TypeVar("T")

UINT32_MAX = 4_294_967_295
#: TRTC numeric room ids are 1..4294967294 (4294967295 is reserved)
TRTC_ROOM_MAX = 4_294_967_294
#: a rendered list longer than this is a mistake, not a batch
MAX_LIST_TEXT = 1 << 20
MAX_LIST_ITEMS = 100_000
MAX_LIST_DEPTH = 3

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

_DIGITS = re.compile(r"[0-9]+")
_MIX_SESSION_RE = re.compile(r"[A-Za-z0-9_]+")
#: TRTC string room ids: letters, digits and 27 symbols (89 characters), <= 64 bytes
_STR_ROOM_RE = re.compile(r"[A-Za-z0-9 !#$%&()+\-:;<=.>?@\[\]^_{}|~,]+")
#: TRTC user ids: <= 32 bytes of letters, digits, '_' and '-'
_TRTC_USER_RE = re.compile(r"[A-Za-z0-9_\-]+")
_ZEGO_STREAM_RE = re.compile(r"[A-Za-z0-9_\-]+")
_TOKEN_RE = re.compile(r"[\x21-\x7e]+")
_HOST_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?")
_CONN_ID_RE = re.compile(r"[\w.\-]+")  # Airflow's own rule for connection ids
_NULL_LITERALS = frozenset({"none", "null"})


# -- scalars ---------------------------------------------------------------------------------
_STRICT_CONTROL = ("Cc", "Cf", "Zl", "Zp")


def _control_char(text: str, categories: tuple[str, ...] = _STRICT_CONTROL) -> bool:
    """Control characters; ids also refuse invisible format characters and line separators."""
    return any(unicodedata.category(ch) in categories for ch in text)


def has_control_char(text: str) -> bool:
    """Control, format or line-separator characters (never part of an id, a path or a URI)."""
    return _control_char(text)


def text_id(
    value: Any,
    param: str,
    *,
    max_bytes: int,
    pattern: re.Pattern[str] | None = None,
    rule: str | None = None,
    show_value: bool = True,
) -> str:
    """An id given as ``str`` or ``int``: not empty, not ``None``/``null``, no control characters,
    no surrounding whitespace, at most ``max_bytes`` UTF-8 bytes and, if given, of ``pattern``."""
    what = rule or f"must be 1-{max_bytes} bytes"
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RtcValidationError(param, f"{what}; got a {type(value).__name__}, not a string or integer")
    text = str(value)
    shown = value if show_value else None
    if not text.strip():
        raise RtcValidationError(param, f"{what}; got an empty value", shown)
    if text.strip().lower() in _NULL_LITERALS:
        raise RtcValidationError(param, f"{what}; {text!r} is a missing value rendered as text", shown)
    if _control_char(text):
        raise RtcValidationError(param, f"{what}; control characters are not allowed", shown)
    if text != text.strip():
        raise RtcValidationError(param, f"{what}; leading or trailing whitespace", shown)
    if len(text.encode()) > max_bytes or (pattern is not None and not pattern.fullmatch(text)):
        raise RtcValidationError(param, what, shown)
    return text


def integer(
    value: Any,
    param: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    optional: bool = False,
) -> int | None:
    """The one integer parser: an ``int`` or a string of ASCII digits (a rendered template).

    ``optional`` lets ``None`` and ``""`` through as ``None``; booleans, floats, bytes and
    full-width or superscript digits are refused.
    """
    if optional and (value is None or value == ""):
        return None
    bounds = _bounds(minimum, maximum)
    rule = f"must be an integer{bounds}"
    if isinstance(value, bool) or value is None:
        raise RtcValidationError(param, rule, value)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        sign = -1 if text.startswith("-") else 1
        digits = text[1:] if text[:1] in "+-" else text
        if not _DIGITS.fullmatch(digits) or len(digits) > 20:
            raise RtcValidationError(param, f"{rule} (ASCII digits)", value)
        number = sign * int(digits)
    else:
        raise RtcValidationError(param, f"{rule}; got a {type(value).__name__}")
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise RtcValidationError(param, rule, value)
    return number


def lenient_int(value: Any) -> int | None:
    """:func:`integer` for data the clouds send (callback fields, task lists): ``None`` when absent
    or malformed, instead of an error naming a parameter the user never set."""
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    try:
        return integer(value, "value")
    except RtcValidationError:
        return None


def number(
    value: Any,
    param: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    optional: bool = False,
) -> float | None:
    """The one real-number parser: finite numbers (or numeric strings) within the bounds."""
    if optional and (value is None or value == ""):
        return None
    low = "" if minimum is None else f" {'>' if exclusive_minimum else '>='} {minimum:g}"
    high = "" if maximum is None else f" <= {maximum:g}"
    rule = f"must be a finite number{low}{' and' if low and high else ''}{high}"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RtcValidationError(param, rule, value)
    try:
        result = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        raise RtcValidationError(param, rule, value) from None
    if not math.isfinite(result):
        raise RtcValidationError(param, rule, value)
    if minimum is not None and (result < minimum or (exclusive_minimum and result == minimum)):
        raise RtcValidationError(param, rule, value)
    if maximum is not None and result > maximum:
        raise RtcValidationError(param, rule, value)
    return result


def _bounds(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def positive_int(value: Any, param: str, *, maximum: int | None = None) -> int:
    result = integer(value, param, minimum=1, maximum=maximum)
    assert result is not None
    return result


def non_negative_int(value: Any, param: str) -> int | None:
    return integer(value, param, minimum=0, optional=True)


def flag(value: Any, param: str) -> bool:
    """An operator switch (not templated): ``True`` or ``False`` only, so ``"False"`` is not true."""
    if not isinstance(value, bool):
        raise RtcValidationError(param, "must be True or False", value)
    return value


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def boolean(value: Any, param: str) -> bool | None:
    """``True``/``False`` or their usual spellings from a form or a template; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RtcValidationError(param, "must be true or false", value)


def switch(value: Any, param: str) -> bool:
    """A safety switch (``dry_run``, ``trtc_monitoring``): ``True``/``False`` or the text
    ``"true"``/``"false"`` (a rendered template) only; ``""``, ``None``, ``0``/``1`` and other
    spellings are refused, never read as false - a typo must not turn a dry run into a real one."""
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else None
    if text in ("true", "false"):
        return text == "true"
    raise RtcValidationError(param, 'True or False (or the text "true"/"false")', value)


# -- lists -------------------------------------------------------------------------------------
@dataclass
class IdList:
    """Parsed list items (first occurrence order) and the duplicates that were dropped."""

    items: list[Any]
    duplicates: list[Any] = field(default_factory=list)


def _nesting(text: str) -> int:
    depth = deepest = 0
    quote = ""
    escaped = False
    for ch in text:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[({":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "])}":
            depth -= 1
    return deepest


def rendered_literal(
    text: str, param: str, *, rule: str, opening: tuple[str, ...], max_chars: int, max_depth: int
) -> Any:
    """The one parser of a rendered template value: JSON, else a Python literal (a template rendered
    without native objects gives a repr), bounded in size and nesting before either parser runs."""
    stripped = text.strip()
    if not stripped.startswith(opening):
        raise RtcValidationError(param, f"{rule}; a bare string is not split into ids", text)
    if len(stripped) > max_chars:
        raise RtcValidationError(param, f"{rule} of at most {max_chars} characters", show_value=False)
    if _nesting(stripped) > max_depth:
        raise RtcValidationError(param, f"{rule} nested at most {max_depth} deep", show_value=False)
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    try:
        return ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise RtcValidationError(param, f"{rule}; this one does not parse", text) from None


def _parse_list_text(text: str, param: str) -> Any:
    return rendered_literal(
        text,
        param,
        rule="must be a list, a JSON list string or a Python-literal list string",
        opening=("[", "("),
        max_chars=MAX_LIST_TEXT,
        max_depth=MAX_LIST_DEPTH,
    )


def id_list(
    value: Any,
    param: str,
    *,
    item: Callable[[Any, str], T],
    max_items: int = MAX_LIST_ITEMS,
    min_items: int = 1,
    key: Callable[[T], Any] | None = None,
) -> IdList:
    """The one list parser: every item checked by ``item`` (named ``param[i]``), duplicates dropped.

    Accepts a ``list``/``tuple`` (a literal or an XCom), or a string holding a JSON list
    (``{{ x | tojson }}``) or a Python-literal list (``{{ params.ids }}``). Anything else - a bare
    string, a dict, a set, a number - is refused rather than guessed at. Items are the same when
    ``key`` (default: the checked item) serializes the same.
    """
    parsed = _parse_list_text(value, param) if isinstance(value, str) else value
    if not isinstance(parsed, list | tuple):
        raise RtcValidationError(
            param,
            "must be a list, a JSON list string or a Python-literal list string "
            f"(got a {type(parsed).__name__})",
        )
    if len(parsed) < min_items:
        raise RtcValidationError(param, f"must name at least {min_items} item(s)", value)
    seen: dict[str, Any] = {}
    duplicates: list[Any] = []
    for index, raw in enumerate(parsed):
        checked = item(raw, f"{param}[{index}]")
        identity = json.dumps(key(checked) if key else checked, sort_keys=True, default=str)
        if identity in seen:
            duplicates.append(checked)
        else:
            seen[identity] = checked
    items = list(seen.values())
    if len(items) > max_items:
        raise RtcValidationError(
            param, f"at most {max_items} distinct items (got {len(items)})", show_value=False
        )
    return IdList(items, duplicates)


def string_list(
    value: Any,
    param: str,
    *,
    max_items: int,
    max_bytes: int = 128,
    item: Callable[[Any, str], str] | None = None,
) -> list[str]:
    """A list of ids for one call (user ids, room ids); duplicates are dropped."""
    check = item or (lambda raw, name: text_id(raw, name, max_bytes=max_bytes))
    return id_list(value, param, item=check, max_items=max_items).items


# -- ids ---------------------------------------------------------------------------------------
def region(value: Any, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise RtcValidationError(
                "region", "required for TRTC: set the connection extra 'region' or pass region="
            )
        return None
    text = value.strip() if isinstance(value, str) else value
    if text not in TENCENT_REGIONS:
        raise RtcValidationError(
            "region", f"unknown Tencent Cloud region; one of {sorted(TENCENT_REGIONS)}", value
        )
    return str(text)


def sdk_app_id(value: Any) -> int:
    if value is None or value == "":
        raise RtcValidationError(
            "sdk_app_id", "missing SDKAppID: set the connection extra 'sdk_app_id' or pass sdk_app_id="
        )
    return positive_int(value, "sdk_app_id", maximum=UINT32_MAX)


def trtc_room_id(value: Any, *, str_room_id: bool, param: str = "room_id") -> int | str:
    """Numeric rooms are 1..4294967294 (ASCII digits from a template are converted); string rooms
    are 1-64 bytes of TRTC's 89-character set."""
    if not str_room_id:
        if isinstance(value, str) and not _DIGITS.fullmatch(value.strip()):
            text_id(value, param, max_bytes=64)  # names None/null/control characters precisely
            raise RtcValidationError(
                param,
                f"must be a number from 1 to {TRTC_ROOM_MAX} in ASCII digits "
                "(use str_room_id=True for string room ids)",
                value,
            )
        return positive_int(value, param, maximum=TRTC_ROOM_MAX)
    return text_id(
        value,
        param,
        max_bytes=64,
        pattern=_STR_ROOM_RE,
        rule="must be 1-64 bytes of letters, digits and TRTC's allowed symbols",
    )


def trtc_user_id(value: Any, param: str = "user_id") -> str:
    return text_id(
        value, param, max_bytes=32, pattern=_TRTC_USER_RE, rule="must be 1-32 bytes of [a-zA-Z0-9_-]"
    )


def trtc_user_ids(value: Any, param: str = "user_ids", *, max_items: int) -> list[str]:
    """``max_items``: the API's ``batch`` in the catalog (RemoveUser: 10), the one place it is written."""
    return string_list(value, param, max_items=max_items, item=trtc_user_id)


def token(value: Any, param: str, *, max_bytes: int = 128) -> str:
    """A task or session id: printable ASCII without spaces."""
    return text_id(
        value,
        param,
        max_bytes=max_bytes,
        pattern=_TOKEN_RE,
        rule=f"must be 1-{max_bytes} printable ASCII characters without spaces",
    )


def mix_stream_session_id(value: Any, param: str = "mix_stream_session_id") -> str:
    return text_id(
        value,
        param,
        max_bytes=80,
        pattern=_MIX_SESSION_RE,
        rule="must be 1-80 bytes of letters, digits and underscores",
    )


def zego_id(value: Any, param: str, *, max_bytes: int = 128) -> str:
    """A ZEGO room or user id: printable ASCII without spaces (ZEGO's documented set is a subset)."""
    return text_id(
        value,
        param,
        max_bytes=max_bytes,
        pattern=_TOKEN_RE,
        rule=f"must be 1-{max_bytes} bytes of printable ASCII without spaces",
    )


def zego_user_id(value: Any, param: str = "user_id") -> str:
    return zego_id(value, param, max_bytes=64)


def optional_zego_user_id(value: Any, param: str = "user_id") -> str | None:
    """A UserId that may be left out (StopMix without task ownership): None or ``""`` is None."""
    return None if value in (None, "") else zego_user_id(value, param)


def zego_reason(value: Any, param: str = "custom_reason") -> str | None:
    """ZEGO's optional ``CustomReason`` (CloseRoom, KickoutUser): at most 256 bytes."""
    return optional_text(value, param, max_bytes=256)


def zego_stream_id(value: Any, param: str = "stream_id") -> str:
    return text_id(
        value,
        param,
        max_bytes=256,
        pattern=_ZEGO_STREAM_RE,
        rule="must be 1-256 bytes of letters, digits, '-' and '_'",
    )


def conn_id(value: Any, param: str) -> str:
    """An Airflow connection id: 1-250 characters of letters, digits and ``._-``."""
    return text_id(
        value,
        param,
        max_bytes=250,
        pattern=_CONN_ID_RE,
        rule="must be 1-250 letters, digits, '.', '_' or '-'",
    )


def secret_text(value: Any, param: str, *, max_bytes: int) -> str:
    """A credential-like value (UserSig): checked like an id, but never echoed in the error."""
    return text_id(value, param, max_bytes=max_bytes, show_value=False)


def optional_text(value: Any, param: str, *, max_bytes: int) -> str | None:
    """Free text (a reason, a display name): any characters but control characters."""
    if value is None or value == "":
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise RtcValidationError(param, f"must be text (got a {type(value).__name__})")
    text = str(value)
    if _control_char(text, ("Cc", "Zl", "Zp")):  # a display name may hold emoji joiners (Cf)
        raise RtcValidationError(param, "control characters are not allowed", show_value=False)
    if len(text.encode()) > max_bytes:
        raise RtcValidationError(param, f"at most {max_bytes} bytes", show_value=False)
    return text


# -- connection values -----------------------------------------------------------------------
def optional_header(value: Any, param: str, *, secret: bool = False) -> str | None:
    return None if value is None or value == "" else header_value(value, param, secret=secret)


def header_value(value: Any, param: str, *, secret: bool = False) -> str:
    """A value sent in an HTTP header (SecretId, STS token, language): Latin-1 without control
    characters, or the HTTP client fails on it later with an error that looks like a network fault."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise RtcValidationError(param, f"must be text (got a {type(value).__name__})")
    text = str(value).strip()
    shown = None if secret else value
    if not text:
        raise RtcValidationError(param, "must not be empty or whitespace only")
    if _control_char(text):
        raise RtcValidationError(param, "control characters are not allowed in a header value", shown)
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        raise RtcValidationError(
            param, "must be Latin-1 text (it is sent in an HTTP header)", shown
        ) from None
    return text


def secret_key(value: Any, param: str) -> str:
    """A signing key: any text, but not empty or whitespace only (that would sign with nothing)."""
    text = "" if value is None else str(value).strip()
    if not text:
        raise RtcValidationError(param, "must not be empty or whitespace only")
    if _control_char(text):
        raise RtcValidationError(param, "control characters are not allowed", show_value=False)
    return text


def endpoint_url(value: Any, param: str = "endpoint", *, allow_path: bool = False) -> str | None:
    """``http(s)://host[:port]`` (plus a path prefix if ``allow_path``): no user info, query or
    fragment, a valid port, a plausible host. ``None``/``""`` mean "not set"."""
    from urllib.parse import urlsplit

    if value is None or value == "":
        return None
    shape = "http(s)://host[:port]" + ("[/path]" if allow_path else "")
    rule = f"must be a URL like {shape}, e.g. http://127.0.0.1:8990"
    if not isinstance(value, str) or _control_char(value) or " " in value.strip():
        raise RtcValidationError(param, rule, value if isinstance(value, str) else None)
    text = value.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname
    except ValueError as err:
        raise RtcValidationError(param, f"{rule} ({err})", value) from None
    if parts.scheme not in ("http", "https") or not host:
        raise RtcValidationError(param, rule, value)
    if parts.username is not None or parts.password is not None:
        raise RtcValidationError(param, f"{rule}; user info (user:password@) is not allowed")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise RtcValidationError(param, f"{rule}; no query or fragment", value)
    if parts.path and not allow_path:
        raise RtcValidationError(param, f"{rule}; no path", value)
    if port == 0:
        raise RtcValidationError(param, f"{rule}; port must be 1-65535", value)
    bracketed = parts.netloc.rsplit("@", 1)[-1].startswith("[")
    if not bracketed and not _HOST_RE.fullmatch(host):
        raise RtcValidationError(param, f"{rule}; invalid host", value)
    return text


#: the placeholders a TRTC ``file_url_template`` may use
TRTC_FILE_URL_FIELDS = ("task_id", "sdk_app_id", "file_name")


# -- templates -------------------------------------------------------------------------------
def format_template(value: Any, param: str, *, fields: Iterable[str]) -> str | None:
    """A ``str.format`` template using only ``fields``: checked when the operator is built, so a
    typo such as ``{nmae}`` fails at once, not after the recording was stopped. Jinja's
    ``{{ ... }}`` is left alone (Airflow renders it first)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RtcValidationError(param, f"must be a string (got a {type(value).__name__})")
    allowed = set(fields)
    if "{{" in value or "{%" in value:  # a Jinja template: checked again once rendered
        return value
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as err:
        raise RtcValidationError(param, f"not a valid format string ({err})", value) from None
    for name in names:
        base = name.split(".")[0].split("[")[0]
        if base not in allowed:
            raise RtcValidationError(
                param, f"unknown placeholder {{{name}}}; use {', '.join(sorted(allowed))}", value
            )
    return value


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

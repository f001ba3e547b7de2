"""Validation's id, list, URL and template checks, pinned where `make mutate` found them unjudged.

Written for the fourth mutation run (issue 24 item 5): each test here killed a mutant that the
operator-level tests let through, because they check only that a bad value is refused, not what the
refusal says (the parameter, the rule) or that an empty optional value is None.
"""

from __future__ import annotations

import pytest

from airflow_provider_rtc import validation as v
from airflow_provider_rtc.errors import RtcValidationError


def refusal(call: object, *args: object, **kwargs: object) -> RtcValidationError:
    with pytest.raises(RtcValidationError) as err:
        call(*args, **kwargs)  # type: ignore[operator]
    return err.value


# -- ZEGO ids -------------------------------------------------------------------------------------


def test_an_optional_zego_user_id_is_none_when_empty_and_checked_otherwise() -> None:
    assert v.optional_zego_user_id(None) is None
    assert v.optional_zego_user_id("") is None
    assert v.optional_zego_user_id("u-1") == "u-1"
    err = refusal(v.optional_zego_user_id, "a b", "owner")
    assert err.param == "owner"
    assert str(err) == "invalid owner: must be 1-64 bytes of printable ASCII without spaces (got 'a b')"


def test_a_zego_stream_id_states_its_rule() -> None:
    err = refusal(v.zego_stream_id, "s.1")
    assert err.param == "stream_id"
    assert str(err) == "invalid stream_id: must be 1-256 bytes of letters, digits, '-' and '_' (got 's.1')"


# -- format templates -----------------------------------------------------------------------------


def test_an_empty_template_is_none_and_a_non_string_names_its_type() -> None:
    assert v.format_template("", "name", fields=["room"]) is None
    assert v.format_template(None, "name", fields=["room"]) is None
    err = refusal(v.format_template, 3, "name", fields=["room"])
    assert err.param == "name"
    assert str(err) == "invalid name: must be a string (got a int)"


def test_an_unknown_placeholder_lists_the_allowed_ones() -> None:
    fields = ["room", "task_id"]
    assert v.format_template("{room}-{task_id}.mp4", "name", fields=fields) == "{room}-{task_id}.mp4"
    assert v.format_template("{room.x}/{task_id[0]}", "name", fields=fields) == "{room.x}/{task_id[0]}"
    assert v.format_template("{{ ds }}/{nmae}", "name", fields=fields) == "{{ ds }}/{nmae}"
    assert v.format_template("{% if x %}{nmae}{% endif %}", "name", fields=fields)
    assert v.format_template("plain", "name", fields=fields) == "plain"
    err = refusal(v.format_template, "a/{nmae.x}", "name", fields=fields)
    assert err.param == "name"
    assert str(err) == "invalid name: unknown placeholder {nmae.x}; use room, task_id (got 'a/{nmae.x}')"


def test_a_broken_format_string_says_why() -> None:
    err = refusal(v.format_template, "a{room", "name", fields=["room"])
    assert err.param == "name"
    assert (
        str(err)
        == "invalid name: not a valid format string (expected '}' before end of string) (got 'a{room')"
    )


# -- the callback receiver's URL ------------------------------------------------------------------

RULE = "must be http(s)://host[:port] with an optional path prefix, e.g. http://airflow:8080/rtc-callbacks"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("http://airflow:8080/rtc-callbacks/", "http://airflow:8080/rtc-callbacks"),
        ("  https://r.example.com  ", "https://r.example.com"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("http://h:65535/a/b", "http://h:65535/a/b"),
        ("http://hostX/", "http://hostX"),  # only "/" is stripped
        ("http://h/a!", "http://h/a!"),  # "!" (0x21) is the first printable character
        ("http://h/\x80", "http://h/\x80"),  # only 0x7f above it is refused
    ],
)
def test_a_receiver_url_is_kept_without_its_trailing_slash(url: str, kept: str) -> None:
    assert v.receiver_url(url) == kept


@pytest.mark.parametrize(
    ("url", "why"),
    [
        (None, ""),
        ("", ""),
        ("   ", ""),
        ("http://a b", ""),
        ("http://a\x7f", ""),
        ("http://a\x00", ""),
        ("http://a\x20b", ""),
        ("ftp://h", ""),
        ("http://", ""),
        ("h:80", ""),
        ("http://h:99999", " (the port is invalid)"),
        ("http://h:x", " (the port is invalid)"),
        ("http://h:0", " (the port is invalid)"),
        ("http://h/?", " (no query or fragment)"),
        ("http://h/#", " (no query or fragment)"),
        ("http://h/p?a=1", " (no query or fragment)"),
        ("http://h/p#f", " (no query or fragment)"),
    ],
)
def test_a_bad_receiver_url_names_the_parameter_and_the_rule(url: str | None, why: str) -> None:
    err = refusal(v.receiver_url, url)
    assert err.param == "callback_receiver_url"
    shown = f" (got {url!r})" if url is not None else ""
    assert str(err) == f"invalid callback_receiver_url: {RULE}{why}{shown}"


def test_a_receiver_url_with_user_info_is_refused_without_echoing_it() -> None:
    err = refusal(v.receiver_url, "http://u:secret@h:80", "url")
    assert err.param == "url"
    assert str(err) == "invalid url: must not contain user:password@"


# -- each id's refusal: the parameter and the rule it states ---------------------------------------

REFUSALS = [
    (v.trtc_user_id, ("a b",), {}, "invalid user_id: must be 1-32 bytes of [a-zA-Z0-9_-] (got 'a b')"),
    (
        v.trtc_user_id,
        ("x" * 33, "uid"),
        {},
        f"invalid uid: must be 1-32 bytes of [a-zA-Z0-9_-] (got '{'x' * 33}')",
    ),
    (
        v.trtc_room_id,
        ("r1",),
        {"str_room_id": False},
        "invalid room_id: must be a number from 1 to 4294967294 in ASCII digits "
        "(use str_room_id=True for string room ids) (got 'r1')",
    ),
    (
        v.trtc_room_id,
        ("0",),
        {"str_room_id": False},
        "invalid room_id: must be an integer from 1 to 4294967294 (got '0')",
    ),
    (
        v.trtc_room_id,
        (None,),
        {"str_room_id": False},
        "invalid room_id: must be an integer from 1 to 4294967294",
    ),
    (
        v.trtc_room_id,
        ("x" * 65,),
        {"str_room_id": True, "param": "rid"},
        f"invalid rid: must be 1-64 bytes of letters, digits and TRTC's allowed symbols (got '{'x' * 65}')",
    ),
    (
        v.trtc_user_ids,
        (["a", "b c"],),
        {"max_items": 2},
        "invalid user_ids[1]: must be 1-32 bytes of [a-zA-Z0-9_-] (got 'b c')",
    ),
    (
        v.trtc_user_ids,
        (["a", "b", "c"],),
        {"max_items": 2},
        "invalid user_ids: at most 2 distinct items (got 3)",
    ),
    (
        v.token,
        ("a b", "task_id"),
        {},
        "invalid task_id: must be 1-128 printable ASCII characters without spaces (got 'a b')",
    ),
    (
        v.token,
        ("x" * 9, "t"),
        {"max_bytes": 8},
        "invalid t: must be 1-8 printable ASCII characters without spaces (got 'xxxxxxxxx')",
    ),
    (
        v.mix_stream_session_id,
        ("a-b",),
        {},
        "invalid mix_stream_session_id: must be 1-80 bytes of letters, digits and underscores (got 'a-b')",
    ),
    (
        v.zego_id,
        ("a b", "room_id"),
        {},
        "invalid room_id: must be 1-128 bytes of printable ASCII without spaces (got 'a b')",
    ),
    (
        v.zego_user_id,
        ("a b",),
        {},
        "invalid user_id: must be 1-64 bytes of printable ASCII without spaces (got 'a b')",
    ),
    (
        v.zego_user_id,
        ("x" * 65, "u"),
        {},
        f"invalid u: must be 1-64 bytes of printable ASCII without spaces (got '{'x' * 65}')",
    ),
    (
        v.conn_id,
        ("a b", "conn"),
        {},
        "invalid conn: must be 1-250 letters, digits, '.', '_' or '-' (got 'a b')",
    ),
    (
        v.sdk_app_id,
        (None,),
        {},
        "invalid sdk_app_id: missing SDKAppID: set the connection extra 'sdk_app_id' or pass sdk_app_id=",
    ),
    (
        v.sdk_app_id,
        ("",),
        {},
        "invalid sdk_app_id: missing SDKAppID: set the connection extra 'sdk_app_id' or pass sdk_app_id=",
    ),
    (
        v.sdk_app_id,
        (2**32,),
        {},
        "invalid sdk_app_id: must be an integer from 1 to 4294967295 (got 4294967296)",
    ),
    (
        v.region,
        ("",),
        {"required": True},
        "invalid region: required for TRTC: set the connection extra 'region' or pass region=",
    ),
    (v.zego_reason, ("x" * 257,), {}, "invalid custom_reason: at most 256 bytes"),
    (
        v.optional_text,
        ("a\x00", "note"),
        {"max_bytes": 8},
        "invalid note: control characters are not allowed",
    ),
    (
        v.optional_text,
        ("a\u2028", "note"),
        {"max_bytes": 8},
        "invalid note: control characters are not allowed",
    ),
    (v.optional_text, ("x" * 9, "note"), {"max_bytes": 8}, "invalid note: at most 8 bytes"),
    (v.optional_text, ("é" * 5, "note"), {"max_bytes": 9}, "invalid note: at most 9 bytes"),
    (v.optional_text, (3.5, "note"), {"max_bytes": 8}, "invalid note: must be text (got a float)"),
    (v.optional_text, (True, "note"), {"max_bytes": 8}, "invalid note: must be text (got a bool)"),
]


@pytest.mark.parametrize(("call", "args", "kwargs", "text"), REFUSALS)
def test_each_id_check_names_its_parameter_and_rule(
    call: object, args: tuple, kwargs: dict, text: str
) -> None:
    assert str(refusal(call, *args, **kwargs)) == text


def test_an_unknown_region_lists_the_known_ones() -> None:
    err = refusal(v.region, "ap guangzhou", required=True)
    assert err.param == "region"
    known = sorted(v.TENCENT_REGIONS)
    assert str(err) == f"invalid region: unknown Tencent Cloud region; one of {known} (got 'ap guangzhou')"
    assert str(refusal(v.region, 3, required=False)).endswith("(got 3)")


@pytest.mark.parametrize(
    ("call", "args", "kwargs", "value"),
    [
        (v.region, (None,), {"required": False}, None),
        (v.region, ("",), {"required": False}, None),
        (v.region, (" ap-guangzhou ",), {"required": True}, "ap-guangzhou"),
        (v.optional_text, ("", "n"), {"max_bytes": 3}, None),
        (v.optional_text, (None, "n"), {"max_bytes": 3}, None),
        (v.optional_text, (12, "n"), {"max_bytes": 2}, "12"),
        (v.optional_text, ("a\u200db", "n"), {"max_bytes": 5}, "a\u200db"),  # a joiner (Cf) is text
        (v.optional_text, ("é", "n"), {"max_bytes": 2}, "é"),
        (v.zego_reason, (None,), {}, None),
        (v.zego_reason, ("x" * 256,), {}, "x" * 256),
        (v.trtc_room_id, (" 12 ",), {"str_room_id": False}, 12),
        (v.trtc_room_id, ("a b",), {"str_room_id": True}, "a b"),  # TRTC's set holds the space
        (v.trtc_user_id, ("x" * 32,), {}, "x" * 32),
        (v.zego_user_id, ("x" * 64,), {}, "x" * 64),
        (v.token, ("x" * 8, "t"), {"max_bytes": 8}, "x" * 8),
        (v.sdk_app_id, ("1400000001",), {}, 1400000001),
        (v.sdk_app_id, (2**32 - 1,), {}, 2**32 - 1),
    ],
)
def test_good_values_pass_as_they_are(call: object, args: tuple, kwargs: dict, value: object) -> None:
    assert call(*args, **kwargs) == value  # type: ignore[operator]


# -- lists ------------------------------------------------------------------------------------------

LIST_RULE = "must be a list, a JSON list string or a Python-literal list string"


def same(raw: object, name: str) -> object:
    return raw


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("abc", f"invalid ids: {LIST_RULE}; a bare string is not split into ids (got 'abc')"),
        ("[1,", f"invalid ids: {LIST_RULE}; this one does not parse (got '[1,')"),
        ("[[[[1]]]]", f"invalid ids: {LIST_RULE} nested at most 3 deep"),
        ({"a"}, f"invalid ids: {LIST_RULE} (got a set)"),
        (5, f"invalid ids: {LIST_RULE} (got a int)"),
        ([], "invalid ids: must name at least 1 item(s) (got [])"),
    ],
)
def test_a_list_that_is_not_one_says_what_it_is(value: object, text: str) -> None:
    err = refusal(v.id_list, value, "ids", item=same)
    assert err.param == "ids"
    assert str(err) == text


def test_list_items_are_deduplicated_by_their_serialized_key() -> None:
    assert v.id_list('["a", "b", "a"]', "ids", item=same) == v.IdList(["a", "b"], ["a"])
    assert v.id_list("('a', 'b')", "ids", item=same) == v.IdList(["a", "b"], [])
    assert v.id_list([{"a": 1, "b": 2}, {"b": 2, "a": 1}], "ids", item=same).items == [{"a": 1, "b": 2}]
    assert v.id_list(["A", "a"], "ids", item=same, key=str.lower) == v.IdList(["A"], ["a"])
    assert v.id_list([], "ids", item=same, min_items=0) == v.IdList([], [])
    err = refusal(v.id_list, ["a", "b", "a", "c"], "ids", item=same, max_items=2)
    assert str(err) == "invalid ids: at most 2 distinct items (got 3)"
    assert v.id_list(["a", "b", "a"], "ids", item=same, max_items=2).items == ["a", "b"]


def test_each_item_is_checked_under_its_index() -> None:
    names: list[str] = []
    v.id_list(["x", "y"], "ids", item=lambda raw, name: names.append(name) or raw)
    assert names == ["ids[0]", "ids[1]"]
    assert v.string_list(["ab", "ab"], "ids", max_items=1, max_bytes=2) == ["ab"]
    assert str(refusal(v.string_list, ["abc"], "ids", max_items=1, max_bytes=2)).startswith(
        "invalid ids[0]: must be 1-2 bytes"
    )


# -- endpoint URLs ----------------------------------------------------------------------------------

ENDPOINT = "must be a URL like http(s)://host[:port], e.g. http://127.0.0.1:8990"


@pytest.mark.parametrize(
    ("url", "allow_path", "kept"),
    [
        (None, False, None),
        ("", False, None),
        ("http://127.0.0.1:8990/", False, "http://127.0.0.1:8990"),
        (" https://a.b ", False, "https://a.b"),
        ("http://[::1]:1", False, "http://[::1]:1"),
        ("http://h/p/", True, "http://h/p"),
        ("http://X.example-1", False, "http://X.example-1"),
    ],
)
def test_a_good_endpoint_is_kept_without_its_trailing_slash(
    url: str | None, allow_path: bool, kept: str | None
) -> None:
    assert v.endpoint_url(url, allow_path=allow_path) == kept


@pytest.mark.parametrize(
    ("url", "allow_path", "tail"),
    [
        ("http://h/p", False, "; no path (got 'http://h/p')"),
        (3, False, ""),
        ("http://a\x00", False, " (got 'http://a\\x00')"),
        ("http://h\u2028", False, " (got 'http://h\\u2028')"),
        ("http://a b", False, " (got 'http://a b')"),
        ("ftp://h", False, " (got 'ftp://h')"),
        ("http://", False, " (got 'http://')"),
        ("http://u:p@h", False, "; user info (user:password@) is not allowed"),
        ("http://u@h", False, "; user info (user:password@) is not allowed"),
        ("http://:p@h", False, "; user info (user:password@) is not allowed"),
        ("http://h?x", False, "; no query or fragment (got 'http://h?x')"),
        ("http://h#f", False, "; no query or fragment (got 'http://h#f')"),
        ("http://h/?", True, "; no query or fragment (got 'http://h/?')"),
        ("http://h/#", True, "; no query or fragment (got 'http://h/#')"),
        ("http://h:0", False, "; port must be 1-65535 (got 'http://h:0')"),
        ("http://h:99999", False, " (Port out of range 0-65535) (got 'http://h:99999')"),
        ("http://[::1", False, " (Invalid IPv6 URL) (got 'http://[::1')"),
        ("http://-h", False, "; invalid host (got 'http://-h')"),
        ("http://h_", False, "; invalid host (got 'http://h_')"),
    ],
)
def test_a_bad_endpoint_names_the_parameter_and_why(url: object, allow_path: bool, tail: str) -> None:
    err = refusal(v.endpoint_url, url, "ep", allow_path=allow_path)
    assert err.param == "ep"
    rule = ENDPOINT.replace("[:port]", "[:port][/path]") if allow_path else ENDPOINT
    assert str(err) == f"invalid ep: {rule}{tail}"
    assert str(refusal(v.endpoint_url, "ftp://h")).startswith("invalid endpoint: ")


# -- header values and signing keys ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "secret", "text"),
    [
        ("  ", False, "invalid p: must not be empty or whitespace only"),
        (True, False, "invalid p: must be text (got a bool)"),
        (3.5, False, "invalid p: must be text (got a float)"),
        ("a\x00b", False, "invalid p: control characters are not allowed in a header value (got 'a\\x00b')"),
        ("a\x00b", True, "invalid p: control characters are not allowed in a header value"),
        ("é中", False, "invalid p: must be Latin-1 text (it is sent in an HTTP header) (got 'é中')"),
        ("é中", True, "invalid p: must be Latin-1 text (it is sent in an HTTP header)"),
    ],
)
def test_a_bad_header_value_says_why_and_hides_a_secret(value: object, secret: bool, text: str) -> None:
    err = refusal(v.header_value, value, "p", secret=secret)
    assert err.param == "p"
    assert str(err) == text


def test_a_header_value_is_stripped_text() -> None:
    assert v.header_value(" ab ", "p") == "ab"
    assert v.header_value(12, "p") == "12"
    assert v.header_value("é", "p") == "é"  # Latin-1


@pytest.mark.parametrize("value", [None, "", "  "])
def test_an_empty_signing_key_is_refused(value: object) -> None:
    err = refusal(v.secret_key, value, "k")
    assert err.param == "k"
    assert str(err) == "invalid k: must not be empty or whitespace only"


def test_a_signing_key_with_a_control_character_is_not_echoed() -> None:
    err = refusal(v.secret_key, "s3cr3t\x00", "k")
    assert str(err) == "invalid k: control characters are not allowed"
    assert v.secret_key(" k ", "k") == "k"
    assert v.secret_key(5, "k") == "5"


def test_a_numeric_room_id_given_as_text_is_first_checked_as_an_id() -> None:
    """The text_id pre-check names a missing value, a control character or an over-long id before
    the "ASCII digits" rule, which would hide what is wrong with it."""
    assert (
        str(refusal(v.trtc_room_id, "x" * 65, str_room_id=False))
        == f"invalid room_id: must be 1-64 bytes (got '{'x' * 65}')"
    )
    assert str(refusal(v.trtc_room_id, "x" * 64, str_room_id=False)).startswith(
        "invalid room_id: must be a number from 1 to 4294967294 in ASCII digits"
    )
    assert str(refusal(v.trtc_room_id, "null", str_room_id=False)) == (
        "invalid room_id: must be 1-64 bytes; 'null' is a missing value rendered as text (got 'null')"
    )


def test_a_string_list_item_is_at_most_128_bytes_by_default() -> None:
    assert v.string_list(["x" * 128], "ids", max_items=1) == ["x" * 128]
    err = refusal(v.string_list, ["x" * 129], "ids", max_items=1)
    assert err.param == "ids[0]"
    assert str(err).startswith("invalid ids[0]: must be 1-128 bytes")


# -- numbers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (True, " (got True)"),
        ([1], " (got [1])"),
        (None, ""),
        ("nan", " (got 'nan')"),
        (float("inf"), " (got inf)"),
    ],
)
def test_a_number_of_the_wrong_type_or_not_finite_states_the_rule(value: object, shown: str) -> None:
    err = refusal(v.number, value, "p")
    assert err.param == "p"
    assert str(err) == f"invalid p: must be a finite number{shown}"


# -- the last survivors of the validation run -------------------------------------------------------


def test_only_a_leading_sign_is_taken_off_an_integer_text() -> None:
    assert v.integer("+12", "p") == 12
    assert v.integer("-12", "p") == -12
    assert str(refusal(v.integer, "X12", "p")) == "invalid p: must be an integer (ASCII digits) (got 'X12')"


def test_a_paragraph_separator_is_no_display_text() -> None:
    assert str(refusal(v.optional_text, "a\u2029b", "note", max_bytes=8)) == (
        "invalid note: control characters are not allowed"
    )


def test_an_endpoint_loses_only_its_trailing_slashes() -> None:
    assert v.endpoint_url("http://hostX/") == "http://hostX"


def test_a_connection_id_is_at_most_250_characters() -> None:
    assert v.conn_id("c" * 250, "conn") == "c" * 250
    assert str(refusal(v.conn_id, "c" * 251, "conn")).startswith("invalid conn: must be 1-250 letters")


def test_items_that_json_cannot_hold_are_compared_by_their_text() -> None:
    from datetime import date

    day = date(2026, 12, 7)
    assert v.id_list([day, date(2026, 12, 7)], "days", item=same) == v.IdList([day], [day])

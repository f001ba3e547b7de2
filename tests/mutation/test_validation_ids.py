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
    assert str(err) == "invalid name: not a valid format string (expected '}' before end of string) (got 'a{room')"


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


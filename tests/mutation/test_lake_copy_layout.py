"""Where each copied file goes and where a templated source is fetched from (lake/copy.py).

Written for `make mutate` (issue 24 item 5): the layout and the source URL template were reached
only through whole operators (tests/lake/test_copy.py, outside the mutation selection) or not at
all (``render_url``). Each value's origin (manifest or file entry), its path-safe or URL-quoted
form, and each refusal (parameter, rule, value) is pinned here.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_rtc.errors import RtcValidationError
from airflow_provider_rtc.lake.copy import check_fields, check_layout, render_layout, render_url

RULE = "placeholders must be among {cloud, app_id, room_id, task_id, name, user_id, stream_id, format, date}"
MANIFEST = {"cloud": "trtc", "app_id": 1400000001, "room_id": "room 7", "task_id": "t/1"}
ENTRY = {
    "name": "a?b.mp4",
    "user_id": "u#1",
    "stream_id": "s 2",
    "format": "mp4",
    "begin_ms": 1_700_000_000_000,  # 2023-11-14T22:13:20Z
}
EVERY = "{cloud}/{app_id}/{room_id}/{task_id}/{user_id}/{stream_id}/{format}/{date}/{name}"


def test_every_layout_value_comes_from_its_place_and_is_path_safe() -> None:
    assert (
        render_layout(EVERY, MANIFEST, ENTRY) == "trtc/1400000001/room_7/t_1/u_1/s_2/mp4/2023-11-14/a_b.mp4"
    )


def test_every_url_value_comes_from_its_place_and_is_quoted_whole() -> None:
    url = render_url("https://cdn.example.com/" + EVERY, MANIFEST, ENTRY)
    assert (
        url == "https://cdn.example.com/trtc/1400000001/room%207/t%2F1/u%231/s%202/mp4/2023-11-14/a%3Fb.mp4"
    )


@pytest.mark.parametrize(
    ("begin", "date"),
    [
        (0, "1970-01-01"),
        (86_399_999, "1970-01-01"),
        (86_400_000, "1970-01-02"),
        ("86400000", "_"),
        (None, "_"),
    ],
)
def test_the_date_is_the_files_start_day_in_utc(begin: Any, date: str) -> None:
    assert render_layout("{date}/{name}", {}, {"name": "x", "begin_ms": begin}) == f"{date}/x"


def test_a_missing_value_is_an_underscore_in_a_path_and_none_in_a_url() -> None:
    assert render_layout("{cloud}/{user_id}/{name}", {}, {"name": "x", "user_id": ""}) == "_/_/x"
    assert render_url("https://h/{cloud}/{name}", {}, {"name": "x"}) == "https://h/None/x"


@pytest.mark.parametrize(
    ("layout", "path"),
    [("/{name}", "x"), ("{name}//", "x"), ("a//b/{name}", "a/b/x"), ("{name}.{format}", "x._")],
)
def test_empty_path_parts_are_dropped(layout: str, path: str) -> None:
    assert render_layout(layout, {}, {"name": "x"}) == path


@pytest.mark.parametrize("layout", ["../{name}", "{name}/..", "a/./{name}", "/"])
def test_a_layout_that_leaves_the_destination_is_refused(layout: str) -> None:
    with pytest.raises(RtcValidationError) as caught:
        render_layout(layout, {}, {"name": "x"})
    assert caught.value.param == "layout"
    assert caught.value.rule == "must render to a relative path without '.' or '..'"


@pytest.mark.parametrize("layout", ["{name}", "{cloud}/{app_id}/{name}", EVERY])
def test_a_layout_with_known_placeholders_and_the_name_is_accepted_as_given(layout: str) -> None:
    assert check_layout(layout) == layout


def test_a_layout_without_the_name_is_refused_with_why() -> None:
    with pytest.raises(RtcValidationError) as caught:
        check_layout("{cloud}/{room_id}")
    err = caught.value
    assert (err.param, err.rule) == ("layout", "must contain {name} so that every file has its own path")
    assert str(err) == (
        "invalid layout: must contain {name} so that every file has its own path (got '{cloud}/{room_id}')"
    )


def test_a_layout_that_renders_outside_is_refused_by_the_check() -> None:
    with pytest.raises(RtcValidationError, match=r"without '\.' or '\.\.'"):
        check_layout("../{name}")


def test_a_layout_with_an_unknown_placeholder_is_refused_by_the_check() -> None:
    with pytest.raises(RtcValidationError) as caught:
        check_layout("{nmae}/{name}")
    assert (caught.value.param, caught.value.rule) == ("layout", f"unknown placeholder {{nmae}}; {RULE}")


@pytest.mark.parametrize("template", [None, 7, "", "   ", ["{name}"]])
def test_a_template_that_is_not_text_is_refused(template: Any) -> None:
    with pytest.raises(RtcValidationError) as caught:
        check_fields(template, "source_url_template")
    err = caught.value
    assert (err.param, err.rule) == ("source_url_template", f"a non-empty text template; {RULE}")


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("{name!r}", "name"),  # a conversion
        ("{name:>20}", "name"),  # a format spec
        ("{name.upper}", "name.upper"),  # attribute access
        ("{name[0]}", "name[0]"),  # index access
        ("{0}", "0"),
        ("{}", ""),
    ],
)
def test_only_plain_placeholders_are_allowed(template: str, field: str) -> None:
    with pytest.raises(RtcValidationError) as caught:
        check_fields(f"x/{template}", "layout")
    assert (caught.value.param, caught.value.rule) == ("layout", f"unknown placeholder {{{field}}}; {RULE}")


def test_a_template_that_does_not_parse_is_refused_with_the_parsers_words() -> None:
    with pytest.raises(RtcValidationError) as caught:
        check_fields("x/{name", "layout")
    assert caught.value.rule == f"not a valid template (expected '}}' before end of string); {RULE}"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_the_allowed_placeholders_can_be_narrowed() -> None:
    allowed = ("cloud", "app_id")
    assert (
        check_fields("s3://b/{cloud}/{app_id}", "source_bucket", allowed=allowed) == "s3://b/{cloud}/{app_id}"
    )
    with pytest.raises(RtcValidationError) as caught:
        check_fields("s3://b/{name}", "source_bucket", allowed=allowed)
    assert caught.value.rule == "unknown placeholder {name}; placeholders must be among {cloud, app_id}"


def test_a_url_template_is_checked_before_it_renders() -> None:
    with pytest.raises(RtcValidationError) as caught:
        render_url("https://h/{name.__class__}", {}, {"name": "x"})
    assert caught.value.param == "source_url_template"


def test_each_refusal_shows_the_template_it_refused() -> None:
    """The message names the parameter, the rule and the value given (a layout holds no secret)."""
    cases = [
        (7, "source_url_template", f"invalid source_url_template: a non-empty text template; {RULE} (got 7)"),
        (
            "x/{name",
            "layout",
            "invalid layout: not a valid template (expected '}' before end of string); "
            f"{RULE} (got 'x/{{name')",
        ),
        ("x/{nmae}", "layout", f"invalid layout: unknown placeholder {{nmae}}; {RULE} (got 'x/{{nmae}}')"),
    ]
    for template, param, message in cases:
        with pytest.raises(RtcValidationError) as caught:
            check_fields(template, param)
        assert (caught.value.param, str(caught.value)) == (param, message)


def test_a_layout_is_checked_when_it_renders_and_its_rendering_is_shown() -> None:
    with pytest.raises(RtcValidationError) as caught:
        render_layout("{nmae}/{name}", {}, {"name": "x"})
    assert caught.value.param == "layout"
    with pytest.raises(RtcValidationError) as caught:
        render_layout("../{name}", {}, {"name": "x"})
    assert (
        str(caught.value) == "invalid layout: must render to a relative path without '.' or '..' (got '../x')"
    )

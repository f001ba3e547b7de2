"""The input contract's scalar checks at their edges, with the exact message a user reads.

Written for `make mutate` (issue 24 item 5): tests/unit/test_validation.py and test_bad_inputs.py
prove every operator refuses bad input before the first call; these pin the functions all of
those go through (ids, integers, numbers, booleans and switches, rendered literals, the secrets'
control-character check) at each boundary, and the rule each error states, since the error is the
only thing a user with a bad template sees.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_provider_rtc import validation as v
from airflow_provider_rtc.errors import RtcValidationError


def message(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(RtcValidationError) as err:
        call(*args, **kwargs)
    assert err.value.param == "p"
    return str(err.value)


# -- control characters ---------------------------------------------------------------------------


@pytest.mark.parametrize("ch", ["\x00", "\n", "\t", "\x7f", "\x85", "\u200b", "\u200d", "\u2028", "\u2029"])
def test_control_format_and_separator_characters_are_caught(ch: str) -> None:
    assert v.has_control_char(f"a{ch}b")


@pytest.mark.parametrize("text", ["", "abc", "a b", "é中文", "\u00a0", "😀"])
def test_printable_text_has_none(text: str) -> None:
    assert not v.has_control_char(text)


# -- ids ---------------------------------------------------------------------------------------------


def test_an_id_of_the_wrong_type_names_the_type() -> None:
    assert message(v.text_id, True, "p", max_bytes=8) == (
        "invalid p: must be 1-8 bytes; got a bool, not a string or integer"
    )
    assert message(v.text_id, 1.5, "p", max_bytes=8).endswith("got a float, not a string or integer")
    assert message(v.text_id, None, "p", max_bytes=8).endswith("got a NoneType, not a string or integer")
    assert v.text_id(42, "p", max_bytes=8) == "42"


def test_an_empty_id_says_so() -> None:
    assert (
        message(v.text_id, "  ", "p", max_bytes=8)
        == "invalid p: must be 1-8 bytes; got an empty value (got '  ')"
    )
    assert message(v.text_id, "", "p", max_bytes=8, rule="R") == "invalid p: R; got an empty value (got '')"


@pytest.mark.parametrize("text", ["None", "null", "NULL", " none"])
def test_a_rendered_none_is_a_missing_value(text: str) -> None:
    assert message(v.text_id, text, "p", max_bytes=8) == (
        f"invalid p: must be 1-8 bytes; {text!r} is a missing value rendered as text (got {text!r})"
    )


def test_nonesuch_is_an_id() -> None:
    assert v.text_id("nonesuch", "p", max_bytes=8) == "nonesuch"


def test_control_characters_and_whitespace_in_an_id() -> None:
    assert message(v.text_id, "a\u200bb", "p", max_bytes=8) == (
        "invalid p: must be 1-8 bytes; control characters are not allowed (got 'a\\u200bb')"
    )
    assert message(v.text_id, " ab", "p", max_bytes=8) == (
        "invalid p: must be 1-8 bytes; leading or trailing whitespace (got ' ab')"
    )
    assert message(v.text_id, "ab ", "p", max_bytes=8).endswith("leading or trailing whitespace (got 'ab ')")


def test_an_id_is_measured_in_utf8_bytes() -> None:
    assert v.text_id("é" * 4, "p", max_bytes=8) == "é" * 4  # 8 bytes: the limit is inclusive
    assert message(v.text_id, "é" * 5, "p", max_bytes=9) == "invalid p: must be 1-9 bytes (got 'ééééé')"
    assert v.text_id("a", "p", max_bytes=1) == "a"


def test_an_id_must_match_the_whole_pattern() -> None:
    pattern = re.compile(r"[a-z]+")
    assert v.text_id("abc", "p", max_bytes=8, pattern=pattern) == "abc"
    assert message(v.text_id, "abc1", "p", max_bytes=8, pattern=pattern, rule="letters") == (
        "invalid p: letters (got 'abc1')"
    )


def test_a_secret_is_checked_like_an_id_but_never_shown() -> None:
    for bad in ("", "null", "a\nb", " a", "x" * 9):
        text = message(v.secret_text, bad, "p", max_bytes=8)
        assert "(got" not in text
    assert message(v.secret_text, "a\x00b", "p", max_bytes=8) == (
        "invalid p: must be 1-8 bytes; control characters are not allowed"
    )
    assert v.secret_text("sig", "p", max_bytes=8) == "sig"


# -- integers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7, 7), ("7", 7), (" 42 ", 42), ("+5", 5), ("-3", -3), ("0", 0), ("9" * 20, int("9" * 20))],
)
def test_integers_from_ints_and_rendered_text(value: Any, expected: int) -> None:
    assert v.integer(value, "p") == expected


@pytest.mark.parametrize(
    "value", ["", "-", "+", "1.0", "1e3", "\uff11\uff12", "\u00b2", "9" * 21, "--1", "0x10", "1 2"]
)
def test_text_that_is_no_integer(value: str) -> None:
    assert message(v.integer, value, "p") == f"invalid p: must be an integer (ASCII digits) (got {value!r})"


def test_other_types_are_no_integer() -> None:
    assert message(v.integer, True, "p") == "invalid p: must be an integer (got True)"
    assert message(v.integer, None, "p") == "invalid p: must be an integer"
    assert message(v.integer, 1.0, "p") == "invalid p: must be an integer; got a float"
    assert message(v.integer, b"1", "p") == "invalid p: must be an integer; got a bytes"


def test_optional_integers() -> None:
    assert v.integer(None, "p", optional=True) is None
    assert v.integer("", "p", optional=True) is None
    assert v.integer(0, "p", optional=True) == 0
    with pytest.raises(RtcValidationError):
        v.integer("", "p")


def test_integer_bounds_are_inclusive_and_stated() -> None:
    assert v.integer(1, "p", minimum=1, maximum=5) == 1
    assert v.integer("5", "p", minimum=1, maximum=5) == 5
    assert (
        message(v.integer, 0, "p", minimum=1, maximum=5)
        == "invalid p: must be an integer from 1 to 5 (got 0)"
    )
    assert message(v.integer, "6", "p", minimum=1, maximum=5) == (
        "invalid p: must be an integer from 1 to 5 (got '6')"
    )
    assert message(v.integer, -1, "p", minimum=0) == "invalid p: must be an integer >= 0 (got -1)"
    assert message(v.integer, 11, "p", maximum=10) == "invalid p: must be an integer <= 10 (got 11)"
    assert v.integer(-(10**6), "p", maximum=10) == -(10**6)
    assert v.integer(10**6, "p", minimum=0) == 10**6


def test_positive_and_non_negative_integers() -> None:
    assert v.positive_int("1", "p") == 1
    assert message(v.positive_int, 0, "p") == "invalid p: must be an integer >= 1 (got 0)"
    assert message(v.positive_int, 4, "p", maximum=3) == "invalid p: must be an integer from 1 to 3 (got 4)"
    assert v.positive_int(3, "p", maximum=3) == 3
    assert v.non_negative_int(0, "p") == 0
    assert v.non_negative_int(None, "p") is None
    assert message(v.non_negative_int, -1, "p") == "invalid p: must be an integer >= 0 (got -1)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3.9, 3),
        (-2.5, -2),
        ("12", 12),
        (12, 12),
        (float("inf"), None),
        (float("nan"), None),
        ("x", None),
        (None, None),
        (True, None),
        ("", None),
    ],
)
def test_lenient_int_reads_cloud_data_without_raising(value: Any, expected: int | None) -> None:
    assert v.lenient_int(value) == expected


# -- real numbers ----------------------------------------------------------------------------------


def test_number_rules_are_stated() -> None:
    assert message(v.number, "x", "p") == "invalid p: must be a finite number (got 'x')"
    assert message(v.number, -1, "p", minimum=0) == "invalid p: must be a finite number >= 0 (got -1)"
    assert message(v.number, 0, "p", minimum=0, exclusive_minimum=True) == (
        "invalid p: must be a finite number > 0 (got 0)"
    )
    assert message(v.number, 9, "p", maximum=2.5) == "invalid p: must be a finite number <= 2.5 (got 9)"
    assert message(v.number, 9, "p", minimum=0.5, maximum=2.5) == (
        "invalid p: must be a finite number >= 0.5 and <= 2.5 (got 9)"
    )


@pytest.mark.parametrize(
    ("value", "expected"), [(2, 2.0), (2.5, 2.5), (" 2.5 ", 2.5), ("1e2", 100.0), ("-0", 0.0)]
)
def test_numbers_from_numbers_and_text(value: Any, expected: float) -> None:
    assert v.number(value, "p") == expected


@pytest.mark.parametrize(
    "value", [True, None, [1], b"1", "nan", "inf", "-inf", "1e400", 10**400, float("nan"), ""]
)
def test_what_is_no_finite_number(value: Any) -> None:
    with pytest.raises(RtcValidationError):
        v.number(value, "p")


def test_number_bounds() -> None:
    assert v.number(0, "p", minimum=0) == 0.0  # inclusive
    assert v.number(0.001, "p", minimum=0, exclusive_minimum=True) == 0.001
    assert v.number(2.5, "p", maximum=2.5) == 2.5
    assert v.number(-5, "p", maximum=2.5) == -5.0
    assert v.number(1e9, "p", minimum=0) == 1e9
    with pytest.raises(RtcValidationError):
        v.number(-0.001, "p", minimum=0)
    assert v.number(None, "p", optional=True) is None
    assert v.number("", "p", optional=True) is None
    assert v.number(0, "p", optional=True) == 0.0


# -- booleans ----------------------------------------------------------------------------------------


def test_a_flag_is_a_bool_only() -> None:
    assert v.flag(True, "p") is True and v.flag(False, "p") is False
    assert message(v.flag, "False", "p") == "invalid p: must be True or False (got 'False')"
    assert message(v.flag, 0, "p") == "invalid p: must be True or False (got 0)"


@pytest.mark.parametrize("value", [True, "true", "1", "yes", "on", " TRUE ", "Yes", 1])
def test_boolean_true_spellings(value: Any) -> None:
    assert v.boolean(value, "p") is True


@pytest.mark.parametrize("value", [False, "false", "0", "no", "off", " Off ", 0])
def test_boolean_false_spellings(value: Any) -> None:
    assert v.boolean(value, "p") is False


def test_boolean_keeps_none_and_refuses_the_rest() -> None:
    assert v.boolean(None, "p") is None
    assert message(v.boolean, "maybe", "p") == "invalid p: must be true or false (got 'maybe')"
    assert message(v.boolean, "", "p") == "invalid p: must be true or false (got '')"
    with pytest.raises(RtcValidationError):
        v.boolean(2, "p")


def test_a_switch_takes_bools_and_their_text_only() -> None:
    assert v.switch(True, "p") is True and v.switch(False, "p") is False
    assert v.switch(" TRUE ", "p") is True and v.switch("false", "p") is False
    assert v.switch("False", "p") is False
    for bad in ("", None, 0, 1, "yes", "no", "0"):
        assert message(v.switch, bad, "p").startswith('invalid p: True or False (or the text "true"/"false")')
    assert (
        message(v.switch, "off", "p") == 'invalid p: True or False (or the text "true"/"false") (got \'off\')'
    )


# -- rendered literals -------------------------------------------------------------------------------


def literal(text: str, **kw: Any) -> Any:
    options = {"rule": "must be a list", "opening": ("[", "("), "max_chars": 40, "max_depth": 2}
    return v.rendered_literal(text, "p", **{**options, **kw})


def test_json_and_python_literals_are_read() -> None:
    assert literal(' ["a", 1] ') == ["a", 1]
    assert literal("['a', None, True]") == ["a", None, True]  # a repr, not JSON
    assert literal("(1, 2)") == (1, 2)


def test_a_bare_string_is_not_a_literal() -> None:
    assert (
        message(literal, "a,b")
        == "invalid p: must be a list; a bare string is not split into ids (got 'a,b')"
    )
    assert message(literal, "{1: 2}").startswith("invalid p: must be a list; a bare string")


def test_the_size_bound_is_inclusive_and_hides_the_text() -> None:
    at_limit = "[" + "1," * 19 + "1]"  # 41 characters
    assert literal(at_limit[:-3] + "]") == [1] * 19  # 39 characters
    assert literal("[" + " " * 38 + "]") == []  # exactly 40
    assert message(literal, "[" + " " * 39 + "]") == "invalid p: must be a list of at most 40 characters"


def test_the_nesting_bound_is_inclusive_and_hides_the_text() -> None:
    assert literal("[[1]]") == [[1]]
    assert message(literal, "[[[1]]]") == "invalid p: must be a list nested at most 2 deep"
    assert literal("[[1], [2], [3]]") == [[1], [2], [3]]  # depth, not count


def test_brackets_inside_quotes_do_not_nest() -> None:
    assert literal('["[[[", "]"]') == ["[[[", "]"]
    assert literal("['[[[', ']']") == ["[[[", "]"]
    assert literal('["a\\"[[[", "b"]') == ['a"[[[', "b"]  # an escaped quote does not close
    assert literal("['a\\\\', '[[[']") == ["a\\", "[[["]  # an escaped backslash does not escape the quote


def test_nesting_counts_every_bracket_kind() -> None:
    assert v._nesting("[({})]") == 3
    assert v._nesting("[] [] []") == 1
    assert v._nesting("[[]] [[[]]]") == 3
    assert v._nesting("'[[['") == 0
    assert v._nesting('"[\\"[" [') == 1


def test_what_does_not_parse_says_so() -> None:
    assert message(literal, "[1, 2") == "invalid p: must be a list; this one does not parse (got '[1, 2')"
    assert message(literal, "[x]") == "invalid p: must be a list; this one does not parse (got '[x]')"
    assert message(literal, "(1 +)").endswith("this one does not parse (got '(1 +)')")


# -- secrets and headers ---------------------------------------------------------------------------


def test_a_signing_key_is_text_without_controls() -> None:
    assert v.secret_key(" k3y ", "p") == "k3y"
    assert v.secret_key(1234, "p") == "1234"
    for empty in (None, "", "   "):
        assert message(v.secret_key, empty, "p") == "invalid p: must not be empty or whitespace only"
    assert message(v.secret_key, "k\x00ey", "p") == "invalid p: control characters are not allowed"
    assert message(v.secret_key, "k\u200bey", "p") == "invalid p: control characters are not allowed"


def test_a_header_value_is_latin1_without_controls() -> None:
    assert v.header_value(" AKIDx ", "p") == "AKIDx"
    assert v.header_value(12, "p") == "12"
    assert v.header_value("café", "p") == "café"
    assert message(v.header_value, True, "p") == "invalid p: must be text (got a bool)"
    assert message(v.header_value, ["a"], "p") == "invalid p: must be text (got a list)"
    assert message(v.header_value, " ", "p") == "invalid p: must not be empty or whitespace only"
    assert message(v.header_value, "a\r\nb", "p") == (
        "invalid p: control characters are not allowed in a header value (got 'a\\r\\nb')"
    )
    assert message(v.header_value, "a\r\nb", "p", secret=True) == (
        "invalid p: control characters are not allowed in a header value"
    )
    assert (
        message(v.header_value, "中", "p")
        == "invalid p: must be Latin-1 text (it is sent in an HTTP header) (got '中')"
    )
    assert message(v.header_value, "中", "p", secret=True) == (
        "invalid p: must be Latin-1 text (it is sent in an HTTP header)"
    )


def test_an_optional_header() -> None:
    assert v.optional_header(None, "p") is None
    assert v.optional_header("", "p") is None
    assert v.optional_header(" x ", "p") == "x"
    assert message(v.optional_header, "a\nb", "p", secret=True) == (
        "invalid p: control characters are not allowed in a header value"
    )


def test_an_empty_quoted_string_closes_at_once() -> None:
    """The first character after an opening quote is no escape: '""' opens and closes."""
    assert v._nesting('["", [[1]]]') == 3
    assert v._nesting("['', [[1]]]") == 3


def test_only_quotes_and_brackets_count() -> None:
    assert v._nesting("X[[") == 2
    assert v._nesting("[X[") == 2
    assert v._nesting("[[X") == 2


def test_an_optional_header_is_shown_in_its_error_unless_secret() -> None:
    assert message(v.optional_header, "a\nb", "p") == (
        "invalid p: control characters are not allowed in a header value (got 'a\\nb')"
    )

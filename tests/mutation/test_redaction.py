"""Secrets never reach logs: the redaction rules of ``airflow_provider_rtc.redaction``, one by one.

Written for `make mutate` (issue 24 item 5; redaction.py): the other tests reach these rules through
whole requests (a ZEGO call at DEBUG, a presigned redirect into the lake), which check that one
secret is gone, not each parameter, encoding, record shape or URL form. The names below are
literals on purpose: a test that read ``PRESIGNED_PARAMS`` would follow a mutated name.
"""

from __future__ import annotations

import logging

import pytest

from airflow_provider_rtc import redaction
from airflow_provider_rtc.redaction import redact_db_url, redact_query, redact_url

#: every parameter a presigned URL carries its signature, credential or token in (ZEGO, S3 SigV2
#: and SigV4, COS); ``q-sign-time``/``q-sign-algorithm`` stand for COS's ``q-sign-*`` family
PARAMS = [
    "Signature",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "AWSAccessKeyId",
    "q-signature",
    "q-ak",
    "q-sign-time",
    "q-sign-algorithm",
    "q-key-time",
    "x-cos-security-token",
    "sign",
]
LOGGERS = [
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "urllib3.connectionpool",
]


@pytest.mark.parametrize("param", PARAMS)
def test_each_presigned_parameter_is_redacted_after_a_question_mark_and_an_ampersand(param: str) -> None:
    assert redact_query(f"https://h/a?{param}=S3CR3T&x=1") == f"https://h/a?{param}=***&x=1"
    assert redact_query(f"https://h/a?x=1&{param}=S3CR3T") == f"https://h/a?x=1&{param}=***"
    assert redact_query(f"GET /a;{param}=S3CR3T HTTP/1.1") == f"GET /a;{param}=*** HTTP/1.1"


@pytest.mark.parametrize("param", PARAMS)
def test_each_presigned_parameter_is_redacted_in_any_case(param: str) -> None:
    for name in (param.upper(), param.lower()):
        assert redact_query(f"?{name}=S3CR3T") == f"?{name}=***"


@pytest.mark.parametrize("param", PARAMS)
def test_each_presigned_parameter_is_redacted_when_percent_encoded(param: str) -> None:
    """A URL inside another URL's query (a redirect target, a callback's ``url=``) is encoded: its
    ``?``, ``&`` and ``=`` arrive as %3F, %26 and %3D, with no plain ``=`` in the text."""
    assert redact_query(f"next%3F{param}%3DS3CR3T") == f"next%3F{param}%3D***"
    assert redact_query(f"next%3Fx%3D1%26{param}%3DS3CR3T") == f"next%3Fx%3D1%26{param}%3D***"
    assert redact_query(f"next%3f{param.lower()}%3dS3CR3T") == f"next%3f{param.lower()}%3d***"


def test_a_parameter_at_the_start_of_the_text_is_redacted() -> None:
    assert redact_query("Signature=S3CR3T") == "Signature=***"
    assert redact_query("sign=S3CR3T&t=1") == "sign=***&t=1"


@pytest.mark.parametrize("end", [" ", "\t", "\n", '"', "'", "#", "<", ">", "&"])
def test_a_value_ends_where_a_url_ends(end: str) -> None:
    assert redact_query(f"?Signature=S3CR3T{end}after") == f"?Signature=***{end}after"


def test_every_value_of_a_text_is_redacted_and_the_rest_kept() -> None:
    text = "GET https://h/a?Signature=ONE&AppId=7 then https://c/b?q-ak=TWO&q-signature=THREE ok"
    assert (
        redact_query(text)
        == "GET https://h/a?Signature=***&AppId=7 then https://c/b?q-ak=***&q-signature=*** ok"
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no query at all",
        "https://h/a?design=1&unsigned=2&resign=3",  # a name that only ends in a presigned one
        "https://h/a?Signatures=1&signed=2&q-signatures=3",  # or only starts with one
        "https://h/a?Signature",  # no value
        "https://h/path/Signature=1",  # in a path segment, not a parameter
        "x%3Dy",  # encoded, but no presigned name
    ],
)
def test_text_without_a_presigned_value_is_unchanged(text: str) -> None:
    assert redact_query(text) == text


def _record(msg: object, args: object) -> logging.LogRecord:
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, msg, None, None)
    record.args = args  # type: ignore[assignment]
    return record


class _Url:
    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def test_a_records_message_and_tuple_arguments_are_redacted_and_numbers_left_alone() -> None:
    url, plain = _Url("https://h/a?X-Amz-Signature=S3CR3T"), _Url("https://h/b")
    record = _record("GET %s?Signature=S3CR3T %s %s %d %s %s %r", None)
    record.args = ("https://c/x?q-signature=S3CR3T", url, plain, 200, 1.5, True, None)
    assert redaction._RedactSignature().filter(record) is True
    assert record.msg == "GET %s?Signature=*** %s %s %d %s %s %r"
    args = record.args
    assert isinstance(args, tuple)
    assert args[:2] == ("https://c/x?q-signature=***", "https://h/a?X-Amz-Signature=***")
    assert args[2] is plain  # nothing to redact: the argument itself, not its text
    assert args[3:] == (200, 1.5, True, None) and type(args[3]) is int and type(args[5]) is bool
    assert "S3CR3T" not in record.getMessage()


def test_a_records_dict_arguments_are_redacted() -> None:
    record = _record(
        "%(url)s %(status)d %(none)s", {"url": "https://h/a?sign=S3CR3T", "status": 200, "none": None}
    )
    assert redaction._RedactSignature().filter(record) is True
    assert record.args == {"url": "https://h/a?sign=***", "status": 200, "none": None}
    assert record.getMessage() == "https://h/a?sign=*** 200 None"


def test_a_record_whose_message_is_not_text_is_passed_on_unchanged() -> None:
    msg = _Url("https://h/a?Signature=S3CR3T")
    record = _record(msg, ())
    assert redaction._RedactSignature().filter(record) is True
    assert record.msg is msg and record.args == ()


def test_the_filter_is_installed_once_on_each_client_logger() -> None:
    redaction.redact_client_logs()
    redaction.redact_client_logs()
    for name in LOGGERS:
        filters = [f for f in logging.getLogger(name).filters if isinstance(f, redaction._RedactSignature)]
        assert len(filters) == 1, name


def test_a_client_loggers_record_reaches_the_handlers_redacted(caplog: pytest.LogCaptureFixture) -> None:
    redaction.redact_client_logs()
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)  # another test may have raised its level
        logging.getLogger(name).debug("request %s", f"https://h/{name}?X-Amz-Security-Token=S3CR3T")
    assert [r.getMessage() for r in caplog.records] == [
        f"request https://h/{name}?X-Amz-Security-Token=***" for name in LOGGERS
    ]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@cdn.example.com/a/b.mp4?sign=abc&t=1", "https://cdn.example.com/a/b.mp4"),
        ("https://cdn.example.com/a@b/c.mp4?x=1", "https://cdn.example.com/a@b/c.mp4"),
        ("https://u:pw@h.example.com/a@b/c.mp4", "https://h.example.com/a@b/c.mp4"),
        ("https://u@h.example.com", "https://h.example.com"),
        ("https://h.example.com/a.mp4#t=1", "https://h.example.com/a.mp4#t=1"),
        # a path that holds another URL: the scheme is the first "://", the userinfo still dropped
        ("https://u:pw@h.example.com/via/http://cdn/x.mp4", "https://h.example.com/via/http://cdn/x.mp4"),
    ],
)
def test_a_url_for_logs_has_no_query_and_no_userinfo(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_password_holding_an_unescaped_at_sign_is_not_shown_in_part() -> None:
    """URL parsers (urllib's ``hostname``, httpx) end the userinfo at the LAST ``@`` of the
    authority: ``p@ss`` is the password and ``h.example.com`` the host, so no part of it is shown."""
    assert redact_url("https://user:p@ss@h.example.com/a.mp4?sign=x") == "https://h.example.com/a.mp4"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://rtc:S3CR3T@db:5432/rtc", "postgresql://rtc:***@db:5432/rtc"),
        ("postgresql://rtc:p@ss@db/rtc", "postgresql://rtc:***@db/rtc"),  # the last @ ends userinfo
        ("postgresql://rtc:pa:ss@db/rtc", "postgresql://rtc:***@db/rtc"),  # the first : ends the user
        ("postgresql://rtc@db/rtc", "postgresql://rtc@db/rtc"),
        ("postgresql://rtc:@db/rtc", "postgresql://rtc:***@db/rtc"),
        ("postgresql://db/rtc", "postgresql://db/rtc"),
        (
            "postgresql://db/rtc?sslmode=require&password=S3CR3T&user=rtc",
            "postgresql://db/rtc?sslmode=require&password=%2A%2A%2A&user=rtc",
        ),
        ("postgresql://db/rtc?PassWord=S3CR3T", "postgresql://db/rtc?PassWord=%2A%2A%2A"),
        (
            "postgresql://db/rtc?application_name=&password=S3CR3T",
            "postgresql://db/rtc?application_name=&password=%2A%2A%2A",
        ),
        ("postgresql://u:S3CR3T@db/rtc#frag", "postgresql://u:***@db/rtc"),
    ],
)
def test_a_database_urls_password_is_masked_and_the_rest_kept(url: str, shown: str) -> None:
    assert redact_db_url(url) == shown


def test_an_unparseable_database_url_is_not_echoed() -> None:
    assert redact_db_url("postgresql://rtc:S3CR3T@[::1/rtc") == "postgresql://<unparseable URL>"

"""The receiver's signature checks at their edges: each missing part, each boundary of a time window.

Written for the mutants `make mutate` left alive in ``signing/callbacks.py`` and
``callbacks/auth.py``: the existing tests prove a good signature passes and a forged one fails,
but not that an absent timestamp, an expiry exactly now or a skew exactly at the limit are judged
right. Pure functions, no server.
"""

from __future__ import annotations

import pytest

from airflow_provider_rtc.callbacks import auth
from airflow_provider_rtc.signing import callbacks as sig

# ZEGO's official example (callback signature page, copied in the project's vendor notes):
# nonce=123412, timestamp=1470820198, secret='secret' -> sorted "1234121470820198secret" -> sha1
ZEGO_EXAMPLE = ("secret", 1470820198, 123412, "5bd59fd62953a8059fb7eaba95720f66d19e4517")


def test_same_text_is_true_only_for_the_same_text() -> None:
    assert sig.same_text("abc", "abc") is True
    assert sig.same_text("abc", "abd") is False
    assert sig.same_text("abc", "ab") is False
    assert sig.same_text("abc", "") is False


@pytest.mark.parametrize(
    "given", ["ab\u00e9", "\u4e2d\u6587", None, 123], ids=["latin1", "cjk", "none", "int"]
)
def test_same_text_says_unequal_instead_of_raising(given: object) -> None:
    assert sig.same_text("abc", given) is False  # type: ignore[arg-type]


def test_zego_signature_matches_the_vendor_example() -> None:
    secret, timestamp, nonce, expected = ZEGO_EXAMPLE
    assert sig.zego_callback_signature(secret, timestamp, nonce) == expected
    assert sig.verify_zego_callback(secret, timestamp, nonce, expected) is True
    assert sig.verify_zego_callback(secret, str(timestamp), str(nonce), f"  {expected.upper()} ") is True


@pytest.mark.parametrize(
    ("secret", "timestamp", "nonce", "signature"),
    [
        ("", 1470820198, 123412, ZEGO_EXAMPLE[3]),
        ("secret", None, 123412, ZEGO_EXAMPLE[3]),
        ("secret", "", 123412, ZEGO_EXAMPLE[3]),
        ("secret", 1470820198, None, ZEGO_EXAMPLE[3]),
        ("secret", 1470820198, "", ZEGO_EXAMPLE[3]),
        ("secret", 1470820198, 123412, None),
        ("secret", 1470820198, 123412, ""),
        ("secret", 1470820198, 123413, ZEGO_EXAMPLE[3]),
        ("secret", "1470820198\u00b9", 123412, ZEGO_EXAMPLE[3]),
        ("secret", 1470820198, "12341\u0662", ZEGO_EXAMPLE[3]),
    ],
    ids=[
        "no-secret",
        "no-timestamp",
        "empty-timestamp",
        "no-nonce",
        "empty-nonce",
        "no-signature",
        "empty-signature",
        "other-nonce",
        "non-ascii-timestamp",
        "non-ascii-nonce",
    ],
)
def test_zego_callback_without_every_part_is_refused(
    secret: str, timestamp: object, nonce: object, signature: str | None
) -> None:
    assert sig.verify_zego_callback(secret, timestamp, nonce, signature) is False  # type: ignore[arg-type]


def test_zego_check_refuses_a_non_ascii_part_even_when_the_signature_matches_it() -> None:
    """A superscript digit is no timestamp ZEGO ever signed, whatever the sha1 says."""
    timestamp = "1470820198\u00b9"
    signature = sig.zego_callback_signature("secret", timestamp, 123412)
    assert sig.verify_zego_callback("secret", timestamp, 123412, signature) is False


# Tencent Live: sign = md5(key + t), t the expiry in unix seconds (CSS callback docs)
LIVE_KEY, LIVE_T, LIVE_SIGN = "livekey", 1700000000, "d0a2a6542cd5f975bc927773fc085f03"


def test_live_sign_is_md5_of_key_and_expiry() -> None:
    assert sig.live_callback_sign(LIVE_KEY, LIVE_T) == LIVE_SIGN


@pytest.mark.parametrize(
    ("now", "valid"), [(LIVE_T - 1, True), (LIVE_T, True), (LIVE_T + 0.5, False), (LIVE_T + 1, False)]
)
def test_live_callback_is_valid_until_its_expiry_second(now: float, valid: bool) -> None:
    assert sig.verify_live_callback(LIVE_KEY, LIVE_T, LIVE_SIGN, now=now) is valid
    assert sig.verify_live_callback(LIVE_KEY, str(LIVE_T), f" {LIVE_SIGN.upper()} ", now=now) is valid


@pytest.mark.parametrize(
    ("key", "t", "sign"),
    [
        ("", LIVE_T, LIVE_SIGN),
        (LIVE_KEY, None, LIVE_SIGN),
        (LIVE_KEY, "", LIVE_SIGN),
        (LIVE_KEY, LIVE_T, None),
        (LIVE_KEY, LIVE_T, ""),
        (LIVE_KEY, "17e8", LIVE_SIGN),
        (LIVE_KEY, LIVE_T + 1, LIVE_SIGN),
        ("otherkey", LIVE_T, LIVE_SIGN),
    ],
    ids=["no-key", "no-t", "empty-t", "no-sign", "empty-sign", "t-not-digits", "other-t", "other-key"],
)
def test_live_callback_without_every_part_is_refused(key: str, t: object, sign: str | None) -> None:
    assert sig.verify_live_callback(key, t, sign, now=LIVE_T - 10) is False  # type: ignore[arg-type]


TRTC_BODY, TRTC_SIGN = b'{"a":1}', "w6kv+eJ0zczieljBWnjsbcu9vQA4qH56EbrvICj9i/8="


def test_trtc_sign_is_base64_hmac_sha256_of_the_raw_body() -> None:
    assert sig.trtc_callback_sign(TRTC_BODY, "k") == TRTC_SIGN
    assert sig.verify_trtc_callback(TRTC_BODY, f" {TRTC_SIGN}\n", "k") is True


@pytest.mark.parametrize(
    ("sign", "key"), [(None, "k"), ("", "k"), (TRTC_SIGN, ""), (TRTC_SIGN.lower(), "k"), (TRTC_SIGN, "K")]
)
def test_trtc_callback_without_a_matching_sign_is_refused(sign: str | None, key: str) -> None:
    assert sig.verify_trtc_callback(TRTC_BODY, sign, key) is False


# the reader's HMAC: base64(HMAC-SHA256(key, "GET\n" + path + "\n" + timestamp))
READ_PATH, READ_T, READ_SIG = "/events?x=1", 1700000000, "vF9GoC15k5gQGJSWQgNj2iaEczSyiRgqriCPKrRo1es="


def test_read_signature_is_the_documented_hmac() -> None:
    assert auth.read_signature("k", "get", READ_PATH, READ_T) == READ_SIG
    assert auth.sign_read("k", READ_PATH, now=READ_T + 0.9) == {
        auth.TIMESTAMP_HEADER: str(READ_T),
        auth.SIGNATURE_HEADER: READ_SIG,
    }


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (READ_T, None),
        (READ_T + 300, None),
        (READ_T - 300, None),
        (READ_T + 300.5, "stale request"),
        (READ_T - 301, "stale request"),
    ],
    ids=["same-second", "at-limit-late", "at-limit-early", "past-limit-late", "past-limit-early"],
)
def test_a_read_is_fresh_up_to_max_skew_either_way(now: float, reason: str | None) -> None:
    got = auth.verify_read("k", "GET", READ_PATH, str(READ_T), f" {READ_SIG} ", now=now)
    assert got is None if reason is None else (got is not None and got.startswith(reason)), got


def test_the_skew_limit_is_the_one_given() -> None:
    late = READ_T + 61
    assert auth.verify_read("k", "GET", READ_PATH, str(READ_T), READ_SIG, now=late, max_skew=61) is None
    stale = auth.verify_read("k", "GET", READ_PATH, str(READ_T), READ_SIG, now=late, max_skew=60)
    assert stale == "stale request: X-RTC-Timestamp is more than 60 s from the receiver's clock"


@pytest.mark.parametrize(
    ("key", "timestamp", "signature", "reason"),
    [
        (None, str(READ_T), READ_SIG, "no callback key is configured for this application"),
        ("", str(READ_T), READ_SIG, "no callback key is configured for this application"),
        ("k", None, READ_SIG, "unsigned request: X-RTC-Timestamp and X-RTC-Signature are required"),
        ("k", str(READ_T), None, "unsigned request: X-RTC-Timestamp and X-RTC-Signature are required"),
        ("k", "", READ_SIG, "unsigned request: X-RTC-Timestamp and X-RTC-Signature are required"),
        ("k", "1.7e9", READ_SIG, "X-RTC-Timestamp must be unix seconds"),
        ("k", str(READ_T), READ_SIG[:-2] + "0=", "bad signature"),
        ("other", str(READ_T), READ_SIG, "bad signature"),
    ],
    ids=[
        *("no-key", "empty-key", "no-timestamp", "no-signature"),
        *("empty-timestamp", "float", "forged", "other-key"),
    ],
)
def test_a_read_without_every_part_is_refused_with_its_reason(
    key: str | None, timestamp: str | None, signature: str | None, reason: str
) -> None:
    assert auth.verify_read(key, "GET", READ_PATH, timestamp, signature, now=READ_T) == reason


def test_the_receiver_clock_judges_when_no_now_is_given() -> None:
    previous = auth.use_clock(lambda: float(READ_T + 1000))
    try:
        assert auth.sign_read("k", READ_PATH)[auth.TIMESTAMP_HEADER] == str(READ_T + 1000)
        assert auth.verify_read("k", "GET", READ_PATH, str(READ_T), READ_SIG) is not None
    finally:
        auth.use_clock(previous)


def test_no_clock_means_the_wall_clock_again() -> None:
    import time

    previous = auth.use_clock(lambda: 5.0)
    try:
        auth.use_clock(None)
        stamp = int(auth.sign_read("k", READ_PATH)[auth.TIMESTAMP_HEADER])
        assert abs(stamp - time.time()) < 3600  # the wall clock, not the fake one nor a crash
    finally:
        auth.use_clock(previous)


def test_an_empty_zego_secret_or_part_never_verifies_even_when_signed_with_it() -> None:
    """A receiver with no CallbackSecret configured must not accept a callback signed with "" by
    anyone; nor a callback whose timestamp or nonce is empty, however it was signed."""
    for secret, timestamp, nonce in [("", 1470820198, 123412), ("secret", "", 123412), ("secret", 1, "")]:
        forged = sig.zego_callback_signature(secret, timestamp, nonce)
        assert sig.verify_zego_callback(secret, timestamp, nonce, forged) is False, (secret, timestamp, nonce)


def test_an_empty_live_key_never_verifies_even_when_signed_with_it() -> None:
    forged = sig.live_callback_sign("", LIVE_T)
    assert sig.verify_live_callback("", LIVE_T, forged, now=LIVE_T - 10) is False

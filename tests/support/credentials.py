"""Test credentials: the vendors' published example values, so signature vectors replay, and the
keys of the callback receiver used across suites. None of these is a real secret."""

from __future__ import annotations

#: the TC3 documentation's example SecretId/SecretKey (also the default test connection's)
SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
#: the default test ZEGO connection
ZEGO_APP_ID = 1234567890
ZEGO_SECRET = "0123456789abcdef0123456789abcdef"
#: the ZEGO documentation's example app (signature vector)
DOC_ZEGO_APP_ID = 12345
DOC_ZEGO_SECRET = "9193cc662a4c0ec135ec71fb57194b38"
#: temporary (STS) credentials the sandbox is configured to accept
TOKEN_SECRET_ID = "AKIDSANDBOXTOKEN000000000000000000"
TOKEN_SECRET_KEY = "sandboxTokenKey000000000000000000"
TOKEN = "sandbox-session-token"
#: the default TRTC application and the callback receiver's keys
SDK_APP_ID = 1400000001
TRTC_KEY = "trtcCallbackKey0123456789abcdef"
ZEGO_CALLBACK_SECRET = "zegoCallbackSecret0123456789abc"

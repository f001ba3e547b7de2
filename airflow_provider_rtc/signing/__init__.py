"""Request and callback signatures as pure functions: no I/O, no Airflow import.

The sandbox verifies with the same functions, so tests also check them against the
official Tencent SDK signer and the vendors' published vectors: a bug here cannot hide
by agreeing with itself.
"""

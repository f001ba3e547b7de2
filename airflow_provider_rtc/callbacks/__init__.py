"""The provider's callback receiver: TRTC and ZEGOCLOUD callbacks verified, stored, served.

TRTC says a recording's files are uploaded only through recording callbacks (305, 310, 311, 312),
so the TRTC sensor needs somewhere those callbacks land. Run the receiver either

* standalone: ``rtc-callback-receiver --host 0.0.0.0 --port 8080 --db /var/lib/rtc/callbacks.sqlite3``
  with the keys in environment variables (:mod:`~airflow_provider_rtc.callbacks.config`), or
* inside the Airflow 3 API server through the plugin :mod:`airflow_provider_rtc.plugins.callbacks`
  (mounted at ``/rtc-callbacks``).

Then set the TRTC console's callback URL to ``<receiver>/trtc/callback`` (ZEGO: ``/zego/callback``)
and the ``tencentcloud`` connection extras ``callback_receiver_url`` (the receiver's URL, with the
prefix it is mounted at, e.g. ``https://<airflow>/rtc-callbacks``) and ``callback_secret`` (the TRTC
callback key). Several API-server hosts share one PostgreSQL store (docs/callback-store.md).
Modules: ``store`` (SQLite, idempotent; the backend interface), ``store_pg`` (PostgreSQL),
``app`` (Starlette), ``auth`` (signed reads), ``client`` (what sensors and triggers use), ``cli``,
``config``.
"""

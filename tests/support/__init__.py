"""Test helpers shared by every suite (unit, recordings, sandbox, bulk, e2e), in one place:

* :mod:`tests.support.fixtures` - the fixtures every suite gets (registered by ``tests/conftest.py``):
  one ``sandbox``, one ``redis_url``, one ``moto_server``, ``manual_clock``.
* :mod:`tests.support.sandbox` - the sandbox pool behind the ``sandbox`` fixture, connection install,
  admin helpers (``seed``, ``totals``: the benchmarks' own, :mod:`benchmarks.sandbox_proc`).
* :mod:`tests.support.services` - redis-server (:mod:`benchmarks.redis_proc`) and moto's S3 servers.
* :mod:`tests.support.clock` - the manual clock of the client's pacers and retries.
* :mod:`tests.support.credentials` - the test credentials and keys (published example values).
* :mod:`tests.support.wire` - scripted cloud answers on pytest-httpserver (:class:`Script`), what a
  server received (:class:`Seen`), independent signature checks, a raw-socket server that drops or
  stalls connections, connection JSON builders and vendor envelopes.
* :mod:`tests.support.servers` - an ASGI app served by uvicorn on a thread, on a free loopback port.
* :mod:`tests.support.arrivals` - an HTTPS server recording when each request arrives (pacing tests).
* :mod:`tests.support.postgres` - a throw-away PostgreSQL server (``postgres_server()``), the
  ``postgres_url`` / ``store_location`` fixtures (each store test on SQLite and PostgreSQL) and
  ``receiver_config(location)``.
* :mod:`tests.support.fixtures` - fixtures every suite gets (registered by ``tests/conftest.py``).
"""

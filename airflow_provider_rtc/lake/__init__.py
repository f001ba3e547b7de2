"""Recordings in the data lake: the I/O that :mod:`airflow_provider_rtc.recordings` decides about.

* :mod:`~airflow_provider_rtc.lake.paths` - where manifests come from (XCom, asset events) and how
  lake paths are named (``ObjectStoragePath`` from URIs and connections).
* :mod:`~airflow_provider_rtc.lake.copy` - the plan and the verified, resumable streaming copy.
* :mod:`~airflow_provider_rtc.lake.hls` - an HLS index's segments, copied beside it.
* :mod:`~airflow_provider_rtc.lake.fetch` - fetching sources without becoming an SSRF proxy.
* :mod:`~airflow_provider_rtc.lake.retention` - what a retention run may delete, and where.

The operators (:mod:`airflow_provider_rtc.operators.storage`) hold no copying logic of their own.
"""

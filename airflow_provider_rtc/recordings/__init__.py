"""Pure "is it uploaded yet" logic shared by the sensors, the triggers and the stop-and-wait operators.

Nothing here does I/O or imports Airflow at module level: ``poke()`` (sync) and the triggers (async)
each fetch the cloud's answer their own way, then hand it to the same evaluation function, so the
three sensor modes cannot disagree about when a recording is done.

* :mod:`~airflow_provider_rtc.recordings.manifest` - the manifest schema, the fail/warn policy and
  the :class:`~airflow_provider_rtc.recordings.manifest.Verdict` every evaluation returns.
* :mod:`~airflow_provider_rtc.recordings.zego` - ZEGOCLOUD DescribeRecordStatus and GetMixTaskInfo.
* :mod:`~airflow_provider_rtc.recordings.trtc` - Tencent TRTC DescribeCloudRecording plus the
  recording callbacks (301-312) stored by :mod:`airflow_provider_rtc.callbacks`.
* :mod:`~airflow_provider_rtc.recordings.tasks` - the Airflow side: verdict to exceptions, asset
  events, trigger event validation (imports Airflow lazily).
"""

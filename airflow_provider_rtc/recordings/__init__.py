"""What the clouds say about a recording, and when its files count as uploaded: pure decisions over
answers already fetched (no network, no storage, no Airflow).

* :mod:`~airflow_provider_rtc.recordings.manifest` - the manifest schema (identical for every
  cloud), the fail/warn policy and the :class:`~airflow_provider_rtc.recordings.manifest.WaitVerdict`
  every evaluation returns.
* :mod:`~airflow_provider_rtc.recordings.zego` - ZEGOCLOUD DescribeRecordStatus.
* :mod:`~airflow_provider_rtc.recordings.trtc` - Tencent TRTC DescribeCloudRecording plus the
  recording callbacks (301-312) stored by :mod:`airflow_provider_rtc.callbacks`.
* :mod:`~airflow_provider_rtc.recordings.playlists` - the storage check's decision (which HLS
  playlists in COS to read, and when one has ended).

Waiting for them (spec, loop, drivers, the I/O, the Airflow side) is :mod:`airflow_provider_rtc.waits`;
copying recordings to a lake and deleting expired ones is :mod:`airflow_provider_rtc.lake`.
"""

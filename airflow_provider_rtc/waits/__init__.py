"""Waiting for something in the cloud to finish: one spec, one decision, one polling loop.

Every wait (a sensor's poke or reschedule, a stop-and-wait operator, a trigger) is made of the same
pieces, so the sync and async paths cannot disagree:

* :mod:`~airflow_provider_rtc.waits.spec` - the wait options of each cloud as one frozen,
  JSON-ready object, built from the public classes' flat parameters and carried by ``serialize()``.
* :mod:`~airflow_provider_rtc.waits.steps` - the decision: a pure ``step(spec, observation, state)``
  per cloud, and the sans-I/O check that says which calls to make (it yields :class:`Call` requests).
* :mod:`~airflow_provider_rtc.waits.loop` - the polling loop with its error budget and deadline, and
  the two drivers (sync for workers, async for the triggerer) that perform the calls.
* :mod:`~airflow_provider_rtc.waits.calls` - what each :class:`Call` does, sync and async (hooks,
  the callback receiver, storage checks).
* :mod:`~airflow_provider_rtc.waits.probe` - the sync probe sensors and operators hold (built, with
  the trigger that continues it, in :mod:`airflow_provider_rtc.triggers.probes`).
* :mod:`~airflow_provider_rtc.waits.outcome` - a final verdict or trigger event becomes the task's
  result (Airflow exceptions, asset events).
"""

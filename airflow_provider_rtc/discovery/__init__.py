"""Discover what is live on the clouds, plan its end, end it, verify nothing is left.

Modules: :mod:`.selector` (what is in scope), :mod:`.receiver` (reading and correcting the
receiver's inventory), :mod:`.reconcile` (list/describe APIs), :mod:`.discover` (the inventory JSON),
:mod:`.refs` (the typed :class:`~airflow_provider_rtc.identity.ResourceRef` of an item or target).
Planning and ending the event live in :mod:`airflow_provider_rtc.cleanup`; operators in
:mod:`airflow_provider_rtc.operators.event`.
"""

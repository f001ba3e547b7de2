"""Ending resources: one floor below the operators, above the hooks and discovery.

Modules: :mod:`.engine` (many calls in one task, paced, bounded, stoppable), :mod:`.plan` (an
event's targets, their time at the rate limits, execution and verification).
"""

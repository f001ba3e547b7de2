"""Ending resources: one floor below the operators, above the hooks and discovery.

Modules: :mod:`.engine` (many calls in one task, paced, bounded, stoppable), :mod:`.plan` (an
event's targets, their time at the rate limits, execution and verification), :mod:`.schedule` (the
dependency-aware executor: per-API lanes, targets released as what they depend on ends),
:mod:`.deps` (what must end before what).
"""

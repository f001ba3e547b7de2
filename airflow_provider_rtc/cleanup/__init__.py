"""Ending resources: the cleanup engine, its dependency-aware schedule and the plan."""

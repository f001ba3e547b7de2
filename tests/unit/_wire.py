"""Moved to :mod:`tests.support.wire`; this name stays importable for tests written against it."""

from tests.support.wire import *  # noqa: F403

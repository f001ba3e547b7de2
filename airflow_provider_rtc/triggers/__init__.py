"""Async triggers behind the deferrable sensors and stop-and-wait operators (httpx, async connection API)."""

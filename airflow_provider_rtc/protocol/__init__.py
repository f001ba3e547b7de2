"""What goes on the wire for each cloud: request building (signed per attempt) and response parsing.

Pure code over bytes and dicts, shared by the sync (requests) and async (httpx) transports so
both sign and classify identically.
"""

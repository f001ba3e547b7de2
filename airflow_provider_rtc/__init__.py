"""Apache Airflow provider for Tencent Cloud TRTC, Tencent Cloud Live and ZEGOCLOUD."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

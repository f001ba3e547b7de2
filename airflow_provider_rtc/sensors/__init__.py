"""Sensors that wait until recordings are really uploaded (TRTC, ZEGOCLOUD) and until mixes are gone."""

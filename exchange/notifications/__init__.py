"""Fills as notifications (market/notifications/ sends them): collected from the
event log beyond a per-instrument watermark, after each commit that made trades of
a participant who wants them, and by beat's sweep."""

"""The exchange's writes. Public entry points are re-exported here."""

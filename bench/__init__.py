"""`make bench`: RenoCRM at firm scale, measured against a raw-SQL reference (see docs/performance.md)."""

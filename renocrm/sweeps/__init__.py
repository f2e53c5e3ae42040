"""Bounded beat sweeps: one batch per firm task, one savepoint per row, and a failing row recorded and
retried later with backoff instead of undoing or blocking the rest (``renocrm.sweeps.services.Sweep``)."""

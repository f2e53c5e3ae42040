"""A row a beat sweeper could not handle: what went wrong, how often, and when it is tried again."""

from django.db import models

from renocrm.tenancy.models import TenantModel


class SweepFailure(TenantModel):
    """One firm's row that made a sweeper fail. While ``next_attempt_at`` is in the future the sweeper
    passes the row by; the row that then goes through deletes its failure."""

    sweeper = models.CharField(max_length=60)
    # The row as the sweeper names it: usually its id, "<id>:<part>" when one row holds several steps, or a
    # stored file's name.
    row_key = models.CharField(max_length=255)
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()

    audited = False

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sweeper", "row_key"], name="sweep_failure_once_per_row"),
        ]

    def __str__(self) -> str:
        return f"{self.sweeper} {self.row_key}: {self.error[:80]}"

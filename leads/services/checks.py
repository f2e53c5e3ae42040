"""Gathering a check's refusals, so a check answers with every rule broken at once rather than the first."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class Refusals:
    """The errors one check has found so far, by field, codes kept (a ``duplicate`` answers 409 in the API)."""

    def __init__(self) -> None:
        self.errors: dict[str, list[ValidationError]] = {}

    def add(self, field: str, message, code: str | None = None) -> None:
        self.errors.setdefault(field, []).append(ValidationError(message, code=code))

    def take(self, error: ValidationError) -> None:
        error.update_error_dict(self.errors)

    def run(self, check, *args, **kwargs):
        """``check(*args, **kwargs)``, its refusal kept instead of raised; returns its result, None if it refused."""
        try:
            return check(*args, **kwargs)
        except ValidationError as error:
            self.take(error)
            return None

    def __contains__(self, field: str) -> bool:
        return field in self.errors

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)

"""Mainland-China mobile numbers as every part of the product stores and checks them: 11 digits from 13 to 19."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_mobile(value: str) -> str:
    """A mainland-China mobile number as 11 digits: spaces, dashes and a +86 / 0086 / 86 prefix removed."""
    digits = re.sub(r"[\s\-()]", "", value or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return digits


def validate_mobile(value: str) -> None:
    if not _MOBILE.match(value or ""):
        raise ValidationError(
            _("Enter a mainland-China mobile number: 11 digits starting with 13–19."), code="invalid_mobile"
        )

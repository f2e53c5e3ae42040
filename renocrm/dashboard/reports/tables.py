"""What every report's tables share: who they are built for (contact details full or masked), and selector
rows arranged into ``exports.Table``."""

from __future__ import annotations

from dataclasses import dataclass

from renocrm.privacy.masking import mask_mobile, mask_text, may_see_contacts, shown

from ..exports import Column, Table


@dataclass(frozen=True)
class Viewer:
    """Who a report is built for: a staff request (contact details full or masked by their role), or
    nobody in particular (an e-mail: always masked)."""

    request: object | None = None

    @property
    def sees_contacts(self) -> bool:
        return self.request is not None and may_see_contacts(self.request)

    def mobile(self, value: str) -> str:
        return shown(self.request, "mobile", value) if self.request is not None else mask_mobile(value)

    def text(self, value: str) -> str:
        """Free text a homeowner wrote may hold a phone number."""
        return value if self.sees_contacts else mask_text(value)


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def table(title, columns: dict[str, Column], rows: list[dict], **options) -> Table:
    """A table of selector rows: each column shows the rows' value under its key."""
    return Table(title, list(columns.values()), [[row[key] for key in columns] for row in rows], **options)

"""Masking of homeowners' contact details (PIPL): a mobile number shows as 138****1234 and an address as
its first few characters, in pages, API answers, exports and logs, to anyone not entitled to see them.

Who may see them: a staff member whose role has "contacts.view", or a partner key with the "contacts:read"
scope. On pages even they see the masked form first and reveal a record's details with one click, which is
recorded (``ContactReveal``); the API and exports hand the full values to those entitled."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

CONTACTS_PERMISSION = "contacts.view"
CONTACTS_SCOPE = "contacts:read"
MASK = "****"

# A mainland mobile number standing alone (not part of a longer digit run such as an id or an amount), written
# as one run or in groups of 3-4-4 split by spaces or dashes, with or without the +86 / 0086 / 86 prefix.
_SEP = r"[ \-\u00a0]?"
_MOBILE = rf"(?<!\d)(?P<prefix>(?:\+|00)?86{_SEP})?(?P<head>1[3-9]\d){_SEP}\d{{4}}{_SEP}(?P<tail>\d{{4}})(?!\d)"
_MOBILE_IN_TEXT = re.compile(_MOBILE)
# Other contact details in a list of them (a WeChat id, a QQ number, a landline, an e-mail address): any run of
# Latin letters, digits and the signs such ids use. The words around them (妻子, 微信) stay readable.
_CONTACT_IN_TEXT = re.compile(rf"{_MOBILE}|(?P<other>[A-Za-z0-9][A-Za-z0-9_.@+\-]{{2,}})")


def mask_mobile(value: str | None) -> str:
    if not value:
        return value or ""
    if len(value) >= 8:
        return f"{value[:3]}{MASK}{value[-4:]}"
    return MASK


def mask_address(value: str | None) -> str:
    """The start of the address (city and district, roughly) and nothing that finds the door. An address
    composed from its parts has the region before its first space: the start stops there."""
    if not value:
        return value or ""
    return f"{value[: min(6, len(value) // 2)].split(' ', 1)[0]}{MASK}"


def mask_address_part(value: str | None) -> str:
    """A part of an address that finds the door on its own (the street, the compound, the room): all of it."""
    return MASK if value else value or ""


def mask_recipient(value: str | None) -> str:
    """Where a message went: an e-mail address keeps its first letter and its domain, a mobile number is
    masked as usual."""
    if not value:
        return value or ""
    if "@" in value:
        local, _at, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return mask_mobile(value)


def _masked_mobile(match: re.Match) -> str:
    return f"{match['prefix'] or ''}{match['head']}{MASK}{match['tail']}"


def mask_text(value: str | None) -> str:
    """Every mobile number inside free text (notes, descriptions, log lines) masked; the rest as it was."""
    if not value:
        return value or ""
    return _MOBILE_IN_TEXT.sub(_masked_mobile, value)


def _masked_contact(match: re.Match) -> str:
    if match["other"] is None:
        return _masked_mobile(match)
    return f"{match['other'][:2]}{MASK}"


def mask_contacts(value: str | None) -> str:
    """A list of other ways to reach someone ("微信 wang_fang；妻子 139 0000 1111"): every mobile number masked
    as usual and every other id cut to its first two characters, the labels left readable."""
    if not value:
        return value or ""
    return _CONTACT_IN_TEXT.sub(_masked_contact, value)


MASKERS = {
    "mobile": mask_mobile,
    "address": mask_address,
    "address_part": mask_address_part,
    "contacts": mask_contacts,
}


def mask(kind: str, value: str | None) -> str:
    return MASKERS[kind](value)


def may_see_contacts(request) -> bool:
    """Whether this request's principal (a signed-in staff member, or a partner's API key) is entitled to
    full contact details."""
    # Not at the top: the logging filter below loads this module before the apps are ready.
    from renocrm.accounts.access import principal_may

    return principal_may(request, permission=CONTACTS_PERMISSION, scope=CONTACTS_SCOPE)


def shown(request, kind: str, value: str | None) -> str:
    """The value as this request may see it in an API answer or an export: full, or masked."""
    return value or "" if may_see_contacts(request) else mask(kind, value)


# Records whose contact fields can be revealed on a page, registered by the app that owns them:
# {"leads.customer": {"mobile": "mobile"}} — record type -> {field name: kind}.
@dataclass(frozen=True)
class ContactFields:
    model: type
    fields: dict[str, str]


_revealable: dict[str, ContactFields] = {}


def register_contact_fields(model, **fields: str) -> None:
    """``register_contact_fields(Customer, mobile="mobile")`` from an app's ``ready``: the page tag
    ``{% contact customer "mobile" %}`` may then reveal that field, and the field's values in the audit trail
    are masked as a whole for those not entitled (``mask_audit_changes``). Kinds: "mobile", "address",
    "address_part" (a street, compound or room: masked whole), "contacts" (a list of other ways to reach
    someone)."""
    label = model._meta.label_lower
    known = _revealable[label].fields if label in _revealable else {}
    _revealable[label] = ContactFields(model=model, fields={**known, **fields})
    _columns_by_table.clear()


def revealable(record_type: str) -> ContactFields | None:
    return _revealable.get(record_type)


_columns_by_table: dict[str, tuple[str, dict[str, str]]] = {}


def contact_columns(table_name: str) -> tuple[str, dict[str, str]] | None:
    """For a database table with registered contact fields: its record type and {column: kind}."""
    if not _columns_by_table:
        for record_type, registered in _revealable.items():
            meta = registered.model._meta
            columns = {meta.get_field(name).column: kind for name, kind in registered.fields.items()}
            _columns_by_table[meta.db_table] = (record_type, columns)
    return _columns_by_table.get(table_name)


def _mask_value(value, masker):
    """Every string inside an audit value (a column's value, or the list and objects a JSON column holds)."""
    if isinstance(value, str):
        return masker(value)
    if isinstance(value, list):
        return [_mask_value(item, masker) for item in value]
    if isinstance(value, dict):
        return {key: _mask_value(item, masker) for key, item in value.items()}
    return value


def mask_audit_changes(table_name: str, changes):
    """An audit event's ``changes`` (``{column: value}``, or ``{column: [old, new]}`` for an update) as someone
    without the contact permission sees them: a registered contact column's values masked as a whole, mobile
    numbers masked inside every other text value."""
    if not isinstance(changes, dict):
        return _mask_value(changes, mask_text)
    registered = contact_columns(table_name)
    kinds = registered[1] if registered else {}
    return {
        column: _mask_value(value, MASKERS[kinds[column]] if column in kinds else mask_text)
        for column, value in changes.items()
    }


def audit_contact_values(table_name: str, changes) -> list[str]:
    """The registered contact fields an audit event's ``changes`` hold a value of: what reading it reveals."""
    registered = contact_columns(table_name)
    if registered is None or not isinstance(changes, dict):
        return []
    revealed = []
    for column in registered[1]:
        value = changes.get(column)
        values = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) and item for item in values):
            revealed.append(column)
    return revealed


class MaskContactsFilter(logging.Filter):
    """Logging filter on every handler: mobile numbers never reach a log line in full."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True

"""Records named by the audit trail and the privacy log, as a firm owner reads them.

The trail stores table names, column names and raw values. Here they become the model's and the field's
translated names, values in words (a choice's label, yes or no, a time in the firm's zone, a related record by
its name) and a link to the page that shows the record. The names of every record a page mentions are read
in ONE query (a ``UNION ALL`` of one small select per model, each through the model's firm-scoped manager), so
a page costs the same whatever it lists.

The platform knows no lifecycle app: models are found through the app registry by table name or label, and
the record pages by URL name (``RECORD_PAGES``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models.functions import Cast, Coalesce, Concat, NullIf
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.formats import get_format
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .names import NAME_CONTEXT

MAX_VALUE_LENGTH = 200

# A record's page: model label → (URL name taking ``pk``, the column that holds that page's id; None when the
# page is the record's own). A record with no page here is named without a link.
RECORD_PAGES: dict[str, tuple[str, str | None]] = {
    "leads.customer": ("leads:customer-detail", None),
    "leads.property": ("leads:customer-detail", "customer_id"),
    "leads.lead": ("leads:detail", None),
    "leads.followup": ("leads:detail", "lead_id"),
    "leads.leadstatuschange": ("leads:detail", "lead_id"),
    "leads.referralreward": ("leads:detail", "lead_id"),
    "contracts.designagreement": ("leads:detail", "lead_id"),
    "contracts.measurementappointment": ("leads:detail", "lead_id"),
    "contracts.quotation": ("leads:detail", "lead_id"),
    "contracts.quotationversion": ("contracts:version", None),
    "contracts.quotationitem": ("contracts:version", "version_id"),
    "contracts.contract": ("contracts:detail", None),
    "contracts.instalment": ("contracts:detail", "contract_id"),
    "contracts.mainmaterialline": ("contracts:detail", "contract_id"),
    "contracts.changeorder": ("contracts:change-order", None),
    "contracts.changeorderline": ("contracts:change-order", "change_order_id"),
    "contracts.project": ("aftercare:project", None),
    "worksites.worksite": ("worksites:detail", None),
    "worksites.phase": ("worksites:detail", "worksite_id"),
    "worksites.technicalhandover": ("worksites:detail", "worksite_id"),
    "worksites.gateoverride": ("worksites:detail", "worksite_id"),
    "worksites.progressupdate": ("worksites:progress", "worksite_id"),
    "worksites.inspection": ("worksites:site", "worksite_id"),
    "worksites.materialarrival": ("worksites:site", "worksite_id"),
    "worksites.sitepatrol": ("worksites:site", "worksite_id"),
    "worksites.siteproblem": ("worksites:site", "worksite_id"),
    "worksites.handover": ("worksites:handover", "worksite_id"),
    "worksites.portallink": ("worksites:portal-links", "worksite_id"),
    "aftercare.coverage": ("aftercare:project", "project_id"),
    "aftercare.warrantycard": ("aftercare:warranty-card", None),
    "aftercare.repairrequest": ("aftercare:repair", None),
    "aftercare.repairvisit": ("aftercare:repair", "repair_id"),
    "aftercare.repairphoto": ("aftercare:repair", "repair_id"),
    "callbacks.callback": ("callbacks:detail", None),
    "callbacks.callbackattempt": ("callbacks:detail", "callback_id"),
    "callbacks.survey": ("callbacks:detail", "callback_id"),
    "callbacks.feedbackfollowup": ("callbacks:follow-up", None),
    "complaints.complaint": ("complaints:detail", None),
    "complaints.complaintentry": ("complaints:detail", "complaint_id"),
    "complaints.complaintescalation": ("complaints:detail", "complaint_id"),
    "outbox.webhookendpoint": ("integrations:webhook", None),
}

# The column a record is called by when it has none of NAME_COLUMNS, or a better one elsewhere.
LABELS = {
    "leads.lead": "customer__name",
    "worksites.worksite": "project__name",
    "outbox.webhookendpoint": "url",
}
NAME_COLUMNS = ("name", "title", "number")


@cache
def models_by_table() -> dict[str, type[models.Model]]:
    return {model._meta.db_table: model for model in apps.get_models()}


def model_for_table(table: str) -> type[models.Model] | None:
    return models_by_table().get(table)


def model_for_label(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _translated(name) -> str:
    """A model's or field's name in the active language: its own ``verbose_name`` is translated already; a name
    Django made up from the class or column is looked up among ``names.AUTO_NAMES``."""
    if isinstance(name, Promise):
        return str(name)
    return pgettext(NAME_CONTEXT, name)


def model_name(model: type[models.Model] | None, fallback: str = "") -> str:
    return capfirst(_translated(model._meta.verbose_name)) if model is not None else fallback


@cache
def _columns(model: type[models.Model]) -> dict[str, models.Field]:
    return {field.column: field for field in model._meta.concrete_fields}


def field_for_column(model: type[models.Model] | None, column: str) -> models.Field | None:
    return _columns(model).get(column) if model is not None else None


def field_name(model: type[models.Model] | None, column: str) -> str:
    field = field_for_column(model, column)
    if field is None:
        # A column the code no longer has (renamed or dropped since the row was written).
        return column
    return capfirst(_translated(field.verbose_name))


def _label_expression(model: type[models.Model]):
    label = model._meta.label_lower
    if model is apps.get_model(settings.AUTH_USER_MODEL):
        return Coalesce(NullIf(models.F("name"), models.Value("")), models.F("username"))
    if label == "contracts.quotationversion":
        return Concat(
            models.F("quotation__title"),
            models.Value(" v"),
            Cast("number", models.TextField()),
            output_field=models.TextField(),
        )
    if label in LABELS:
        return Cast(LABELS[label], models.TextField())
    names = {field.name for field in model._meta.concrete_fields if not field.is_relation}
    for name in NAME_COLUMNS:
        if name in names:
            return Cast(name, models.TextField())
    return None


def _text(expression):
    return Cast(expression, models.TextField()) if expression is not None else models.Value(None, models.TextField())


@dataclass(frozen=True)
class Named:
    """One record as a page shows it: its model's name, its own name (when it has one) and its page."""

    kind: str
    name: str
    pk: str
    url: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.name}" if self.name else f"{self.kind} #{self.pk}"


class RecordNames:
    """Collects the records a page mentions (``want``), reads their names and page ids in one query
    (``load``), then names each (``named``).

    A record gone from the database (deleted, or never visible to this firm) is named from the snapshot the
    caller passes — the audit trail's copy of the deleted row — else by its model and id."""

    def __init__(self):
        self._wanted: dict[type[models.Model], set[str]] = defaultdict(set)
        self._found: dict[tuple[str, str], tuple[str | None, str | None]] = {}

    def want(self, model: type[models.Model] | None, pk) -> None:
        if model is None or pk in (None, ""):
            return
        if not str(pk).isdigit():
            return
        self._wanted[model].add(str(pk))

    def load(self) -> None:
        selects = []
        for model, pks in self._wanted.items():
            label = model._meta.label_lower
            page = RECORD_PAGES.get(label)
            via = page[1] if page else None
            parent = models.F(field_for_column(model, via).attname) if via and field_for_column(model, via) else None
            selects.append(
                model._default_manager.filter(pk__in=[int(pk) for pk in pks])
                .order_by()
                .values_list(
                    _text(models.Value(label)), _text(models.F("pk")), _text(_label_expression(model)), _text(parent)
                )
            )
        self._wanted.clear()
        if not selects:
            return
        first, *rest = selects
        rows = first.union(*rest, all=True) if rest else first
        for label, pk, name, parent in rows:
            self._found[(label, pk)] = (name, parent)

    def named(self, model: type[models.Model] | None, pk, *, snapshot: dict | None = None, fallback: str = "") -> Named:
        if model is None:
            return Named(kind=fallback, name="", pk=str(pk))
        label = model._meta.label_lower
        found = self._found.get((label, str(pk)))
        if found is not None:
            name, parent = found
            url = _record_url(label, pk, parent)
        else:
            name, parent = _from_snapshot(model, snapshot or {})
            # A record that is gone has no page of its own; the page it was part of may still be there.
            url = _record_url(label, pk, parent) if parent else ""
        return Named(kind=model_name(model), name=name or "", pk=str(pk), url=url)


def _from_snapshot(model, snapshot: dict) -> tuple[str | None, str | None]:
    """Name and page id from a copy of the row (an audit event's insert or delete): only what the row itself
    holds, as a related name is not in it."""
    names = {field.name: field.column for field in model._meta.concrete_fields if not field.is_relation}
    name = next((snapshot.get(names[n]) for n in NAME_COLUMNS if n in names and snapshot.get(names[n])), None)
    page = RECORD_PAGES.get(model._meta.label_lower)
    parent = snapshot.get(page[1]) if page and page[1] else None
    return (str(name) if name is not None else None), (str(parent) if parent is not None else None)


def _record_url(label: str, pk, parent) -> str:
    page = RECORD_PAGES.get(label)
    if page is None:
        return ""
    url_name, via = page
    target = parent if via else pk
    if target in (None, "") or not str(target).isdigit():
        return ""
    try:
        return reverse(url_name, kwargs={"pk": int(target)})
    except NoReverseMatch:
        return ""


# Values ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A value in words, and the page of the record it names (a foreign key's)."""

    text: str | None
    url: str = ""


def related_model(model, column: str) -> type[models.Model] | None:
    field = field_for_column(model, column)
    if field is None or not field.is_relation or field.related_model is None:
        return None
    return field.related_model


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 1] + "…"


def _choice_label(field, value) -> str | None:
    choices = getattr(field, "flatchoices", None) or []
    for key, label in choices:
        if str(key) == str(value):
            return str(label)
    return None


def _when(value: str, *, with_time: bool) -> str | None:
    try:
        parsed = datetime.fromisoformat(value) if with_time else date.fromisoformat(value[:10])
    except ValueError:
        return None
    if with_time:
        if timezone.is_naive(parsed):
            parsed = parsed.replace(tzinfo=UTC)
        return date_format(timezone.localtime(parsed), get_format("SHORT_DATETIME_FORMAT"))
    return date_format(parsed, "Y-m-d")


def show_value(model, column: str, value, names: RecordNames) -> Shown:
    """One stored value in words: the field's choice label, yes or no, a date or a time in the firm's zone
    (the active one), a related record by name with its page; anything else as written, shortened."""
    if value is None:
        return Shown(None)
    field = field_for_column(model, column)
    if field is not None and field.is_relation and field.related_model is not None:
        named = names.named(field.related_model, value)
        # The field's name already says what kind of record it is.
        return Shown(named.name or str(named), named.url)
    if field is not None:
        if isinstance(field, models.BooleanField) and isinstance(value, bool):
            return Shown(_("Yes") if value else _("No"))
        if isinstance(value, str) and isinstance(field, models.DateTimeField):
            shown = _when(value, with_time=True)
            if shown is not None:
                return Shown(shown)
        elif isinstance(value, str) and isinstance(field, models.DateField):
            shown = _when(value, with_time=False)
            if shown is not None:
                return Shown(shown)
        base = getattr(field, "base_field", None)
        if isinstance(value, list) and base is not None and base.choices:
            separator = pgettext("list separator", ", ")
            return Shown(_shorten(separator.join(_choice_label(base, item) or str(item) for item in value)))
        if field.choices and not isinstance(value, (list, dict)):
            label = _choice_label(field, value)
            if label is not None:
                return Shown(label)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return Shown(_shorten(text))

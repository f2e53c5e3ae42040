"""Personal data: a homeowner's export and erasure, and the lost-lead retention rule."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leads import personal_data
from leads.models import Customer, Lead, ReferralReward
from renocrm.outbox.models import Notification
from renocrm.outbox.services import notification_errors_forget
from renocrm.outbox.staff_notices import staff_notices_scrub
from renocrm.privacy import registry
from renocrm.privacy.exports import csv_cell, plain
from renocrm.privacy.models import DataRequest
from renocrm.privacy.selectors import privacy_settings
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant

# The retention sweeper's name in renocrm.sweeps (its failures and backoff).
RETENTION_SWEEP = "lost-lead-retention"

CUSTOMER_RECORD = "leads.customer"  # how the privacy log names a customer


def _csv_bytes(table: list[dict]) -> bytes:
    columns = list(dict.fromkeys(key for row in table for key in row))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in table:
        writer.writerow(csv_cell(row.get(column)) for column in columns)
    # With a byte-order mark, spreadsheet programs read the Chinese text as UTF-8.
    return out.getvalue().encode("utf-8-sig")


def _export_readme(*, customer: Customer, tables: list[str], files: list[str], firm) -> str:
    lines = [
        _("Personal data of customer #%(id)s, exported by %(firm)s on %(date)s.")
        % {"id": customer.pk, "firm": firm.name, "date": timezone.localtime(timezone.now(), firm.zone).date()},
        "",
        _(
            "customer.json holds everything in one file: the profile, properties, leads and follow-ups, and one "
            "section for each stage of the renovation (quotations and contracts, construction and handover, "
            "warranty and repairs, callbacks and surveys, complaints)."
        ),
        _("The csv folder holds the same records, one table a file, for spreadsheet programs."),
        _("The files folder holds the documents, photos and signatures listed in those records."),
        "",
        _("Tables:"),
        *(f"  csv/{name}.csv" for name in tables),
    ]
    if files:
        lines += ["", _("Files:"), *(f"  {path}" for path in files)]
    return "\n".join(lines) + "\n"


@transaction.atomic
def customer_data_export(*, customer: Customer, by=None, note: str = "") -> bytes:
    """Everything the firm holds about a homeowner, as a ZIP (customer.json, one CSV a table, the files and a
    README in the firm's language), recorded as an export request in the privacy log."""
    firm = require_current_tenant()
    customer = Customer.objects.get(pk=customer.pk)
    core = personal_data.export(customer)
    profile = core.pop("customer")[0]
    sections = {section.name: section.export(customer) for section in registry.sections()}
    files = [
        (f"files/{section.name}/{path}", content)
        for section in registry.sections()
        if section.files
        for path, content in section.files(customer)
    ]
    document = {
        "exported_at": plain(timezone.now()),
        "firm": firm.name,
        "customer": profile,
        **core,
        "sections": sections,
        "files": [path for path, _content in files],
    }
    tables = {"leads.customer": [profile], **{f"leads.{name}": table for name, table in core.items()}}
    for section, section_tables in sections.items():
        tables.update({f"{section}.{name}": table for name, table in section_tables.items()})

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("customer.json", json.dumps(document, ensure_ascii=False, indent=2))
        for name, table in tables.items():
            archive.writestr(f"csv/{name}.csv", _csv_bytes(table))
        written = []
        for path, content in files:
            if isinstance(content, bytes):
                archive.writestr(path, content)
            else:
                try:
                    # Copied in chunks: a progress video need not sit in memory twice.
                    with content.open("rb") as stored, archive.open(path, "w") as raw:
                        shutil.copyfileobj(stored, raw)
                except (FileNotFoundError, OSError):
                    continue  # listed in customer.json; the stored file is gone
            written.append(path)
        with translation.override(firm.language):
            archive.writestr(
                "README.txt", _export_readme(customer=customer, tables=list(tables), files=written, firm=firm)
            )
    DataRequest.objects.create(
        kind=DataRequest.Kind.EXPORT,
        subject_type=CUSTOMER_RECORD,
        subject_id=str(customer.pk),
        requested_by=by,
        note=note[:300],
    )
    return buffer.getvalue()


@transaction.atomic
def customer_erase(*, customer: Customer, by=None, note: str = "") -> Customer:
    """Erase a homeowner on request (PIPL): refused, naming why, while a later stage still needs them (a
    worksite under construction, an open repair or complaint). Otherwise, in one transaction: every stage's
    personal data of the customer is anonymised, their own files deleted (after commit), the customer, their
    properties and leads anonymised, the old values redacted in the audit trail, notifications to and about
    them scrubbed, and the request recorded. The firm's figures stay. A second call changes nothing."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    reasons = registry.erasure_blocks(customer)
    if reasons:
        raise ValidationError(reasons)
    identifiers = registry.identifiers(customer)  # read before anything changes, for every section's notes
    old_mobile = customer.mobile
    now = timezone.now()

    for section in registry.sections():
        section.erase(customer)
    personal_data.erase(customer, now=now)

    if identifiers:
        # Texts sent to the homeowner, and staff notices naming them (the outbox keeps no audit trail).
        mentions = reduce(or_, (Q(body__contains=value) | Q(subject__contains=value) for value in identifiers))
        notifications = Notification.objects.filter(mentions | Q(recipient=old_mobile))
        notification_errors_forget(notifications=notifications)  # gateways' answers may quote the number
        notifications.update(
            recipient=Case(
                When(recipient=old_mobile, then=Value(personal_data.erased_mobile(customer))), default=F("recipient")
            ),
            subject=registry.scrubbed(Notification, "subject", customer),
            body=registry.scrubbed(Notification, "body", customer),
            sms_params={},  # an SMS template's values: the customer's name among them
            attachment=b"",  # a quotation's PDF: their name, address and signature
            attachment_name="",
        )
        staff_notices_scrub(identifiers=identifiers, erased=registry.ERASED)  # the bell's copies of them

    DataRequest.objects.create(
        kind=DataRequest.Kind.ERASURE,
        subject_type=CUSTOMER_RECORD,
        subject_id=str(customer.pk),
        requested_by=by,
        note=note[:300],
    )
    customer.refresh_from_db()
    return customer


@transaction.atomic
def lost_leads_anonymise(*, now: datetime | None = None, batch: int = 500, sweep: Sweep | None = None) -> int:
    """The firm's retention rule: lost leads untouched for longer than the firm keeps them are anonymised,
    oldest first, ``batch`` at a time (rows another run holds are skipped, not waited for). Their customer
    is erased too when nothing else of theirs is in use: no other lead still kept, no pending referral
    reward, and no later stage holding or blocking them (a contract, a complaint). A batch that fails is
    done again one lead at a time, each in its own savepoint: the lead that fails is recorded and retried
    later with backoff (``renocrm.sweeps``) while the others are anonymised. Returns how many leads were
    anonymised; running again finds nothing more to do."""
    now = now or timezone.now()
    sweep = sweep or Sweep(RETENTION_SWEEP, batch_size=batch)
    cutoff = now - timedelta(days=privacy_settings().lost_lead_retention_days)
    due = Lead.objects.filter(status=Lead.Status.LOST, anonymised_at__isnull=True, updated_at__lt=cutoff)
    pks = list(
        sweep.batch(
            due.order_by("updated_at", "pk").select_for_update(skip_locked=True).values_list("pk", flat=True),
            size=batch,
        )
    )
    return sweep.run_together(pks, _lost_leads_anonymise, now=now, key=lambda pk: pk)


def _lost_leads_anonymise(pks: list[int], *, now: datetime) -> int:
    leads = Lead.objects.filter(pk__in=pks)
    personal_data.anonymise_leads(leads, now=now)

    kept = Lead.objects.filter(customer=OuterRef("pk"), anonymised_at__isnull=True)
    owed = ReferralReward.objects.filter(referrer=OuterRef("pk"), status=ReferralReward.Status.PENDING)
    free = (
        Customer.objects.filter(pk__in=leads.values("customer_id"), anonymised_at__isnull=True)
        .exclude(Exists(kept))
        .exclude(Exists(owed))
        .order_by("pk")
    )
    with translation.override(require_current_tenant().language):
        note = _("Lost-lead retention")
    for customer in free:
        if not (registry.is_held(customer) or registry.erasure_blocks(customer)):
            customer_erase(customer=customer, note=note)
    return len(pks)

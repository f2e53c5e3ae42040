"""The firm's full export: every firm-owned table as CSV and JSON, every stored file the tables name, and a
manifest, in one ZIP saved to ``FirmExport.archive``.

Built by a Celery task inside the firm's context, so the row-level security of every table holds: another
firm's rows cannot reach the archive. Rows are streamed from the database in chunks into a temporary file,
never the whole firm in memory.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import logging
import shutil
import tempfile
import uuid
import zipfile
from decimal import Decimal

from django.core.files import File
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from renocrm.audit.models import AuditEvent
from renocrm.audit.selectors import HIDDEN, HIDDEN_VALUE_MARKERS
from renocrm.outbox.enqueue import enqueue_on_commit
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.db import tenant_models

from .models import FirmExport, export_retention

logger = logging.getLogger(__name__)
# The expiry sweeper's name in renocrm.sweeps (its failures and backoff).
EXPIRY_SWEEP = "firm-export-expiry"

CHUNK = 2000
# Earlier exports are rows of the archive but not files in it: each archive would hold all those before it.
FILES_LEFT_OUT = {FirmExport}


def plain(value):
    """A value as JSON carries it: dates ISO, decimals as strings, binary as base64, files by name. Also the
    cells of a homeowner's own export (renocrm/privacy/registry.py)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes | memoryview | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return str(value)


def csv_cell(value) -> str:
    """A plain value as a CSV cell: lists and objects as JSON, nothing as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def table_columns(model, *, leave_out: tuple[str, ...] = ()) -> list[str]:
    """The model's stored columns (``worksite_id`` for a foreign key) in field order, but those named."""
    return [field.attname for field in model._meta.concrete_fields if field.name not in leave_out]


def secret_columns(model) -> set[str]:
    """The model's columns that hold a secret or its digest (an access key, a robot's URL with its key, a
    password hash, a token): named so, by column or field, as the audit trail hides them. The export keeps
    them empty: a download of the firm's data is not a way to its credentials."""
    return {
        field.attname
        for field in model._meta.concrete_fields
        if any(marker in field.column or marker in field.attname for marker in HIDDEN_VALUE_MARKERS)
    }


def audit_changes_hidden(changes):
    """An audit row's recorded values as the audit trail shows them: a secret column's value hidden."""
    if not isinstance(changes, dict):
        return changes
    return {
        column: HIDDEN if value is not None and any(marker in column for marker in HIDDEN_VALUE_MARKERS) else value
        for column, value in changes.items()
    }


def _write_table(archive: zipfile.ZipFile, model) -> int:
    """The model's rows of the current firm into csv/<label>.csv and json/<label>.json, in one pass; secret
    columns empty, and the secrets the audit trail recorded hidden as its pages hide them."""
    label = model._meta.label_lower
    columns = table_columns(model)
    hidden = [index for index, column in enumerate(columns) if column in secret_columns(model)]
    changes = columns.index("changes") if model is AuditEvent else None
    count = 0
    with tempfile.TemporaryFile() as json_rows:
        json_rows.write(b"[")
        with archive.open(f"csv/{label}.csv", "w", force_zip64=True) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv.writer(text)
            writer.writerow(columns)
            for values in model.objects.order_by("pk").values_list(*columns).iterator(chunk_size=CHUNK):
                row = [plain(value) for value in values]
                for index in hidden:
                    row[index] = ""
                if changes is not None:
                    row[changes] = audit_changes_hidden(row[changes])
                writer.writerow([csv_cell(value) for value in row])
                record = json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False)
                json_rows.write(("," if count else "").encode() + b"\n" + record.encode())
                count += 1
            text.flush()
            text.detach()
        json_rows.write(b"\n]\n")
        json_rows.seek(0)
        with archive.open(f"json/{label}.json", "w", force_zip64=True) as raw:
            shutil.copyfileobj(json_rows, raw)
    return count


def _write_files(archive: zipfile.ZipFile, model, written: set[str], missing: set[str]) -> None:
    """Every file the model's FileFields name, under attachments/<storage name>."""
    for field in model._meta.concrete_fields:
        if not isinstance(field, models.FileField):
            continue
        names = model.objects.exclude(**{field.attname: ""}).order_by("pk").values_list(field.attname, flat=True)
        for name in names.iterator(chunk_size=CHUNK):
            if name in written or name in missing:
                continue
            try:
                with field.storage.open(name, "rb") as stored, archive.open(f"attachments/{name}", "w") as raw:
                    shutil.copyfileobj(stored, raw)
            except FileNotFoundError:
                missing.add(name)
                continue
            written.add(name)


def write_firm_archive(target) -> dict:
    """Write the current firm's archive into the binary file ``target``; returns the manifest."""
    firm = require_current_tenant()
    tables, written, missing = {}, set(), set()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ordered = sorted(tenant_models(), key=lambda model: model._meta.label_lower)
        for model in ordered:
            tables[model._meta.label_lower] = _write_table(archive, model)
        for model in ordered:
            if model not in FILES_LEFT_OUT:
                _write_files(archive, model, written, missing)
        manifest = {
            "firm": {"id": firm.pk, "name": firm.name, "slug": firm.slug},
            "created_at": timezone.now().isoformat(),
            "tables": tables,
            "files": sorted(written),
            "missing_files": sorted(missing),
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest


@transaction.atomic
def firm_export_start(*, by) -> FirmExport:
    """Ask for a new archive of the firm's data; it is built in the background once this has committed."""
    from .tasks import build_firm_export

    export = FirmExport.objects.create(requested_by=by)
    tenant_id = require_current_tenant().pk
    enqueue_on_commit(build_firm_export, export_id=export.pk, tenant_id=tenant_id)
    return export


def waiting_export_ids(*, before) -> list[int]:
    return list(
        FirmExport.objects.filter(status=FirmExport.Status.PENDING, created_at__lt=before).values_list("pk", flat=True)
    )


def firm_export_build(*, export_id: int) -> FirmExport | None:
    """Build one requested archive. Safe to run twice: a finished export, or one another worker holds, is
    left alone. A failure is kept on the export (FAILED, with the error) rather than lost."""
    export = FirmExport.objects.select_for_update(skip_locked=True).filter(pk=export_id).first()
    finished = (FirmExport.Status.DONE, FirmExport.Status.FAILED, FirmExport.Status.EXPIRED)
    if export is None or export.status in finished:
        logger.info("firm export %s: nothing to do", export_id)
        return export
    export.status = FirmExport.Status.RUNNING
    export.save(update_fields=["status"])
    firm = require_current_tenant()
    try:
        with transaction.atomic(), tempfile.TemporaryFile() as archive:
            write_firm_archive(archive)
            archive.seek(0, io.SEEK_END)
            size = archive.tell()
            archive.seek(0)
            stamp = timezone.localtime(timezone.now(), firm.zone).strftime("%Y%m%d-%H%M%S")
            export.archive.save(f"{firm.slug}-{stamp}.zip", File(archive), save=False)
    except Exception as error:
        logger.exception("firm export %s failed", export_id)
        export.status, export.error = FirmExport.Status.FAILED, f"{type(error).__name__}: {error}"[:2000]
        export.finished_at = timezone.now()
        export.save(update_fields=["status", "error", "finished_at"])
        return export
    export.status, export.size, export.finished_at = FirmExport.Status.DONE, size, timezone.now()
    export.save(update_fields=["status", "archive", "size", "finished_at"])
    return export


@transaction.atomic
def firm_exports_expire(*, now=None, sweep: Sweep | None = None) -> int:
    """Delete the files of the current firm's ready exports older than the retention
    (``settings.PERSONAL_EXPORT_RETENTION_DAYS``); their rows stay, marked expired, as the record that an
    export was made. An export another run holds is left to it. Each export in its own savepoint: one that
    fails is recorded and retried later (``renocrm.sweeps``) while the others expire. The file goes before
    the row changes: should that fail, the next try finds the same row and deleting a missing file is no
    error."""
    now = now or timezone.now()
    sweep = sweep or Sweep(EXPIRY_SWEEP)
    due = FirmExport.objects.select_for_update(skip_locked=True).filter(
        status=FirmExport.Status.DONE, finished_at__lte=now - export_retention()
    )
    expired = sum(
        sweep.run(pk, _firm_export_expire, pk, name) or 0
        for pk, name in sweep.batch(due.order_by("pk").values_list("pk", "archive"))
    )
    if expired:
        logger.info("firm exports expired: %s", expired)
    return expired


def _firm_export_expire(pk: int, name: str) -> int:
    if name:
        FirmExport._meta.get_field("archive").storage.delete(name)
    FirmExport.objects.filter(pk=pk).update(status=FirmExport.Status.EXPIRED, archive="")
    return 1

"""The firm's full export: every firm-owned table as CSV and JSON with row counts equal to the tables', the
stored files, a manifest, none of another firm's rows; built by the task after commit; a failure is kept;
the download is for the firm's admins only."""

import csv
import io
import json
import zipfile
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from leads.models import Customer
from renocrm.audit.models import AuditEvent
from renocrm.audit.selectors import HIDDEN
from renocrm.privacy import exports
from renocrm.privacy.exports import firm_export_start
from renocrm.privacy.models import FirmExport
from renocrm.privacy.tasks import sweep_waiting_exports
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.db import tenant_models
from tests.factories import MembershipFactory
from tests.leads.factories import CustomerFactory, FollowUpFactory
from tests.privacy.factories import FirmExportFactory
from tests.worksites.factories import HandoverDocumentFactory


def build(firm, django_capture_on_commit_callbacks):
    """Ask for the export as firm's admin and run what is enqueued on commit (the task runs eagerly)."""
    admin = MembershipFactory(tenant=firm).user
    with django_capture_on_commit_callbacks(execute=True), tenant_context(firm):
        export = firm_export_start(by=admin)
    with tenant_context(firm):
        export.refresh_from_db()
    return export


def test_the_archive_holds_every_table_the_files_and_no_other_firms_rows(
    firm_a, firm_b, django_capture_on_commit_callbacks
):
    with tenant_context(firm_a):
        mine = CustomerFactory(name="王芳", mobile="13800000001", birthday="1990-05-01")
        FollowUpFactory(lead__customer=mine)
        document = HandoverDocumentFactory(
            kind="warranty_card",
            file=ContentFile(b"%PDF-1.4 card", name="card.pdf"),
            content_type="application/pdf",
            size=13,
        )
    with tenant_context(firm_b):
        theirs = CustomerFactory(name="李雷", mobile="13900000009")

    export = build(firm_a, django_capture_on_commit_callbacks)
    assert export.status == FirmExport.Status.DONE and export.finished_at and export.error == ""
    archive = zipfile.ZipFile(export.archive.open("rb"))
    assert export.size == export.archive.size
    names = set(archive.namelist())
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["firm"]["slug"] == "firm-a"

    with tenant_context(firm_a):
        for model in tenant_models():
            label = model._meta.label_lower
            assert f"csv/{label}.csv" in names and f"json/{label}.json" in names, label
            rows = json.loads(archive.read(f"json/{label}.json"))
            table = list(csv.DictReader(io.StringIO(archive.read(f"csv/{label}.csv").decode())))
            assert manifest["tables"][label] == len(rows) == len(table), label
            if model in (FirmExport, AuditEvent):
                # Finishing the export changed its row (and the trail recorded that) after the tables were written.
                assert len(rows) <= model.objects.count(), label
            else:
                assert len(rows) == model.objects.count(), label
            assert {row["tenant_id"] for row in rows} <= {firm_a.pk}, label

    customers = json.loads(archive.read("json/leads.customer.json"))
    by_id = {c["id"]: c for c in customers}
    assert by_id[mine.pk]["name"] == "王芳" and by_id[mine.pk]["birthday"] == "1990-05-01"
    assert theirs.pk not in {c["id"] for c in customers}
    assert "13900000009" not in archive.read("csv/leads.customer.csv").decode()
    assert archive.read(f"attachments/{document.file.name}") == b"%PDF-1.4 card"
    assert document.file.name in manifest["files"]
    documents = json.loads(archive.read("json/worksites.handoverdocument.json"))
    assert documents[0]["file"] == document.file.name and documents[0]["handover_id"] == document.handover_id


def test_decimals_and_dates_are_plain_text():
    assert exports.plain(timezone.datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05"
    assert exports.plain(__import__("decimal").Decimal("1.50")) == "1.50"
    assert exports.plain(b"\x00\x01") == "AAE="
    assert exports.plain(timedelta(hours=1)) == "1:00:00"


def test_a_failure_is_kept_on_the_export(firm_a, monkeypatch, django_capture_on_commit_callbacks):
    def broken(target):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "write_firm_archive", broken)
    export = build(firm_a, django_capture_on_commit_callbacks)
    assert export.status == FirmExport.Status.FAILED and "disk full" in export.error and not export.archive


def test_building_twice_builds_once(firm_a, django_capture_on_commit_callbacks):
    export = build(firm_a, django_capture_on_commit_callbacks)
    name = export.archive.name
    with tenant_context(firm_a):
        again = exports.firm_export_build(export_id=export.pk)
    assert again.archive.name == name and again.status == FirmExport.Status.DONE


def test_an_export_never_queued_is_built_by_the_sweep_and_a_fresh_one_is_left_to_its_task(firm_a):
    admin = MembershipFactory(tenant=firm_a).user
    with tenant_context(firm_a):
        lost = FirmExport.objects.create(requested_by=admin)  # asked for while the broker was down
        fresh = FirmExport.objects.create(requested_by=admin)
        FirmExport.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    sweep_waiting_exports()
    with tenant_context(firm_a):
        lost.refresh_from_db()
        fresh.refresh_from_db()
    assert lost.status == FirmExport.Status.DONE and lost.archive
    assert fresh.status == FirmExport.Status.PENDING


def test_the_download_is_for_the_firms_admins_only(firm_a, firm_b, django_capture_on_commit_callbacks):
    export = build(firm_a, django_capture_on_commit_callbacks)
    url = f"/privacy/exports/{export.pk}/download/"
    admin, other_admin, sales = Client(), Client(), Client()
    admin.force_login(MembershipFactory(tenant=firm_a).user)
    other_admin.force_login(MembershipFactory(tenant=firm_b).user)
    sales.force_login(MembershipFactory(tenant=firm_a, role="sales").user)

    response = admin.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("manifest.json")
    assert other_admin.get(url).status_code == 404
    assert sales.get(url).status_code == 403


def test_an_export_not_ready_goes_back_to_the_page(firm_a, staff_client):
    with tenant_context(firm_a):
        waiting = FirmExportFactory(requested_by=staff_client.membership.user)
    response = staff_client.get(f"/privacy/exports/{waiting.pk}/download/")
    assert response.status_code == 302 and response["Location"] == "/privacy/"


def test_the_button_starts_an_export(firm_a, staff_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/privacy/exports/")
    assert response.status_code == 302
    with tenant_context(firm_a):
        export = FirmExport.objects.get()
        assert export.status == FirmExport.Status.DONE and export.requested_by == staff_client.membership.user
        assert Customer.objects.count() == 0


def test_the_archive_holds_no_credentials_not_even_in_the_audit_trail(firm_a, django_capture_on_commit_callbacks):
    from renocrm.outbox import notice_settings
    from renocrm.outbox.models import NoticeSettings, WecomRobot

    key_id, secret = "LTAI5tFirmOwnKey8899", "firm-own-secret-value-42"
    robot_key = "693a91f6-7a2b-4bc4-97a0-0ec2f1fa5aaa"
    with tenant_context(firm_a):
        notice_settings.notice_settings_update(
            provider="aliyun", sign_name="美家装饰", access_key_id=key_id, access_key_secret=secret
        )
        notice_settings.wecom_robot_create(
            name="销售群", webhook_url=f"{settings.WECOM_WEBHOOK_URL}?key={robot_key}", kinds=["new_leads"]
        )
        # The audit trigger copied them into the trail.
        assert AuditEvent.objects.filter(table_name=NoticeSettings._meta.db_table).exists()

    export = build(firm_a, django_capture_on_commit_callbacks)
    archive = zipfile.ZipFile(export.archive.open("rb"))
    everything = b"".join(archive.read(name) for name in archive.namelist())
    for value in (key_id, secret, robot_key):
        assert value.encode() not in everything, value

    [saved] = json.loads(archive.read("json/outbox.noticesettings.json"))
    assert (saved["sign_name"], saved["access_key_id"], saved["access_key_secret"]) == ("美家装饰", "", "")
    [robot] = json.loads(archive.read("json/outbox.wecomrobot.json"))
    assert (robot["name"], robot["webhook_url"]) == ("销售群", "")
    [row] = list(csv.DictReader(io.StringIO(archive.read("csv/outbox.noticesettings.csv").decode())))
    assert row["access_key_secret"] == "" and row["sign_name"] == "美家装饰"
    trail = json.loads(archive.read("json/audit.auditevent.json"))
    changes = next(event["changes"] for event in trail if event["table_name"] == NoticeSettings._meta.db_table)
    assert changes["access_key_secret"] == HIDDEN and changes["access_key_id_secret"] == HIDDEN
    robot_changes = next(event["changes"] for event in trail if event["table_name"] == WecomRobot._meta.db_table)
    assert robot_changes["webhook_url_secret"] == HIDDEN and robot_changes["name"] == "销售群"

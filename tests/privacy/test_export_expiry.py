"""A firm's full export holds every homeowner's personal data: its file is deleted once it is past the
retention setting, the row stays as the record that an export was made, and the download is refused."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.utils import timezone

from renocrm.privacy.models import FirmExport
from renocrm.privacy.tasks import sweep_expired_exports
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.privacy.factories import FirmExportFactory

pytestmark = pytest.mark.usefixtures("english")

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def ready_export(firm, user, *, age: timedelta) -> FirmExport:
    with tenant_context(firm):
        export = FirmExportFactory(requested_by=user, status=FirmExport.Status.DONE, size=3)
        export.archive.save(f"{firm.slug}-{export.pk}.zip", ContentFile(b"zip"), save=False)
        export.finished_at = timezone.now() - age
        export.save()
    return export


def test_the_sweep_deletes_exports_past_the_retention_and_keeps_younger_ones(firm_a, firm_b, staff_client, settings):
    settings.PERSONAL_EXPORT_RETENTION_DAYS = 7
    user = staff_client.membership.user
    old = ready_export(firm_a, user, age=timedelta(days=7, minutes=1))
    young = ready_export(firm_a, user, age=timedelta(days=6, hours=23))
    other_user = MembershipFactory(tenant=firm_b).user
    other_firms = ready_export(firm_b, other_user, age=timedelta(days=30))
    old_file, young_file = old.archive.path, young.archive.path

    sweep_expired_exports()

    with tenant_context(firm_a):
        old.refresh_from_db()
        young.refresh_from_db()
    assert old.status == FirmExport.Status.EXPIRED and not old.archive
    assert not Path(old_file).exists()
    assert young.status == FirmExport.Status.DONE and Path(young_file).exists()
    # Every firm is swept in its own context.
    with tenant_context(firm_b):
        other_firms.refresh_from_db()
    assert other_firms.status == FirmExport.Status.EXPIRED

    # Running again changes nothing.
    sweep_expired_exports()
    with tenant_context(firm_a):
        assert FirmExport.objects.filter(status=FirmExport.Status.EXPIRED).count() == 1


def test_an_expired_export_is_refused_with_a_message_even_before_the_sweep(firm_a, staff_client, settings):
    settings.PERSONAL_EXPORT_RETENTION_DAYS = 3
    export = ready_export(firm_a, staff_client.membership.user, age=timedelta(days=3, seconds=1))

    response = staff_client.get(f"/privacy/exports/{export.pk}/download/", follow=True, **EN)

    assert response.redirect_chain == [("/privacy/", 302)]
    html = response.content.decode()
    assert "This export has expired: its file is deleted 3 days after it was built. Start a new one." in html
    assert 'data-testid="firm-export-download"' not in html
    assert "Expired" in html


def test_a_ready_export_downloads_and_says_until_when(firm_a, staff_client, settings):
    settings.PERSONAL_EXPORT_RETENTION_DAYS = 7
    export = ready_export(firm_a, staff_client.membership.user, age=timedelta(days=1))

    response = staff_client.get(f"/privacy/exports/{export.pk}/download/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"zip"

    page = staff_client.get("/privacy/", **EN).content.decode()
    until = timezone.localtime(export.finished_at + timedelta(days=7), firm_a.zone).strftime("%Y-%m-%d %H:%M")
    assert f"Until {until}" in page
    assert "its file is deleted 7 days after it is built" in page


def test_an_expired_export_is_never_built_again(firm_a, staff_client):
    from renocrm.privacy.exports import firm_export_build

    with tenant_context(firm_a):
        export = FirmExportFactory(requested_by=staff_client.membership.user, status=FirmExport.Status.EXPIRED)
        assert firm_export_build(export_id=export.pk).status == FirmExport.Status.EXPIRED
        export.refresh_from_db()
        assert not export.archive


def test_the_sweep_is_on_the_beat_schedule():
    entries = [entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()]
    assert "renocrm.privacy.tasks.sweep_expired_exports" in entries

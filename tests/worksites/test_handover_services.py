"""Handover services: the checklist, item-by-item acceptance, rectification and re-check, documents and
completion."""

from datetime import date, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from contracts.models import Instalment, Project
from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.contracts.test_services import signed_contract
from tests.factories import MembershipFactory
from tests.worksites.factories import finish_construction
from worksites.models import (
    AcceptanceItem,
    AcceptanceItemTemplate,
    Handover,
    HandoverDocument,
    RectificationItem,
    Worksite,
)
from worksites.selectors import handover as selectors
from worksites.services import handover as services
from worksites.services import schedule

# signed_contract's items add up to 10 616.63: the final instalment falls due 3 days after acceptance.
SCHEDULE = [
    {"kind": "deposit", "amount": "5000.00", "trigger": "on_signing", "due_on": date(2026, 11, 24)},
    {"kind": "final", "amount": "5616.63", "trigger": "acceptance", "due_days_after_trigger": 3},
]
PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def pdf(name="drawings.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def open_worksite(number="HT-001"):
    """A worksite whose contract has a final instalment due 3 days after completion acceptance."""
    return schedule.worksite_open(contract=signed_contract(number=number, instalments=SCHEDULE))


def staff(firm, role="project_manager", **user):
    membership = MembershipFactory(tenant=firm, role=role, **({"user__" + k: v for k, v in user.items()}))
    return membership.user


def pass_all(handover, by):
    finish_construction(handover.worksite)
    for item in handover.items.all():
        services.acceptance_item_check(item=item, passed=True, checked_by=by)


def fail_check(item, by, description, *, owner=None, deadline=None, note=""):
    """``by`` fails the check with its rectification item, owned by ``owner`` (else ``by``) and due by
    ``deadline`` (else today)."""
    rectification = {"description": description, "owner": owner or by, "deadline": deadline or firm_today()}
    return services.acceptance_item_check(
        item=item, passed=False, checked_by=by, note=note, rectification=rectification
    )


def add_required_documents(handover, by):
    for kind in HandoverDocument.REQUIRED_KINDS:
        services.handover_document_add(handover=handover, kind=kind, upload=pdf(), uploaded_by=by)


def stored_files(firm) -> set[str]:
    root = Path(settings.MEDIA_ROOT) / "firms" / str(firm.pk) / "worksites" / "handoverdocument"
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a


@pytest.fixture
def foreman(firm):
    return staff(firm)


def test_the_default_checklist_is_written_in_the_firms_language_and_seeded_once(firm_a):
    firm_a.language = "en"
    firm_a.save()
    with tenant_context(firm_a):
        checklist = services.acceptance_template_get()
        assert [t.position for t in checklist] == list(range(1, len(services.DEFAULT_CHECKLIST) + 1))
        assert (checklist[0].area, checklist[-1].area) == ("Walls & ceilings", "Cleaning")
        areas = {t.area for t in checklist}
        assert {"Plumbing", "Electrical", "Waterproofing", "Doors & windows", "Carpentry & cabinets"} <= areas
        assert any("seals" in t.item for t in checklist)
        services.acceptance_template_get()
        assert AcceptanceItemTemplate.objects.count() == len(checklist)


def test_a_checklist_another_request_seeded_a_moment_ago_is_read_not_doubled(firm):
    theirs = services.acceptance_template_get()
    manager = AcceptanceItemTemplate.objects
    # This request read no checklist just before the other one saved its copy.
    with mock.patch.object(manager, "all", side_effect=[manager.none(), manager.all()]) as reads:
        ours = services.acceptance_template_get()
    assert reads.call_count == 2 and ours == theirs
    assert AcceptanceItemTemplate.objects.count() == len(services.DEFAULT_CHECKLIST)


def test_an_edited_checklist_shapes_the_next_handover_only(firm, foreman):
    running = services.handover_start(worksite=open_worksite("HT-1"), started_by=foreman)
    services.acceptance_template_replace(
        rows=[{"area": "卫生间", "item": "地漏排水顺畅"}, {"area": "Doors & windows", "item": "Seals tight"}]
    )
    fresh = services.handover_start(worksite=open_worksite("HT-2"), started_by=foreman)
    assert [(i.position, i.area, i.item) for i in fresh.items.order_by("position")] == [
        (1, "卫生间", "地漏排水顺畅"),
        (2, "Doors & windows", "Seals tight"),
    ]
    assert running.items.count() == len(services.DEFAULT_CHECKLIST)
    for rows in ([], [{"area": " ", "item": "x"}], [{"area": "Walls", "item": ""}]):
        with pytest.raises(ValidationError):
            services.acceptance_template_replace(rows=rows)
    assert AcceptanceItemTemplate.objects.count() == 2


def test_a_worksite_has_one_handover(firm, foreman):
    worksite = open_worksite()
    first = services.handover_start(worksite=worksite, started_by=foreman)
    assert services.handover_start(worksite=worksite, started_by=None) == first
    assert Handover.objects.count() == 1
    assert AcceptanceItem.objects.count() == len(services.DEFAULT_CHECKLIST)
    assert first.started_by == foreman and first.status == Handover.Status.IN_PROGRESS


def test_failing_a_check_without_a_rectification_item_is_refused(firm, foreman):
    handover = services.handover_start(worksite=open_worksite(), started_by=foreman)
    item = handover.items.first()
    with pytest.raises(ValidationError) as refused:
        services.acceptance_item_check(item=item, passed=False, checked_by=foreman)
    assert "rectification" in refused.value.message_dict
    with pytest.raises(ValidationError) as incomplete:
        services.acceptance_item_check(
            item=item, passed=False, checked_by=foreman, rectification={"description": " ", "owner": foreman}
        )
    assert {"description", "deadline"} <= set(incomplete.value.message_dict)
    item.refresh_from_db()
    assert item.result == AcceptanceItem.Result.PENDING
    assert not RectificationItem.objects.exists()


def test_the_owner_must_be_staff_who_can_fix_and_the_deadline_not_past(firm, firm_b, foreman):
    handover = services.handover_start(worksite=open_worksite(), started_by=foreman)
    item = handover.items.first()
    outsider = staff(firm_b)
    sales = staff(firm, role="sales")
    today = firm_today()
    for owner, deadline, field in [
        (outsider, today, "owner"),
        (sales, today, "owner"),
        (foreman, today - timedelta(days=1), "deadline"),
    ]:
        with pytest.raises(ValidationError) as refused:
            services.acceptance_item_check(
                item=item,
                passed=False,
                checked_by=foreman,
                rectification={"description": "Re-seal the window", "owner": owner, "deadline": deadline},
            )
        assert field in refused.value.message_dict
    assert not RectificationItem.objects.exists()
    fail_check(item, foreman, "Re-seal the window", deadline=today, note="Draught at the bathroom window")
    rectification = RectificationItem.objects.get()
    assert (rectification.acceptance_item, rectification.owner, rectification.deadline) == (item, foreman, today)
    item.refresh_from_db()
    assert (item.result, item.note, item.checked_by) == ("failed", "Draught at the bathroom window", foreman)


def test_rectification_fix_and_recheck(firm, foreman):
    qc = staff(firm, role="qc")
    handover = services.handover_start(worksite=open_worksite(), started_by=foreman)
    item = handover.items.first()
    today = firm_today()
    fail_check(item, qc, "Tiles hollow by the door", owner=foreman, deadline=today)
    rectification = RectificationItem.objects.get()
    with pytest.raises(ValidationError):
        services.acceptance_item_check(item=item, passed=True, checked_by=qc)  # passes through the re-check
    with pytest.raises(ValidationError):
        services.rectification_item_recheck(item=rectification, passed=True, rechecked_by=qc)  # not fixed yet
    services.rectification_item_mark_fixed(item=rectification)
    with pytest.raises(ValidationError):
        services.rectification_item_mark_fixed(item=rectification)
    with pytest.raises(ValidationError) as no_deadline:
        services.rectification_item_recheck(item=rectification, passed=False, rechecked_by=qc)
    assert "new_deadline" in no_deadline.value.message_dict
    RectificationItem.objects.filter(pk=rectification.pk).update(overdue_raised_on=today)

    new_deadline = today + timedelta(days=3)
    services.rectification_item_recheck(
        item=rectification, passed=False, rechecked_by=qc, note="Still hollow", new_deadline=new_deadline
    )
    rectification.refresh_from_db()
    assert (rectification.status, rectification.deadline, rectification.fixed_at) == ("open", new_deadline, None)
    assert (rectification.recheck_note, rectification.rechecked_by, rectification.overdue_raised_on) == (
        "Still hollow",
        qc,
        None,
    )

    services.rectification_item_mark_fixed(item=rectification)
    services.rectification_item_recheck(item=rectification, passed=True, rechecked_by=qc, note="Solid now")
    rectification.refresh_from_db()
    item.refresh_from_db()
    assert rectification.status == RectificationItem.Status.CLOSED
    assert (item.result, item.checked_by) == (AcceptanceItem.Result.PASSED, qc)


def test_a_check_passes_only_when_all_its_rectification_items_close(firm, foreman):
    handover = services.handover_start(worksite=open_worksite(), started_by=foreman)
    item = handover.items.first()
    today = firm_today()
    fail_check(item, foreman, "Crack by the window", deadline=today)
    second = services.rectification_item_create(
        handover=handover, description="Crack over the door", owner=foreman, deadline=today, acceptance_item=item
    )
    first = RectificationItem.objects.exclude(pk=second.pk).get()
    for rectification in (first, second):
        services.rectification_item_mark_fixed(item=rectification)
    qc = staff(firm, role="qc")
    services.rectification_item_recheck(item=first, passed=True, rechecked_by=qc)
    item.refresh_from_db()
    assert item.result == AcceptanceItem.Result.FAILED
    services.rectification_item_recheck(item=second, passed=True, rechecked_by=qc)
    item.refresh_from_db()
    assert item.result == AcceptanceItem.Result.PASSED


def test_a_rectification_item_belongs_to_its_own_handover(firm, foreman):
    one = services.handover_start(worksite=open_worksite("HT-1"), started_by=foreman)
    other = services.handover_start(worksite=open_worksite("HT-2"), started_by=foreman)
    with pytest.raises(ValidationError) as refused:
        services.rectification_item_create(
            handover=one,
            description="x",
            owner=foreman,
            deadline=firm_today(),
            acceptance_item=other.items.first(),
        )
    assert "acceptance_item" in refused.value.message_dict


def test_documents_missing_and_the_homeowners_list(firm, foreman):
    worksite = open_worksite()
    assert selectors.handover_documents(worksite=worksite) == []
    handover = services.handover_start(worksite=worksite, started_by=foreman)
    assert selectors.handover_documents_missing(handover=handover) == list(HandoverDocument.REQUIRED_KINDS)
    card = services.handover_document_add(
        handover=handover, kind="warranty_card", upload=pdf("保修卡.pdf"), uploaded_by=foreman, title="Warranty"
    )
    services.handover_document_add(handover=handover, kind="other", upload=pdf(), uploaded_by=foreman)
    missing = selectors.handover_documents_missing(handover=handover)
    assert "warranty_card" not in missing and "other" not in missing and len(missing) == 4  # never required
    assert (card.content_type, card.original_name, card.size) == ("application/pdf", "保修卡.pdf", len(PDF_BYTES))
    assert card.file.name.startswith(f"firms/{firm.pk}/worksites/handoverdocument/")
    assert card.file.name.endswith(".pdf")
    assert [d.kind for d in selectors.handover_documents(worksite=worksite)] == ["other", "warranty_card"]


def test_a_wrong_file_type_is_refused_and_nothing_is_stored(firm, foreman):
    handover = services.handover_start(worksite=open_worksite(), started_by=foreman)
    before = stored_files(firm)
    fake = SimpleUploadedFile("drawings.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.handover_document_add(handover=handover, kind="as_built_drawings", upload=fake, uploaded_by=foreman)
    assert "not a file type accepted here" in refused.value.message_dict["file"][0]
    with pytest.raises(ValidationError) as wrong_kind:
        services.handover_document_add(handover=handover, kind="selfie", upload=pdf(), uploaded_by=foreman)
    assert "kind" in wrong_kind.value.message_dict
    assert not HandoverDocument.objects.exists()
    assert stored_files(firm) == before


def test_completion_is_refused_with_every_reason(firm, foreman):
    handover = services.handover_start(worksite=open_worksite(), started_by=foreman)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.handover_complete(handover=handover, completed_by=foreman)
    codes = [error.code for error in refused.value.error_list]
    assert codes == ["phases_unfinished", "inspections_not_passed", "unchecked", "documents_missing"]
    text = " ".join(refused.value.messages)
    assert "11 of 12 phases are not finished" in text
    assert "Inspections not passed: Concealed-works inspection, Waterproofing closed-water test, " in text
    assert "Mid-term inspection, QC pre-inspection, Final acceptance." in text
    assert f"{len(services.DEFAULT_CHECKLIST)} checks are not done yet" in text
    assert "As-built drawings" in text and "Material certificates" in text
    assert "Warranty card" not in text, "aftercare issues it with the final payment"

    finish_construction(handover.worksite)

    items = list(handover.items.order_by("position"))
    for item in items[1:]:
        services.acceptance_item_check(item=item, passed=True, checked_by=foreman)
    fail_check(items[0], foreman, "Re-paint the hall ceiling")
    add_required_documents(handover, foreman)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.handover_complete(handover=handover, completed_by=foreman)
    assert [error.code for error in refused.value.error_list] == ["failed", "rectification_open"]
    assert "Re-paint the hall ceiling" in " ".join(refused.value.messages)

    rectification = RectificationItem.objects.get()
    services.rectification_item_mark_fixed(item=rectification)
    with pytest.raises(ValidationError) as refused:
        services.handover_complete(handover=handover, completed_by=foreman)
    # Fixed but not re-checked: the check has not passed and the item is not closed.
    assert [error.code for error in refused.value.error_list] == ["failed", "rectification_open"]

    HandoverDocument.objects.filter(kind="material_certificates").delete()
    services.rectification_item_recheck(item=rectification, passed=True, rechecked_by=staff(firm, role="qc"))
    with pytest.raises(ValidationError) as refused:
        services.handover_complete(handover=handover, completed_by=foreman)
    assert [error.code for error in refused.value.error_list] == ["documents_missing"]
    handover.refresh_from_db()
    assert handover.status == Handover.Status.IN_PROGRESS
    assert not OutboxEvent.objects.filter(event_type="project.handed_over").exists()


def test_completion_hands_over_makes_the_final_payment_due_and_emits_the_event_once(firm, foreman):
    worksite = open_worksite()
    handover = services.handover_start(worksite=worksite, started_by=foreman)
    pass_all(handover, foreman)
    add_required_documents(handover, foreman)
    # The final acceptance passed today (pass_all finished construction): the handover cannot be dated
    # before it, and is dated the acceptance day by default.
    Handover.objects.filter(pk=handover.pk).update(started_at=timezone.now() - timedelta(days=7))
    before = firm_today() - timedelta(days=2)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.handover_complete(handover=handover, completed_by=foreman, on=before)
    assert "before the final acceptance" in refused.value.message_dict["on"][0]
    handed = firm_today()
    services.handover_complete(handover=handover, completed_by=foreman)

    handover.refresh_from_db()
    worksite.refresh_from_db()
    project = Project.objects.get(pk=worksite.project_id)
    assert (handover.status, handover.handed_over_on, handover.completed_by) == ("completed", handed, foreman)
    assert worksite.status == Worksite.Status.HANDED_OVER
    assert (project.status, project.handed_over_on) == (Project.Status.HANDED_OVER, handed)
    final = Instalment.objects.get(contract=worksite.contract, kind="final")
    assert final.due_on == handed + timedelta(days=3)
    [event] = OutboxEvent.objects.filter(event_type="project.handed_over")
    assert event.payload == {
        "project_id": project.pk,
        "worksite_id": worksite.pk,
        "contract_id": worksite.contract_id,
        "customer_id": project.customer_id,
        "handed_over_on": handed.isoformat(),
        "accepted_on": handed.isoformat(),
    }
    # The final payment fell due when the final acceptance passed, once.
    [due] = OutboxEvent.objects.filter(event_type="payment.due", payload__instalment_id=final.pk)

    with pytest.raises(ValidationError):
        services.handover_complete(handover=handover, completed_by=foreman)
    with pytest.raises(ValidationError):
        services.acceptance_item_check(item=handover.items.first(), passed=True, checked_by=foreman)
    assert OutboxEvent.objects.filter(event_type="project.handed_over").count() == 1
    assert Instalment.objects.get(pk=final.pk).due_on == handed + timedelta(days=3)


def test_the_handover_date_is_neither_in_the_future_nor_before_acceptance_started(firm, foreman):
    handover = services.handover_start(worksite=open_worksite(), started_by=foreman)
    pass_all(handover, foreman)
    add_required_documents(handover, foreman)
    today = firm_today()
    for day in (today + timedelta(days=1), today - timedelta(days=30)):
        with pytest.raises(ValidationError) as refused:
            services.handover_complete(handover=handover, completed_by=foreman, on=day)
        assert "on" in refused.value.message_dict
    services.handover_complete(handover=handover, completed_by=foreman)
    handover.refresh_from_db()
    assert handover.handed_over_on == today


def test_qc_rechecks_never_the_fixer_the_owner_or_the_site_lead(firm, foreman):
    """A rectification item is re-checked by QC (a firm admin may stand in), never by whoever fixed it, owns
    it or runs the worksite."""
    worksite = open_worksite()
    site_lead, designer = staff(firm), staff(firm, role="designer")
    worksite.project_manager = site_lead
    worksite.save(update_fields=["project_manager"])
    qc, fixer_qc, admin = staff(firm, role="qc"), staff(firm, role="qc"), staff(firm, role="admin")
    handover = services.handover_start(worksite=worksite, started_by=site_lead)
    fail_check(handover.items.first(), qc, "Grout the shower tray", owner=designer)
    item = RectificationItem.objects.get()
    services.rectification_item_mark_fixed(item=item, by=fixer_qc)
    assert RectificationItem.objects.get(pk=item.pk).fixed_by == fixer_qc
    for user, why in (
        (fixer_qc, "fixed"),
        (designer, "QC inspector"),  # the owner, and not QC
        (site_lead, "QC inspector"),
        (None, "QC inspector"),  # a partner's key is nobody
    ):
        with translation.override("en"), pytest.raises(ValidationError) as refused:
            services.rectification_item_recheck(item=item, passed=True, rechecked_by=user)
        assert why in refused.value.message_dict["rechecked_by"][0], user
    worksite.project_manager = admin
    worksite.save(update_fields=["project_manager"])
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.rectification_item_recheck(item=item, passed=True, rechecked_by=admin)  # runs the site
    assert "runs this work" in refused.value.message_dict["rechecked_by"][0]
    assert RectificationItem.objects.get(pk=item.pk).status == RectificationItem.Status.FIXED
    closed = services.rectification_item_recheck(item=item, passed=True, rechecked_by=qc)
    assert (closed.status, closed.rechecked_by) == (RectificationItem.Status.CLOSED, qc)

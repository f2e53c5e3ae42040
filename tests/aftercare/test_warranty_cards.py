"""The warranty card (保修单): issued once per project when the final payment is recorded and the project is
handed over, whichever comes second (验收后三日内交纳尾款，到客服部开保修单); numbered per firm; printed by
staff, shown on the homeowner's portal and read through the API."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from aftercare.models import WarrantyCard
from aftercare.services import cards
from contracts.models import Instalment
from contracts.services.payments import instalment_record_payment
from renocrm.outbox.models import OutboxEvent
from renocrm.privacy.models import ContactReveal
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.aftercare.conftest import BATHROOM_WATERPROOFING, complete_handover, signed_worksite, staff
from tests.aftercare.factories import CoverageFactory, WarrantyCardFactory
from tests.contracts.factories import ProjectFactory
from tests.leads.factories import PropertyFactory
from worksites.services.portal import portal_link_create, portal_link_token


def instalment(worksite, kind):
    return Instalment.objects.get(contract=worksite.contract, kind=kind)


def pay(worksite, kind=Instalment.Kind.FINAL):
    """Finance records the instalment as received, today."""
    finance = staff(worksite.tenant, role="finance")
    return instalment_record_payment(instalment=instalment(worksite, kind), paid_on=firm_today(), by=finance)


def hand_over(worksite):
    complete_handover(worksite, staff(worksite.tenant, role="project_manager"))
    worksite.project.refresh_from_db()


def card_events():
    return [e.payload for e in OutboxEvent.objects.filter(event_type="warranty_card.issued").order_by("id")]


@pytest.fixture
def worksite(firm):
    worksite = signed_worksite((BATHROOM_WATERPROOFING,))
    home = PropertyFactory(customer=worksite.project.customer, address="上海市徐汇区漕溪北路88弄3号1201室")
    worksite.project.property = home
    worksite.project.save(update_fields=["property"])
    return worksite


# The service ---------------------------------------------------------------------------------------------------


def test_the_final_payment_after_the_handover_issues_the_card(firm, worksite):
    hand_over(worksite)
    assert not WarrantyCard.objects.exists()
    pay(worksite)
    card = WarrantyCard.objects.get()
    today = firm_today()
    project = worksite.project
    assert (card.project, card.customer, card.instalment, card.issued_on) == (
        project,
        project.customer,
        instalment(worksite, Instalment.Kind.FINAL),
        today,
    )
    assert card.number == f"BX-{today.year}-0001"
    assert card_events() == [
        {
            "id": card.pk,
            "number": card.number,
            "project_id": project.pk,
            "customer_id": project.customer_id,
            "instalment_id": card.instalment_id,
            "issued_on": today.isoformat(),
        }
    ]


def test_a_final_payment_before_the_handover_issues_it_with_the_handover(firm, worksite):
    pay(worksite)
    assert not WarrantyCard.objects.exists()
    hand_over(worksite)
    card = WarrantyCard.objects.get()
    assert card.project == worksite.project and card.issued_on == worksite.project.handed_over_on
    assert len(card_events()) == 1


def test_no_card_for_any_other_payment(firm, worksite):
    pay(worksite, Instalment.Kind.DEPOSIT)
    hand_over(worksite)
    pay(worksite, Instalment.Kind.MIDTERM)
    assert not WarrantyCard.objects.exists() and not card_events()


def test_the_event_handled_twice_makes_one_card(firm, worksite):
    hand_over(worksite)
    pay(worksite)
    payment = OutboxEvent.objects.get(event_type="payment.received")
    handover = OutboxEvent.objects.get(event_type="project.handed_over")
    cards.on_payment_received(payment)
    cards.on_project_handed_over(handover)
    assert WarrantyCard.objects.count() == 1 and len(card_events()) == 1


def test_numbers_run_per_firm_and_year(firm, firm_b, worksite):
    hand_over(worksite)
    pay(worksite)
    other = signed_worksite((BATHROOM_WATERPROOFING,), number="HT-A-2")
    hand_over(other)
    pay(other)
    year = firm_today().year
    assert list(WarrantyCard.objects.order_by("id").values_list("number", flat=True)) == [
        f"BX-{year}-0001",
        f"BX-{year}-0002",
    ]
    with tenant_context(firm_b):
        theirs = signed_worksite((BATHROOM_WATERPROOFING,), number="HT-B-1")
        hand_over(theirs)
        pay(theirs)
        assert WarrantyCard.objects.get().number == f"BX-{year}-0001"


def test_staff_issue_a_card_only_when_both_are_done(firm, worksite):
    project = worksite.project
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        cards.warranty_card_issue(project=project)
    assert refused.value.messages == ["The project is not handed over yet.", "The final payment is not recorded yet."]
    # A project handed over and paid before cards were issued: both facts are there, the card is not.
    Instalment.objects.filter(contract=worksite.contract, kind=Instalment.Kind.FINAL).update(paid_on=firm_today())
    type(project).objects.filter(pk=project.pk).update(handed_over_on=firm_today())
    card = cards.warranty_card_issue(project=project)
    assert cards.warranty_card_issue(project=project) == card and WarrantyCard.objects.count() == 1


# The pages -----------------------------------------------------------------------------------------------------


@pytest.fixture
def issued(firm_a):
    """A card of firm A, its project with an address and two coverages."""
    with tenant_context(firm_a):
        firm_a.phone = "400-820-1234"
        firm_a.save()
        home = PropertyFactory(address="上海市徐汇区漕溪北路88弄3号1201室")
        project = ProjectFactory(customer=home.customer, property=home, handed_over_on=firm_today())
        start = firm_today()
        CoverageFactory(project=project, name="General works", starts_on=start, ends_on=start + timedelta(days=730))
        CoverageFactory(
            project=project,
            name="Bathroom waterproofing",
            area="bathroom",
            trade="waterproofing",
            starts_on=start,
            ends_on=start + timedelta(days=1826),
        )
        return WarrantyCardFactory(project=project)


def test_the_printable_card(staff_client, issued):
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = staff_client.get(reverse("aftercare:warranty-card", args=[issued.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert issued.number in html and issued.customer.name in html and "400-820-1234" in html
    assert "General works" in html and "Bathroom waterproofing" in html
    assert "aftercare/warranty_card.css" in html and "data-print" in html
    # The address masked, with the recorded reveal for staff allowed to see it.
    assert "上海市徐汇区****" in html and "漕溪北路88弄" not in html and 'data-testid="reveal"' in html


def test_the_project_page_lists_the_card(staff_client, issued):
    page = staff_client.get(reverse("aftercare:project", args=[issued.project_id]), HTTP_ACCEPT_LANGUAGE="en")
    assert reverse("aftercare:warranty-card", args=[issued.pk]) in page.content.decode()
    assert b"Issue the warranty card" not in page.content


@pytest.mark.usefixtures("english")
def test_staff_issue_a_missing_card_from_the_project_page(staff_client, firm_a):
    with tenant_context(firm_a):
        worksite = signed_worksite((BATHROOM_WATERPROOFING,))
        project = worksite.project
    project_page = reverse("aftercare:project", args=[project.pk])
    url = reverse("aftercare:warranty-card-issue", args=[project.pk])
    refused = staff_client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "No warranty card: The project is not handed over yet." in refused.content.decode()
    with tenant_context(firm_a):
        Instalment.objects.filter(contract=worksite.contract, kind=Instalment.Kind.FINAL).update(paid_on=firm_today())
        type(project).objects.filter(pk=project.pk).update(handed_over_on=firm_today())
    assert b"Issue the warranty card" in staff_client.get(project_page, HTTP_ACCEPT_LANGUAGE="en").content
    done = staff_client.post(url, HTTP_ACCEPT_LANGUAGE="en")
    assert done.status_code == 302 and done.url == project_page
    with tenant_context(firm_a):
        assert WarrantyCard.objects.get().project_id == project.pk


def test_issuing_needs_aftercare_manage(client, firm_a):
    from tests.factories import MembershipFactory

    client.force_login(MembershipFactory(tenant=firm_a, role="designer").user)
    with tenant_context(firm_a):
        project = ProjectFactory()
    assert client.post(reverse("aftercare:warranty-card-issue", args=[project.pk])).status_code == 403


def test_another_firms_card_is_not_found(staff_client, firm_b):
    with tenant_context(firm_b):
        theirs = WarrantyCardFactory()
    assert staff_client.get(reverse("aftercare:warranty-card", args=[theirs.pk])).status_code == 404
    assert staff_client.post(reverse("aftercare:warranty-card-issue", args=[theirs.project_id])).status_code == 404


# The homeowner's portal ----------------------------------------------------------------------------------------


def test_the_portal_shows_the_card(firm_a, issued):
    from tests.worksites.factories import WorksiteFactory

    with tenant_context(firm_a):
        worksite = WorksiteFactory(contract=issued.instalment.contract)
        token = portal_link_token(portal_link_create(worksite=worksite))
    homeowner = Client(HTTP_ACCEPT_LANGUAGE="en")
    html = homeowner.get(reverse("aftercare_portal:repairs", args=[token])).content.decode()
    assert issued.number in html and "400-820-1234" in html and "Bathroom waterproofing" in html
    # The link may be forwarded: the address stops at the district.
    assert "上海市徐汇区****" in html and "漕溪北路" not in html


def test_the_portal_before_the_card_is_issued(firm_a):
    from tests.worksites.factories import WorksiteFactory

    with tenant_context(firm_a):
        token = portal_link_token(portal_link_create(worksite=WorksiteFactory()))
    html = (
        Client(HTTP_ACCEPT_LANGUAGE="en")
        .get(reverse("aftercare_portal:repairs", args=[token]), {"lang": "en"})
        .content.decode()
    )
    assert "Your warranty card is issued once the home is handed over" in html


# The API -------------------------------------------------------------------------------------------------------


@pytest.fixture
def api(client, partner):
    client.defaults.update(partner.headers, HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_the_api_lists_and_reads_cards(api, firm_a, issued):
    with tenant_context(firm_a):
        other = WarrantyCardFactory()
        today = firm_today()
    listed = api.get(reverse("warranty-card-list")).json()["results"]
    assert {row["id"] for row in listed} == {issued.pk, other.pk}
    only = api.get(reverse("warranty-card-list"), {"project": issued.project_id}).json()["results"]
    assert [row["id"] for row in only] == [issued.pk]
    body = api.get(reverse("warranty-card-detail", args=[issued.pk])).json()
    assert (body["number"], body["project"], body["customer"], body["service_phone"]) == (
        issued.number,
        issued.project_id,
        issued.customer_id,
        "400-820-1234",
    )
    assert [(c["name"], c["ends_on"]) for c in body["coverages"]] == [
        ("General works", (today + timedelta(days=730)).isoformat()),
        ("Bathroom waterproofing", (today + timedelta(days=1826)).isoformat()),
    ]
    # The partner key holds contacts:read: the address in full, recorded as a reveal of the property's.
    assert body["address"] == "上海市徐汇区漕溪北路88弄3号1201室"
    with tenant_context(firm_a):
        assert ContactReveal.objects.filter(
            record_type="leads.property", record_id=str(issued.project.property_id), field="address"
        ).exists()


def test_a_key_without_contacts_reads_the_address_masked(client, firm_a, issued):
    from tests.factories import ApiKeyFactory

    with tenant_context(firm_a):
        key = ApiKeyFactory(scopes=["aftercare:read"])
    response = client.get(
        reverse("warranty-card-detail", args=[issued.pk]), HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}"
    )
    assert response.json()["address"] == "上海市徐汇区****"


def test_the_api_is_read_only_and_another_firms_card_is_not_found(api, firm_b, issued):
    with tenant_context(firm_b):
        theirs = WarrantyCardFactory()
    assert api.get(reverse("warranty-card-detail", args=[theirs.pk])).status_code == 404
    assert theirs.pk not in {row["id"] for row in api.get(reverse("warranty-card-list")).json()["results"]}
    assert api.post(reverse("warranty-card-list"), {}, content_type="application/json").status_code == 405
    assert (
        api.patch(reverse("warranty-card-detail", args=[issued.pk]), {}, content_type="application/json").status_code
        == 405
    )


def test_the_list_does_not_grow_in_queries_with_cards(api, firm_a):
    with tenant_context(firm_a):
        WarrantyCardFactory()

    def count():
        api.get(reverse("warranty-card-list"))  # warms the per-process caches
        with CaptureQueriesContext(connection) as queries:
            assert api.get(reverse("warranty-card-list")).status_code == 200
        return len(queries)

    few = count()
    with tenant_context(firm_a):
        for _ in range(4):
            card = WarrantyCardFactory()
            CoverageFactory(project=card.project)
    assert count() == few

"""The firm admin's contract settings page: the defaults before anything is saved, a save that every later
contract, quotation version and reminder sweep uses, every refusal at once (the split that does not add up
to 100 named as one error), admins only, and another firm's settings never touched."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.test import Client
from django.urls import NoReverseMatch, reverse

from contracts.models import ContractSettings
from contracts.services import quotations, reminders
from contracts.services import settings as settings_services
from contracts.services.signing import default_instalments
from contracts.settings_forms import ContractSettingsForm
from renocrm.audit.models import AuditEvent
from renocrm.outbox.models import Notification
from renocrm.tenancy.context import tenant_context
from tests.contracts.factories import ContractFactory, ContractSettingsFactory, InstalmentFactory
from tests.factories import MembershipFactory, UserFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.usefixtures("english")

URL = "/contracts/settings/"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULTS = {name: ContractSettings._meta.get_field(name).default for name in settings_services.SETTINGS_FIELDS}


def member(firm, role="admin"):
    user = UserFactory()
    MembershipFactory(tenant=firm, role=role, user=user)
    return user


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def posted(firm, **changes) -> dict:
    """What the page posts: every setting (at its default unless changed) and the firm it was rendered for."""
    return {**{name: str(value) for name, value in DEFAULTS.items()}, **changes, "_firm": firm.pk}


def test_the_form_and_the_service_name_the_same_settings():
    assert set(ContractSettingsForm.base_fields) == set(settings_services.SETTINGS_FIELDS)
    in_sections = [name for *_, names in ContractSettingsForm.SECTIONS for name in names]
    assert sorted(in_sections) == sorted(settings_services.SETTINGS_FIELDS)


def test_the_admin_sees_the_defaults_before_any_row_exists(firm_a):
    admin = signed_in(member(firm_a))
    assert reverse("contracts:settings") == URL
    response = admin.get(URL)
    assert response.status_code == 200
    form = response.context["form"]
    assert {name: form[name].value() for name in DEFAULTS} == DEFAULTS
    page = response.content.decode()
    for key in ("payments", "change-orders", "quotations", "reminders"):
        assert f'data-testid="section-{key}"' in page
    assert 'name="_firm"' in page
    with tenant_context(firm_a):
        assert not ContractSettings.objects.exists()  # reading writes nothing
    # The settings hub leads here; the payment reminders page it replaces is gone.
    hub = admin.get(reverse("tenancy:settings")).content.decode()
    assert URL in hub and "Contract settings" in hub
    with pytest.raises(NoReverseMatch):
        reverse("dashboard:payment-reminder-settings")
    assert admin.get("/settings/payment-reminders/").status_code == 404


def test_a_save_is_used_by_new_contracts_quotations_and_reminders(firm_a):
    user = member(firm_a)
    admin = signed_in(user)
    data = posted(
        firm_a,
        deposit_percent="20",
        midterm_percent="70.5",
        final_percent="9.5",
        final_due_days="5",
        change_order_threshold_percent="15",
        change_order_approval_percent="8",
        management_fee_percent="6.5",
        tax_percent="3",
        discount_approval_percent="12",
        measurement_reminder_days_before="2",
        payment_reminder_days_before="7",
    )
    response = admin.post(URL, data)
    assert response.status_code == 302 and response.url == URL
    with tenant_context(firm_a):
        saved = ContractSettings.objects.get()
        assert (saved.deposit_percent, saved.midterm_percent, saved.final_percent) == (
            Decimal("20"),
            Decimal("70.5"),
            Decimal("9.5"),
        )
        assert (saved.final_due_days, saved.change_order_threshold_percent) == (5, Decimal("15"))
        assert (saved.change_order_approval_percent, saved.discount_approval_percent) == (Decimal("8"), Decimal("12"))
        assert (saved.measurement_reminder_days_before, saved.payment_reminder_days_before) == (2, 7)
        # In the audit trail, by the admin (the table's trigger).
        events = AuditEvent.objects.filter(table_name=ContractSettings._meta.db_table, row_id=str(saved.pk))
        assert events.exists() and {event.actor_id for event in events} == {user.pk}
        # A new quotation version starts with the new management fee and tax.
        version = quotations.quotation_create(lead=LeadFactory(), title="三居室").versions.get()
        assert (version.management_fee_percent, version.tax_percent) == (Decimal("6.5"), Decimal("3"))
        # A new contract's default schedule follows the split and the final payment's days.
        schedule = default_instalments(amount=Decimal("100000.00"), signed_on=date(2026, 6, 1))
        assert [item["amount"] for item in schedule] == [Decimal("20000.00"), Decimal("70500.00"), Decimal("9500.00")]
        assert schedule[2]["due_days_after_trigger"] == 5
        # The reminder sweep reads the days: an instalment due in 7 days is reminded of, not one due in 8.
        contract = ContractFactory(project__lead__customer__mobile="13912345678")
        in_seven = InstalmentFactory(contract=contract, amount=Decimal("100.00"), due_on=date(2026, 6, 8))
        InstalmentFactory(contract=contract, amount=Decimal("100.00"), due_on=date(2026, 6, 9))
        assert reminders.payment_reminder_days() == 7
        with time_machine.travel(datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI).astimezone(UTC), tick=False):
            assert reminders.payment_reminders_send() == 1
        texts = Notification.objects.filter(idempotency_key__startswith="payment-reminder:")
        assert [text.idempotency_key for text in texts] == [reminders.reminder_key(in_seven)]
    shown = admin.get(URL).context["form"]
    assert shown["payment_reminder_days_before"].value() == 7
    assert shown["management_fee_percent"].value() == Decimal("6.5")


def test_a_split_not_adding_up_to_100_is_refused_with_every_other_mistake_and_nothing_saved(firm_a):
    admin = signed_in(member(firm_a))
    data = posted(
        firm_a,
        deposit_percent="30",
        midterm_percent="60",
        final_percent="20",
        tax_percent="150",
        payment_reminder_days_before="61",
        measurement_reminder_days_before="-1",
    )
    response = admin.post(URL, data)
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {
        NON_FIELD_ERRORS,
        "tax_percent",
        "payment_reminder_days_before",
        "measurement_reminder_days_before",
    }
    [split] = form.non_field_errors()
    assert split == (
        "The deposit (30 %), mid-term payment (60 %) and final payment (20 %) add up to 110 %; they must add up "
        "to 100 %."
    )
    assert split in response.content.decode()
    with tenant_context(firm_a):
        assert not ContractSettings.objects.exists()
    # A row already saved keeps its values.
    with tenant_context(firm_a):
        ContractSettingsFactory(payment_reminder_days_before=5)
    assert admin.post(URL, posted(firm_a, final_percent="5", payment_reminder_days_before="9")).status_code == 200
    with tenant_context(firm_a):
        assert ContractSettings.objects.get().payment_reminder_days_before == 5


def test_the_service_refuses_everything_at_once(firm_a):
    with tenant_context(firm_a):
        with pytest.raises(ValidationError) as refused:
            settings_services.contract_settings_update(
                deposit_percent=Decimal("150"),
                midterm_percent=Decimal("0"),
                final_percent=Decimal("0"),
                final_due_days=91,
                measurement_reminder_days_before=31,
                discount_approval_percent=Decimal("-1"),
            )
        errors = refused.value.message_dict
        # The split is not checked while one of its shares is itself wrong.
        assert set(errors) == {
            "deposit_percent",
            "final_due_days",
            "measurement_reminder_days_before",
            "discount_approval_percent",
        }
        assert not ContractSettings.objects.exists()
        with pytest.raises(ValidationError) as refused:
            settings_services.contract_settings_update(final_percent=Decimal("20"))  # 30 + 60 + 20
        assert set(refused.value.message_dict) == {NON_FIELD_ERRORS}
        with pytest.raises(TypeError):
            settings_services.contract_settings_update(tenant=firm_a)
        saved = settings_services.contract_settings_update(deposit_percent=Decimal("40"), midterm_percent=Decimal("50"))
        assert (saved.deposit_percent, saved.final_percent, saved.tax_percent) == (
            Decimal("40"),
            Decimal("10"),
            Decimal("0"),
        )
        assert ContractSettings.objects.count() == 1


@pytest.mark.parametrize("role", ["sales", "designer", "finance", "project_manager"])
def test_a_member_who_is_not_an_admin_gets_403(firm_a, role):
    client = signed_in(member(firm_a, role))
    assert client.get(URL).status_code == 403
    assert client.post(URL, posted(firm_a, payment_reminder_days_before="9")).status_code == 403
    with tenant_context(firm_a):
        assert not ContractSettings.objects.exists()


def test_another_firms_settings_are_untouched(firm_a, firm_b):
    with tenant_context(firm_b):
        theirs = ContractSettingsFactory(tax_percent=Decimal("6"), payment_reminder_days_before=10)
    admin_a, admin_b = signed_in(member(firm_a)), signed_in(member(firm_b))
    # Firm A starts from the defaults, not firm B's row.
    assert admin_a.get(URL).context["form"]["tax_percent"].value() == Decimal("0")
    data = posted(firm_a, tax_percent="9", payment_reminder_days_before="1", tenant=firm_b.pk)
    assert admin_a.post(URL, data).status_code == 302
    # A form rendered for firm B cannot post into firm A's session.
    assert admin_a.post(URL, {**data, "_firm": firm_b.pk}).status_code == 409
    with tenant_context(firm_b):
        unchanged = ContractSettings.objects.get()
        assert (unchanged.pk, unchanged.tax_percent, unchanged.payment_reminder_days_before) == (
            theirs.pk,
            Decimal("6"),
            10,
        )
    with tenant_context(firm_a):
        ours = ContractSettings.objects.get()
        assert ours.pk != theirs.pk and (ours.tax_percent, ours.payment_reminder_days_before) == (Decimal("9"), 1)
    assert admin_b.get(URL).context["form"]["tax_percent"].value() == Decimal("6")

"""The lost-lead retention rule, run by the beat: lost leads past the firm's retention are anonymised and their
customer erased when nothing else of theirs is kept; each firm's own setting applies; a second run changes
nothing."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from leads.models import Customer, FollowUp, Lead
from leads.services.privacy import lost_leads_anonymise
from leads.tasks import sweep_lost_lead_retention
from renocrm.audit.models import AuditEvent
from renocrm.privacy.models import DataRequest, PrivacySettings
from renocrm.privacy.services import privacy_settings_update
from renocrm.tenancy.context import tenant_context
from tests.complaints.factories import ComplaintFactory
from tests.contracts.factories import ProjectFactory
from tests.leads.factories import CustomerFactory, FollowUpFactory, LeadFactory
from tests.privacy.factories import PrivacySettingsFactory


def lost_lead(days_ago: int, **customer):
    """A lost lead last changed ``days_ago`` days ago, with the homeowner's needs and a follow-up."""
    lead = LeadFactory(
        customer=CustomerFactory(**customer),
        status=Lead.Status.LOST,
        lost_reason="Went with another firm",
        household="Couple and a baby",
        core_needs="Open kitchen",
    )
    FollowUpFactory(lead=lead, outcome="Not interested any more")
    Lead.objects.filter(pk=lead.pk).update(updated_at=timezone.now() - timedelta(days=days_ago))
    return lead


def test_a_lead_lost_731_days_ago_is_anonymised_and_one_lost_729_days_ago_is_not(firm_a, in_firm):
    with in_firm(firm_a):
        old, recent = lost_lead(731, name="王大伟", mobile="13811112222"), lost_lead(729)
        assert lost_leads_anonymise() == 1
        old.refresh_from_db()
        recent.refresh_from_db()
        assert old.anonymised_at is not None and (old.household, old.core_needs) == ("", "")
        assert old.lost_reason == "Went with another firm"  # the firm's own figure of why leads are lost
        assert FollowUp.objects.get(lead=old).outcome == "[erased]"
        assert recent.anonymised_at is None and recent.core_needs == "Open kitchen"
        # Nothing else of theirs is kept: the customer is erased too, and the trail keeps no mobile.
        customer = Customer.objects.get(pk=old.customer_id)
        assert customer.anonymised_at is not None and customer.mobile == f"0{customer.pk:010d}"
        assert Customer.objects.get(pk=recent.customer_id).anonymised_at is None
        assert not AuditEvent.objects.filter(changes__icontains="13811112222").exists()
        request = DataRequest.objects.get()
        assert (request.kind, request.subject_id, request.requested_by) == ("erasure", str(customer.pk), None)


def test_running_twice_changes_nothing(firm_a, in_firm):
    with in_firm(firm_a):
        lost_lead(800)
        assert lost_leads_anonymise() == 1
        events, requests = AuditEvent.objects.count(), DataRequest.objects.count()
        assert lost_leads_anonymise() == 0
        assert (AuditEvent.objects.count(), DataRequest.objects.count()) == (events, requests)


def test_a_customer_still_in_use_is_kept(firm_a, in_firm):
    with in_firm(firm_a):
        with_open_lead = lost_lead(800)
        LeadFactory(customer=with_open_lead.customer)  # they came back with a new inquiry
        with_project = lost_lead(800)
        ProjectFactory(lead=LeadFactory(customer=with_project.customer), customer=with_project.customer)
        with_complaint = lost_lead(800)
        ComplaintFactory(project=None, customer=with_complaint.customer)
        assert lost_leads_anonymise() == 3
        for lead in (with_open_lead, with_project, with_complaint):
            assert Customer.objects.get(pk=lead.customer_id).anonymised_at is None
            assert Lead.objects.get(pk=lead.pk).anonymised_at is not None


def test_batches_take_the_oldest_first(firm_a, in_firm):
    with in_firm(firm_a):
        leads = [lost_lead(900 - n) for n in range(3)]
        assert lost_leads_anonymise(batch=2) == 2
        assert [Lead.objects.get(pk=lead.pk).anonymised_at is not None for lead in leads] == [True, True, False]
        assert lost_leads_anonymise(batch=2) == 1


def test_the_beat_applies_each_firms_own_setting(firm_a, firm_b):
    with tenant_context(firm_a):
        a_lead = lost_lead(400)
    with tenant_context(firm_b):
        PrivacySettingsFactory(lost_lead_retention_days=365)
        b_lead = lost_lead(400)
    sweep_lost_lead_retention.delay()  # eager in tests: fans out per firm
    with tenant_context(firm_a):
        assert Lead.objects.get(pk=a_lead.pk).anonymised_at is None  # firm A keeps lost leads 730 days
    with tenant_context(firm_b):
        assert Lead.objects.get(pk=b_lead.pk).anonymised_at is not None


@pytest.mark.parametrize("leads", [2, 6])
def test_the_sweep_runs_a_fixed_number_of_queries_per_lead_batch(firm_a, in_firm, leads, django_assert_max_num_queries):
    """Leads are anonymised set-based: the queries grow with customers erased, not with follow-ups or leads
    kept. (Every customer here keeps another open lead, so no customer is erased.) Three of them are the
    sweep's own: reading its recorded failures, and the batch's savepoint."""
    with in_firm(firm_a):
        for _ in range(leads):
            lead = lost_lead(800)
            LeadFactory(customer=lead.customer)
            FollowUpFactory(lead=lead)
        with django_assert_max_num_queries(15):
            assert lost_leads_anonymise() == leads


def test_the_service_refuses_less_than_30_days_and_keeps_the_rule(firm_a, in_firm):
    with in_firm(firm_a):
        privacy_settings_update(lost_lead_retention_days=400)
        with pytest.raises(ValidationError) as refused:
            privacy_settings_update(lost_lead_retention_days=29)
        assert list(refused.value.message_dict) == ["lost_lead_retention_days"]
        assert PrivacySettings.objects.get().lost_lead_retention_days == 400
        assert privacy_settings_update(lost_lead_retention_days=30).lost_lead_retention_days == 30

"""Staff pages of aftercare: the repair list, a repair with its log and actions, a new repair, a project's
aftercare page (coverages, warranty card, repairs, care, referral rewards), a warranty card to print, the
coverage rules, the settings, the referral rewards and the coverages ending soon."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aftercare import selectors
from aftercare.forms import (
    NO,
    OPEN_ALL,
    YES,
    AssignForm,
    CancelForm,
    ConfirmForm,
    CoverageForm,
    CoverageRuleFormSet,
    ExpiringFilterForm,
    OptOutForm,
    PortalConfirmForm,
    PortalRepairForm,
    ReferralRewardFilterForm,
    RepairFilterForm,
    RepairRequestForm,
    ResolveForm,
    RespondForm,
    SettingsForm,
    TriageForm,
    VisitForm,
)
from aftercare.models import Coverage, RepairRequest, WarrantyCard
from aftercare.services import cards as card_services
from aftercare.services import care as care_services
from aftercare.services import coverage as coverage_services
from aftercare.services import policy as policy_services
from aftercare.services import portal as portal_services
from aftercare.services import repairs as repair_services
from contracts.models import Project
from leads.models import Customer, ReferralReward
from leads.services.referrals import referral_reward_fulfil
from renocrm.accounts.access import permission_required
from renocrm.forms import page_action, submit
from renocrm.paging import before_param
from renocrm.privacy.masking import mask_address, may_see_contacts
from renocrm.tenancy.time import firm_today
from worksites.views.portal import (
    homeowner_name,
    portal_client,
    portal_object,
    portal_page,
    portal_render,
    remember_homeowner,
)

VIEW, MANAGE = "aftercare.view", "aftercare.manage"


def _may_manage(request) -> bool:
    return request.membership.has_perm(MANAGE)


# Repairs -----------------------------------------------------------------------------------------------------


@permission_required(VIEW)
def repair_list(request):
    form = RepairFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    status = filters.get("status", "")
    covered = {YES: True, NO: False}.get(filters.get("covered", ""))
    assigned = filters.get("assigned", "")
    repairs, older = selectors.repair_request_page(
        statuses=RepairRequest.OPEN_STATUSES if status == OPEN_ALL else (status,) if status else (),
        covered=covered,
        assigned_to=request.user if assigned == "me" else None,
        unassigned=assigned == "none",
        overdue=bool(filters.get("overdue")),
        search=filters.get("q", ""),
        before=before_param(request),
        full_contacts=may_see_contacts(request),
    )
    context = {
        "form": form,
        "repairs": repairs,
        "older": older,
        "now": timezone.now(),
        "may_manage": _may_manage(request),
    }
    return render(request, "aftercare/repair_list.html", context)


@permission_required(MANAGE)
def repair_create(request):
    project_id = request.GET.get("project", "")
    initial = {"project": int(project_id)} if project_id.isdigit() else {}
    form = RepairRequestForm(request.POST or None, request.FILES or None, initial=initial)

    def save(data):
        return repair_services.repair_request_open(
            project=data["project"],
            area=data["area"],
            trade=data["trade"],
            category=data["category"],
            description=data["description"],
            source=data["source"],
            created_by=request.user,
            photos=data["photos"],
        )

    if repair := submit(request, form, save):
        if repair.is_covered:
            messages.success(request, _("Repair #%(number)s recorded, under warranty.") % {"number": repair.pk})
        else:
            messages.warning(
                request, _("Repair #%(number)s recorded — out of warranty, chargeable.") % {"number": repair.pk}
            )
        return redirect("aftercare:repair", pk=repair.pk)
    return render(request, "aftercare/repair_form.html", {"form": form})


@permission_required(VIEW)
def repair_detail(request, pk):
    try:
        repair = selectors.repair_request_detail(pk=pk)
    except RepairRequest.DoesNotExist:
        raise Http404 from None
    is_open = repair.status in RepairRequest.OPEN_STATUSES
    context = {
        "repair": repair,
        "may_manage": _may_manage(request),
        "is_open": is_open,
        "now": timezone.now(),
        "triage_form": TriageForm(initial={"trade": repair.trade, "category": repair.category}),
        "assign_form": AssignForm(initial={"agent": repair.assigned_to_id}),
        "respond_form": RespondForm(),
        "visit_form": VisitForm(),
        "resolve_form": ResolveForm(),
        "confirm_form": ConfirmForm(),
        "cancel_form": CancelForm(),
    }
    return render(request, "aftercare/repair_detail.html", context)


def _triaged(repair) -> str:
    return _("Trade saved. %(decision)s.") % {"decision": repair.coverage_explanation}


# Each action on a repair's page: its form, the service call it makes from the form's data, what it says.
REPAIR_ACTIONS = {
    "triage": (
        TriageForm,
        lambda repair, user, d: repair_services.repair_request_triage(
            repair=repair, trade=d["trade"], category=d["category"], by=user
        ),
        _triaged,
    ),
    "assign": (
        AssignForm,
        lambda repair, user, d: repair_services.repair_request_assign(repair=repair, agent=d["agent"], by=user),
        gettext_lazy("Assignment saved."),
    ),
    "respond": (
        RespondForm,
        lambda repair, user, d: repair_services.repair_request_respond(repair=repair, note=d["note"], by=user),
        gettext_lazy("Response recorded."),
    ),
    "visit": (
        VisitForm,
        lambda repair, user, d: repair_services.repair_visit_log(
            repair=repair, kind=d["kind"], note=d["note"], by=user
        ),
        gettext_lazy("Log entry added."),
    ),
    "resolve": (
        ResolveForm,
        lambda repair, user, d: repair_services.repair_request_resolve(
            repair=repair, resolution=d["resolution"], charge=d["charge"], by=user
        ),
        gettext_lazy("Repair resolved; ask the homeowner to confirm."),
    ),
    "confirm": (
        ConfirmForm,
        lambda repair, user, d: repair_services.repair_request_confirm(
            repair=repair, satisfied=d["satisfied"] == YES, comment=d["comment"], by=user
        ),
        gettext_lazy("The homeowner's answer is recorded."),
    ),
    "cancel": (
        CancelForm,
        lambda repair, user, d: repair_services.repair_request_cancel(repair=repair, reason=d["reason"], by=user),
        gettext_lazy("Repair cancelled."),
    ),
}


@require_POST
@permission_required(MANAGE)
def repair_action(request, pk, action):
    """One action from the repair's page; back to the page, a refusal as a message."""
    repair = get_object_or_404(RepairRequest, pk=pk)
    form_class, run, done = REPAIR_ACTIONS[action]
    return page_action(
        request,
        lambda data: run(repair, request.user, data),
        form=form_class(request.POST),
        done=done,
        back=reverse("aftercare:repair", args=[repair.pk]),
    )


# A project's aftercare ---------------------------------------------------------------------------------------


@permission_required(VIEW)
def project_aftercare(request, pk):
    project = get_object_or_404(Project.objects.select_related("customer"), pk=pk)
    page = selectors.project_aftercare(project=project)
    context = {"project": project, "page": page, "may_manage": _may_manage(request), "opt_out_form": OptOutForm()}
    return render(request, "aftercare/project.html", context)


@permission_required(VIEW)
def warranty_card(request, pk):
    """A warranty card to print (A4) and hand over, or read on a phone."""
    try:
        page = selectors.warranty_card_detail(pk=pk)
    except WarrantyCard.DoesNotExist:
        raise Http404 from None
    return render(request, "aftercare/warranty_card.html", {"card": page.card, "coverages": page.coverages})


@require_POST
@permission_required(MANAGE)
def warranty_card_issue(request, pk):
    """For a project handed over and paid in full before cards were issued; the refusal names what is missing."""
    project = get_object_or_404(Project, pk=pk)
    back = reverse("aftercare:project", args=[project.pk])

    def done(card):
        return _("Warranty card %(number)s issued.") % {"number": card.number}

    return page_action(
        request,
        lambda: card_services.warranty_card_issue(project=project),
        done=done,
        about=_("No warranty card"),
        back=back,
    )


@permission_required(MANAGE)
def coverage_create(request, pk):
    project = get_object_or_404(Project, pk=pk)
    start = project.handed_over_on or firm_today()
    form = CoverageForm(request.POST or None, initial={"starts_on": start})
    if submit(request, form, lambda data: coverage_services.coverage_create(project=project, **data)):
        messages.success(request, _("Coverage added."))
        return redirect("aftercare:project", pk=project.pk)
    context = {
        "form": form,
        "title": _("Add a coverage — %(project)s") % {"project": project.name},
        "back_url": reverse("aftercare:project", args=[project.pk]),
        "back_label": _("Back to the project"),
        "cancel_url": reverse("aftercare:project", args=[project.pk]),
    }
    return render(request, "form_page.html", context)


@permission_required(MANAGE)
def coverage_edit(request, pk):
    coverage = get_object_or_404(Coverage.objects.select_related("project"), pk=pk)
    initial = {f: getattr(coverage, f) for f in ("name", "area", "trade", "starts_on", "ends_on", "notes")}
    form = CoverageForm(request.POST or None, initial=initial)
    if submit(request, form, lambda data: coverage_services.coverage_update(coverage=coverage, **data)):
        messages.success(request, _("Coverage saved."))
        return redirect("aftercare:project", pk=coverage.project_id)
    context = {
        "form": form,
        "title": _("Edit coverage — %(coverage)s") % {"coverage": coverage.name},
        "back_url": reverse("aftercare:project", args=[coverage.project_id]),
        "back_label": _("Back to the project"),
        "cancel_url": reverse("aftercare:project", args=[coverage.project_id]),
    }
    return render(request, "form_page.html", context)


def _back_to_customer(request) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/aftercare/") else reverse("aftercare:list")


@require_POST
@permission_required(MANAGE)
def care_opt_out(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    form = OptOutForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return page_action(
        request,
        lambda: care_services.care_opt_out_record(customer=customer, reason=reason),
        done=_("%(name)s gets no more greetings or offers.") % {"name": customer.name},
        back=_back_to_customer(request),
    )


@require_POST
@permission_required(MANAGE)
def care_opt_in(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    return page_action(
        request,
        lambda: care_services.care_opt_out_undo(customer=customer),
        done=_("%(name)s gets greetings and offers again.") % {"name": customer.name},
        back=_back_to_customer(request),
    )


# The firm's policy and settings ------------------------------------------------------------------------------


@permission_required(VIEW, to_post=MANAGE)
def coverage_rules(request):
    rules = policy_services.coverage_rules_get()
    initial = [
        {
            "id": r.pk,
            "name": r.name,
            "area": r.area,
            "trade": r.trade,
            "keywords": r.keywords,
            "months": r.months,
            "is_active": r.is_active,
        }
        for r in rules
    ]
    formset = CoverageRuleFormSet(request.POST or None, initial=initial, prefix="rules")
    if submit(request, formset, lambda _rows: policy_services.coverage_rules_save(rows=formset.rows())):
        messages.success(request, _("The warranty policy is saved; handovers from now on use it."))
        return redirect("aftercare:rules")
    return render(request, "aftercare/rules.html", {"formset": formset, "may_manage": _may_manage(request)})


@permission_required(VIEW, to_post=MANAGE)
def aftercare_settings(request):
    current = policy_services.aftercare_settings_get()
    initial = {
        "repair_response_hours": current.repair_response_hours,
        "repair_on_site_hours": current.repair_on_site_hours,
        "warranty_reminder_days": ", ".join(str(d) for d in current.warranty_reminder_days),
        "birthday_greetings": current.birthday_greetings,
        "holiday_greetings": current.holiday_greetings,
        "free_inspection_offer_days": current.free_inspection_offer_days,
    }
    form = SettingsForm(request.POST or None, initial=initial)
    if submit(request, form, lambda data: policy_services.aftercare_settings_update(**data)):
        messages.success(request, _("Aftercare settings saved."))
        return redirect("aftercare:settings")
    context = {"form": form, "may_manage": _may_manage(request)}
    return render(request, "aftercare/settings.html", context)


# Referral rewards and expiring coverages ---------------------------------------------------------------------


@permission_required(VIEW)
def referral_rewards(request):
    form = ReferralRewardFilterForm(request.GET or None)
    status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    rewards, older = selectors.referral_reward_page(status=status, before=before_param(request))
    context = {"form": form, "rewards": rewards, "older": older, "may_manage": _may_manage(request)}
    return render(request, "aftercare/referral_rewards.html", context)


@require_POST
@permission_required(MANAGE)
def referral_reward_fulfilled(request, pk):
    reward = get_object_or_404(ReferralReward.objects.select_related("referrer"), pk=pk)
    target = request.POST.get("next", "")
    return page_action(
        request,
        lambda: referral_reward_fulfil(reward=reward),
        done=_("Reward for %(name)s marked fulfilled.") % {"name": reward.referrer.name},
        back=target if target.startswith("/aftercare/") else reverse("aftercare:referral-rewards"),
    )


@permission_required(VIEW)
def coverages_expiring(request):
    form = ExpiringFilterForm(request.GET or None)
    within = (form.cleaned_data.get("within") if form.is_valid() else None) or 30
    today = firm_today()
    context = {
        "form": form,
        "within": within,
        "coverages": selectors.coverages_expiring_list(within_days=within, today=today),
        "count": selectors.coverages_expiring_count(within_days=within, today=today),
        "today": today,
    }
    return render(request, "aftercare/expiring.html", context)


# The homeowner portal ----------------------------------------------------------------------------------------


def _portal_repairs_page(request, link, form=None, status=200):
    project = link.worksite.project
    today = firm_today()
    card = selectors.project_warranty_card(project=project)
    context = {
        "card": card,
        # The link may be forwarded: the address only as far as the district, like everywhere outside the office.
        "card_address": mask_address(project.property.address) if card and project.property_id else "",
        "coverages": selectors.project_coverages(project=project, today=today),
        "repairs": selectors.project_repairs(project=project),
        "form": form or PortalRepairForm(initial={"name": homeowner_name(request, link)}),
        "name": homeowner_name(request, link),
        "today": today,
    }
    response = portal_render(request, link, "portal/aftercare_repairs.html", "repairs", **context)
    response.status_code = status
    return response


@portal_page("GET", "HEAD", "POST")
def portal_repairs(request, link):
    """The homeowner's repairs and warranty card, with the form to report a repair (photos straight from the
    phone's camera). A refused report comes back on the form with nothing stored."""
    if request.method != "POST":
        return _portal_repairs_page(request, link)
    form = PortalRepairForm(request.POST, request.FILES)

    def report(data):
        return portal_services.portal_repair_report(
            link=link,
            area=data["area"],
            trade=data["trade"],
            category=data["category"],
            description=data["description"],
            photos=data["photos"],
            name=data["name"],
            **portal_client(request),
        )

    if repair := submit(request, form, report):
        remember_homeowner(request, form.cleaned_data["name"])
        thanks = _("Thank you — your repair request #%(number)s is sent to our service team.")
        messages.success(request, thanks % {"number": repair.pk})
        return redirect(reverse("aftercare_portal:repairs", args=[link.token]) + f"#repair-{repair.pk}")
    return _portal_repairs_page(request, link, form=form, status=400)


@portal_page("POST")
def portal_repair_confirm(request, link):
    repair = portal_object(request, RepairRequest.objects.filter(project_id=link.worksite.project_id))
    form = PortalConfirmForm(request.POST)
    satisfied = form.data.get("satisfied") == YES
    done = (
        _("Thank you for confirming the repair.")
        if satisfied
        else _("We are sorry — the repair is reopened and our team will contact you.")
    )

    def confirm(data):
        portal_services.portal_repair_confirm(
            link=link, repair=repair, satisfied=satisfied, comment=data["comment"], **portal_client(request)
        )
        remember_homeowner(request, data["name"])

    back = reverse("aftercare_portal:repairs", args=[link.token]) + f"#repair-{repair.pk}"
    return page_action(request, confirm, form=form, done=done, back=back)

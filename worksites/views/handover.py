"""Staff pages for handover: the acceptance checklist worked through item by item on a phone, the
rectification items with their re-check, the handover documents, completion; the firm's checklist and
the firm-wide list of rectification items."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renocrm.accounts.access import permission_required
from renocrm.forms import page_action, submit
from renocrm.paging import before_param
from renocrm.tenancy.time import firm_today
from worksites.forms.handover import (
    FAIL,
    PASS,
    AcceptanceCheckForm,
    ChecklistRowFormSet,
    HandoverCompleteForm,
    HandoverDocumentForm,
    RecheckForm,
    RectificationFilterForm,
    RectificationItemForm,
    owner_queryset,
)
from worksites.models import AcceptanceItem, Handover, RectificationItem, Worksite
from worksites.selectors import handover as selectors
from worksites.services import handover as services

VIEW, MANAGE = "worksites.view", "worksites.manage"
DEFAULT_RECTIFICATION_DAYS = 7


def _at(worksite_id: int, anchor: str = "") -> dict:
    """``page_action``'s way back to the spot on the handover page where the user was. A refusal is also
    shown next to that spot (``at``), every reason on its own, so someone far down the checklist on a phone
    sees it without scrolling up."""
    url = reverse("worksites:handover", args=[worksite_id])
    refused = f"{url}?{urlencode({'at': anchor})}" if anchor else url
    return {
        "back": f"{url}#{anchor}" if anchor else url,
        "refused_back": f"{refused}#{anchor}" if anchor else url,
        "apart": True,
    }


def _refusals_at(request) -> dict:
    """Where the last refusal happened and its messages, for the page to repeat them in place."""
    at = request.GET.get("at", "")
    if not at:
        return {"refusals": []}
    refusals = [str(m) for m in messages.get_messages(request) if m.level == messages.ERROR]
    kind, _sep, pk = at.rpartition("-")
    if pk.isdigit() and kind in ("item", "rectification"):
        return {"refusals": refusals, f"refused_{kind}": int(pk)}
    return {"refusals": refusals, "refused_section": at}


@permission_required(VIEW)
def worksite_handover(request, pk):
    worksite = get_object_or_404(
        Worksite.objects.select_related("project__customer", "contract", "project_manager"), pk=pk
    )
    page = selectors.handover_page(worksite=worksite)
    today = firm_today()
    may_manage = request.membership.has_perm(MANAGE)
    is_open = page.handover is not None and page.handover.status == Handover.Status.IN_PROGRESS
    context = {
        "worksite": worksite,
        "page": page,
        "handover": page.handover,
        "today": today,
        "may_manage": may_manage,
        "may_act": may_manage and is_open,
        "staff": list(owner_queryset()) if may_manage and is_open else [],
        "default_deadline": today + timedelta(days=DEFAULT_RECTIFICATION_DAYS),
        "unchecked": [i for i in page.items if i.result == AcceptanceItem.Result.PENDING],
        "failed": [i for i in page.items if i.result == AcceptanceItem.Result.FAILED],
        "PASS": PASS,
        "FAIL": FAIL,
        **_refusals_at(request),
    }
    return render(request, "worksites/handover.html", context)


@require_POST
@permission_required(MANAGE)
def handover_start(request, pk):
    worksite = get_object_or_404(Worksite, pk=pk)
    return page_action(
        request, lambda: services.handover_start(worksite=worksite, started_by=request.user), **_at(worksite.pk)
    )


@require_POST
@permission_required(MANAGE)
def acceptance_item_check(request, pk):
    item = get_object_or_404(AcceptanceItem.objects.select_related("handover"), pk=pk)
    form = AcceptanceCheckForm(request.POST)
    return page_action(
        request,
        lambda data: services.acceptance_item_check(
            item=item,
            passed=data["result"] == PASS,
            checked_by=request.user,
            note=data["note"],
            rectification=form.rectification(),
        ),
        form=form,
        about=item.item,
        **_at(item.handover.worksite_id, f"item-{item.pk}"),
    )


@require_POST
@permission_required(MANAGE)
def rectification_item_create(request, pk):
    handover = get_object_or_404(Handover, pk=pk)
    return page_action(
        request,
        lambda data: services.rectification_item_create(handover=handover, **data),
        form=RectificationItemForm(request.POST),
        done=_("Rectification item added."),
        **_at(handover.worksite_id, "rectification"),
    )


@require_POST
@permission_required(MANAGE)
def rectification_item_fixed(request, pk):
    item = get_object_or_404(RectificationItem.objects.select_related("handover"), pk=pk)
    return page_action(
        request,
        lambda: services.rectification_item_mark_fixed(item=item, by=request.user),
        about=str(item),
        **_at(item.handover.worksite_id, f"rectification-{item.pk}"),
    )


@require_POST
@permission_required(MANAGE)
def rectification_item_recheck(request, pk):
    item = get_object_or_404(RectificationItem.objects.select_related("handover"), pk=pk)
    return page_action(
        request,
        lambda data: services.rectification_item_recheck(
            item=item,
            passed=data["result"] == PASS,
            rechecked_by=request.user,
            note=data["note"],
            new_deadline=data["new_deadline"],
        ),
        form=RecheckForm(request.POST),
        about=str(item),
        **_at(item.handover.worksite_id, f"rectification-{item.pk}"),
    )


@require_POST
@permission_required(MANAGE)
def handover_document_add(request, pk):
    handover = get_object_or_404(Handover, pk=pk)
    return page_action(
        request,
        lambda data: services.handover_document_add(
            handover=handover,
            kind=data["kind"],
            upload=data["file"],
            uploaded_by=request.user,
            title=data["title"],
        ),
        form=HandoverDocumentForm(request.POST, request.FILES),
        done=lambda document: _("%(document)s uploaded.") % {"document": document.get_kind_display()},
        **_at(handover.worksite_id, "documents"),
    )


@require_POST
@permission_required(MANAGE)
def handover_complete(request, pk):
    handover = get_object_or_404(Handover, pk=pk)

    def complete(data):
        try:
            return services.handover_complete(handover=handover, completed_by=request.user, on=data["on"])
        except ValidationError as error:
            raise ValidationError([_("The worksite cannot be handed over yet."), *error.messages]) from error

    return page_action(
        request,
        complete,
        form=HandoverCompleteForm(request.POST),
        done=lambda done: _("Handed over on %(day)s.") % {"day": done.handed_over_on.isoformat()},
        **_at(handover.worksite_id, "complete"),
    )


@permission_required(VIEW, to_post="firm.manage")
def acceptance_template_edit(request):
    """The firm's acceptance checklist; editing needs the firm admin's permission."""
    may_edit = request.membership.has_perm("firm.manage")
    initial = [{"area": t.area, "item": t.item} for t in services.acceptance_template_get()]
    formset = ChecklistRowFormSet(request.POST or None, initial=initial, prefix="checks")
    if submit(request, formset, lambda _rows: services.acceptance_template_replace(rows=formset.rows())):
        messages.success(request, _("The checklist is saved; handovers started from now on use it."))
        return redirect("worksites:acceptance-template")
    return render(request, "worksites/acceptance_template.html", {"formset": formset, "may_edit": may_edit})


@permission_required(VIEW)
def rectification_item_list(request):
    form = RectificationFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    items, older = selectors.rectification_item_page(
        overdue=bool(filters.get("overdue")),
        owner=request.user if filters.get("mine") else None,
        status=filters.get("status", ""),
        before=before_param(request),
    )
    context = {"form": form, "items": items, "older": older, "today": firm_today()}
    return render(request, "worksites/rectification_list.html", context)

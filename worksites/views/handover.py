"""Staff pages for handover: the acceptance checklist worked through item by item on a phone, the
rectification items with their re-check, the handover documents, completion; the firm's checklist and
the firm-wide list of rectification items."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renocrm.accounts.access import permission_required
from renocrm.forms import submit
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


def _back(worksite_id: int, anchor: str = "", *, refused: bool = False):
    """Back to the handover page where the user was; a refusal is also shown next to that spot (``at``), so
    someone far down the checklist on a phone sees it without scrolling up."""
    url = reverse("worksites:handover", args=[worksite_id])
    if refused and anchor:
        url = f"{url}?{urlencode({'at': anchor})}"
    return redirect(f"{url}#{anchor}" if anchor else url)


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


def _refused(request, error: ValidationError, prefix: str = "") -> None:
    for message in error.messages:
        messages.error(request, f"{prefix}: {message}" if prefix else message)


def _form_refused(request, form, prefix: str = "") -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            text = f"{label}: {error}" if label else error
            messages.error(request, f"{prefix}: {text}" if prefix else text)


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
    services.handover_start(worksite=worksite, started_by=request.user)
    return _back(worksite.pk)


def _act(request, *, worksite_id: int, anchor: str, run, form=None, prefix: str = "", done=None):
    """Validate the form, run one service, go back to the spot on the page; a refusal becomes messages
    shown there too."""
    if form is not None and not form.is_valid():
        _form_refused(request, form, prefix)
        return _back(worksite_id, anchor, refused=True)
    try:
        result = run()
    except ValidationError as error:
        _refused(request, error, prefix)
        return _back(worksite_id, anchor, refused=True)
    if done is not None:
        messages.success(request, done(result))
    return _back(worksite_id, anchor)


@require_POST
@permission_required(MANAGE)
def acceptance_item_check(request, pk):
    item = get_object_or_404(AcceptanceItem.objects.select_related("handover"), pk=pk)
    form = AcceptanceCheckForm(request.POST)
    return _act(
        request,
        worksite_id=item.handover.worksite_id,
        anchor=f"item-{item.pk}",
        form=form,
        prefix=item.item,
        run=lambda: services.acceptance_item_check(
            item=item,
            passed=form.cleaned_data["result"] == PASS,
            checked_by=request.user,
            note=form.cleaned_data["note"],
            rectification=form.rectification(),
        ),
    )


@require_POST
@permission_required(MANAGE)
def rectification_item_create(request, pk):
    handover = get_object_or_404(Handover, pk=pk)
    form = RectificationItemForm(request.POST)
    return _act(
        request,
        worksite_id=handover.worksite_id,
        anchor="rectification",
        form=form,
        run=lambda: services.rectification_item_create(handover=handover, **form.cleaned_data),
        done=lambda item: _("Rectification item added."),
    )


@require_POST
@permission_required(MANAGE)
def rectification_item_fixed(request, pk):
    item = get_object_or_404(RectificationItem.objects.select_related("handover"), pk=pk)
    return _act(
        request,
        worksite_id=item.handover.worksite_id,
        anchor=f"rectification-{item.pk}",
        prefix=str(item),
        run=lambda: services.rectification_item_mark_fixed(item=item),
    )


@require_POST
@permission_required(MANAGE)
def rectification_item_recheck(request, pk):
    item = get_object_or_404(RectificationItem.objects.select_related("handover"), pk=pk)
    form = RecheckForm(request.POST)
    return _act(
        request,
        worksite_id=item.handover.worksite_id,
        anchor=f"rectification-{item.pk}",
        form=form,
        prefix=str(item),
        run=lambda: services.rectification_item_recheck(
            item=item,
            passed=form.cleaned_data["result"] == PASS,
            rechecked_by=request.user,
            note=form.cleaned_data["note"],
            new_deadline=form.cleaned_data["new_deadline"],
        ),
    )


@require_POST
@permission_required(MANAGE)
def handover_document_add(request, pk):
    handover = get_object_or_404(Handover, pk=pk)
    form = HandoverDocumentForm(request.POST, request.FILES)
    return _act(
        request,
        worksite_id=handover.worksite_id,
        anchor="documents",
        form=form,
        run=lambda: services.handover_document_add(
            handover=handover,
            kind=form.cleaned_data["kind"],
            upload=form.cleaned_data["file"],
            uploaded_by=request.user,
            title=form.cleaned_data["title"],
        ),
        done=lambda document: _("%(document)s uploaded.") % {"document": document.get_kind_display()},
    )


@require_POST
@permission_required(MANAGE)
def handover_complete(request, pk):
    handover = get_object_or_404(Handover, pk=pk)
    form = HandoverCompleteForm(request.POST)

    def complete():
        try:
            return services.handover_complete(handover=handover, completed_by=request.user, on=form.cleaned_data["on"])
        except ValidationError as error:
            raise ValidationError([_("The worksite cannot be handed over yet."), *error.messages]) from error

    return _act(
        request,
        worksite_id=handover.worksite_id,
        anchor="complete",
        form=form,
        run=complete,
        done=lambda done: _("Handed over on %(day)s.") % {"day": done.handed_over_on.isoformat()},
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


urlpatterns = [
    path("<int:pk>/handover/", worksite_handover, name="handover"),
    path("<int:pk>/handover/start/", handover_start, name="handover-start"),
    path("handovers/<int:pk>/complete/", handover_complete, name="handover-complete"),
    path("handovers/<int:pk>/documents/", handover_document_add, name="handover-document-add"),
    path("handovers/<int:pk>/rectification-items/", rectification_item_create, name="rectification-item-create"),
    path("acceptance-items/<int:pk>/check/", acceptance_item_check, name="acceptance-item-check"),
    path("rectification-items/", rectification_item_list, name="rectification-items"),
    path("rectification-items/<int:pk>/fixed/", rectification_item_fixed, name="rectification-item-fixed"),
    path("rectification-items/<int:pk>/recheck/", rectification_item_recheck, name="rectification-item-recheck"),
    path("acceptance-template/", acceptance_template_edit, name="acceptance-template"),
]

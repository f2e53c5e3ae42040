"""The staff pages: firm admins invite people, set their roles, deactivate and reactivate them; an invitee
accepts their invitation on a public page."""

from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from renocrm.forms import page_action, submit
from renocrm.tenancy.context import tenant_context

from . import open_work, selectors, services
from .access import permission_required
from .firms import SESSION_KEY
from .models import StaffChange, StaffInvitation
from .roles import Role
from .staff_forms import (
    AcceptInvitationForm,
    DeactivationForm,
    DutiesForm,
    InvitationForm,
    RolesForm,
    StaffSearchForm,
)

VIEW, MANAGE = "firm.view", "firm.manage"


def _member(pk):
    membership = selectors.staff_member(pk)
    if membership is None:
        raise Http404
    return membership


@permission_required(VIEW)
def staff_list(request):
    form = StaffSearchForm(request.GET or None)
    search = form.cleaned_data if form.is_valid() else {}
    members = selectors.staff_members(search=search.get("q", ""), status=search.get("status", ""))
    invitations = list(selectors.open_invitations())
    for invitation in invitations:
        invitation.expired = selectors.invitation_is_expired(invitation)
    context = {
        "form": form,
        "members": members,
        "invitations": invitations,
        "changes": selectors.staff_changes(),
        "may_manage": request.membership.has_perm(MANAGE),
    }
    return render(request, "accounts/staff/list.html", context)


@permission_required(MANAGE)
def staff_invite(request):
    form = InvitationForm(request.POST if request.method == "POST" else None)
    invitation = submit(request, form, lambda data: services.staff_invite(**data, by=request.user))
    if invitation:
        sent = {"name": invitation.name, "address": invitation.address}
        messages.success(request, _("Invitation sent to %(name)s (%(address)s).") % sent)
        return redirect("staff:list")
    context = {
        "form": form,
        "title": _("Invite a member of staff"),
        "back_url": reverse("staff:list"),
        "back_label": _("Staff"),
        "cancel_url": reverse("staff:list"),
    }
    return render(request, "form_page.html", context, status=400 if form.is_bound else 200)


@require_POST
@permission_required(MANAGE)
def invitation_resend(request, pk):
    invitation = get_object_or_404(StaffInvitation, pk=pk)
    return page_action(
        request,
        lambda: services.staff_invitation_resend(invitation=invitation, by=request.user),
        back=reverse("staff:list"),
        done=_("Invitation sent again to %(address)s.") % {"address": invitation.address},
    )


@require_POST
@permission_required(MANAGE)
def invitation_withdraw(request, pk):
    invitation = get_object_or_404(StaffInvitation, pk=pk)
    return page_action(
        request,
        lambda: services.staff_invitation_withdraw(invitation=invitation, by=request.user),
        back=reverse("staff:list"),
        done=_("Invitation to %(name)s withdrawn.") % {"name": invitation.name},
    )


def _member_page(request, membership, roles_form, *, status=200):
    context = {
        "member": membership,
        "roles_form": roles_form,
        "held": open_work.work_held_by(membership.user) if membership.is_active else [],
        "changes": selectors.staff_changes(member=membership.user),
        "may_manage": request.membership.has_perm(MANAGE),
    }
    return render(request, "accounts/staff/detail.html", context, status=status)


@permission_required(VIEW, to_post=MANAGE)
def staff_detail(request, pk):
    membership = _member(pk)
    form = RolesForm(request.POST if request.method == "POST" else None, initial={"roles": membership.roles})
    if request.method == "POST":
        return page_action(
            request,
            lambda data: services.staff_roles_set(membership=membership, roles=data["roles"], by=request.user),
            back=reverse("staff:detail", args=[membership.pk]),
            form=form,
            done=_("Roles saved; they apply from %(name)s's next page.") % {"name": membership.user},
            page=lambda bound: _member_page(request, membership, bound),
        )
    return _member_page(request, membership, form)


@permission_required(MANAGE)
def staff_deactivate(request, pk):
    """The preview of what the leaving member hands over and to whom; the POST does it in one step."""
    membership = _member(pk)
    if not membership.is_active:
        return redirect("staff:detail", pk=membership.pk)
    held = open_work.work_held_by(membership.user)
    form = DeactivationForm(request.POST if request.method == "POST" else None, held=held, leaving=membership.user)
    done = submit(
        request,
        form,
        lambda data: services.staff_deactivate(membership=membership, successors=form.successors(), by=request.user),
    )
    if done:
        messages.success(request, _("%(name)s has been deactivated.") % {"name": membership.user})
        return redirect("staff:detail", pk=membership.pk)
    context = {"member": membership, "held": held, "form": form}
    return render(request, "accounts/staff/deactivate.html", context, status=400 if form.is_bound else 200)


@require_POST
@permission_required(MANAGE)
def staff_reactivate(request, pk):
    membership = _member(pk)
    return page_action(
        request,
        lambda: services.staff_reactivate(membership=membership, by=request.user),
        back=reverse("staff:detail", args=[membership.pk]),
        done=_("%(name)s is active again.") % {"name": membership.user},
    )


@require_POST
@permission_required(MANAGE)
def staff_password_reset(request, pk):
    membership = _member(pk)
    return page_action(
        request,
        lambda: services.staff_password_reset_send(membership=membership, by=request.user),
        back=reverse("staff:detail", args=[membership.pk]),
        done=_("A link to set a new password has been sent to %(name)s.") % {"name": membership.user},
    )


INVITATION_PROBLEMS = {
    "invalid": gettext_lazy("This invitation link is not valid. Ask the firm to send it again."),
    "expired": gettext_lazy("This invitation has expired. Ask the firm to send it again."),
    "inactive": gettext_lazy("This firm's account is not active."),
    "used": gettext_lazy("This invitation has been used already. Sign in instead."),
    "withdrawn": gettext_lazy("This invitation has been withdrawn."),
}


def invitation_accept(request, token):
    """The invitee's page: set a password (or confirm an existing account's) and join the firm."""
    firm, invitation, problem = services.invitation_open(token)
    if problem:
        return render(request, "accounts/invitation.html", {"problem": INVITATION_PROBLEMS[problem]}, status=404)
    with tenant_context(firm):
        account = services.invitation_account(invitation)
        existing = account is not None
        form = AcceptInvitationForm(
            request.POST if request.method == "POST" else None,
            existing_account=existing,
            initial={"name": invitation.name},
        )

        def accept(data):
            # An existing account signs in as at the sign-in page, so django-axes counts wrong guesses.
            signed_in = None
            if existing:
                signed_in = authenticate(request, username=account.username, password=data["password"])
            return services.invitation_accept(
                invitation=invitation, password=data["password"], name=data.get("name", ""), signed_in=signed_in
            )

        user = submit(request, form, accept)
    if user:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_KEY] = firm.pk
        messages.success(request, _("Welcome to %(firm)s.") % {"firm": firm.name})
        return redirect("dashboard:home")
    context = {"form": form, "invitation": invitation, "firm": firm, "existing": existing}
    return render(request, "accounts/invitation.html", context, status=400 if form.is_bound else 200)


@permission_required(VIEW)
def staff_duties(request):
    """The firm's duty map: which roles record payments, approve discounts and change orders, re-check
    rectification items … A firm admin always holds each; only admins change it."""
    may_manage = request.membership.has_perm(MANAGE)
    if request.method == "POST" and not may_manage:
        raise PermissionDenied
    duties = services.firm_duties()
    form = DutiesForm(request.POST if request.method == "POST" else None, duties=duties)
    if submit(request, form, lambda data: services.firm_duties_set(duties=form.chosen(), by=request.user)):
        messages.success(request, _("Duties saved; they apply from each member's next page."))
        return redirect("staff:duties")
    context = {
        "form": form,
        "duties": [(label, [Role(role).label for role in holders]) for _duty, label, holders, _default in duties],
        "may_manage": may_manage,
        "changes": selectors.staff_changes(actions=[StaffChange.Action.DUTIES_CHANGED]),
    }
    return render(request, "accounts/staff/duties.html", context, status=400 if form.is_bound else 200)

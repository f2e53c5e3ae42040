"""The operator's reads across every firm. Firms, memberships and users are platform tables (no row-level
security), so these run outside any firm's scope by design; nothing here reads a firm's own tables."""

from __future__ import annotations

from django.db.models import Count, Exists, Max, OuterRef, Q

from renocrm.accounts.models import Membership
from renocrm.paging import keyset_page
from renocrm.tenancy.models import Tenant

from .models import FirmStatusChange

HISTORY_SIZE = 50


def firms_with_figures():
    """Firms with their member count and last activity (the latest sign-in of any member), members who
    left not counted, in one query whatever the number of firms."""
    current = Q(memberships__is_active=True)
    return Tenant.objects.annotate(
        member_count=Count("memberships", filter=current),
        last_activity=Max("memberships__user__last_login", filter=current),
    )


def firm_page(*, search: str = "", status: str = "", before: int | None = None):
    """One keyset page of firms, newest first: (firms, the key of the next older page or None).

    ``search`` matches the firm's name, short name or slug, or a member's username, e-mail or phone (the
    firm of whoever is on the line)."""
    firms = firms_with_figures()
    if status:
        firms = firms.filter(status=status)
    search = search.strip()
    if search:
        member = Membership.objects.filter(tenant=OuterRef("pk")).filter(
            Q(user__username__iexact=search) | Q(user__email__iexact=search) | Q(user__phone=search)
        )
        firms = firms.filter(
            Q(name__icontains=search) | Q(short_name__icontains=search) | Q(slug__icontains=search) | Exists(member)
        )
    return keyset_page(firms, before=before)


def firm_get(*, slug: str) -> Tenant | None:
    return firms_with_figures().filter(slug=slug).first()


def firm_members(*, firm: Tenant) -> list[Membership]:
    return list(Membership.objects.filter(tenant=firm).select_related("user").order_by("-is_active", "user__username"))


def firm_history(*, firm: Tenant) -> list[FirmStatusChange]:
    return list(firm.status_changes.select_related("changed_by").order_by("-changed_at", "-pk")[:HISTORY_SIZE])

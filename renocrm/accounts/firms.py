"""Which firm a signed-in user is working in: the firm switcher's choice, else their first firm."""

from renocrm.tenancy.middleware import Resolution

from .models import Membership

SESSION_KEY = "firm_id"


def memberships_of(user):
    return (
        Membership.objects.filter(user=user, is_active=True, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__name")
    )


def resolve_session_firm(request):
    user = getattr(request, "user", None)
    request.membership = None
    if user is None or not user.is_authenticated:
        return None
    memberships = memberships_of(user)
    chosen = request.session.get(SESSION_KEY)
    membership = (memberships.filter(tenant_id=chosen).first() if chosen else None) or memberships.first()
    if membership is None:
        return None
    request.membership = membership
    return Resolution(tenant=membership.tenant, user_id=user.pk)


def switch_firm(request, tenant_id) -> bool:
    """Switch the session to another of the user's firms; False if they are not a member of it."""
    membership = memberships_of(request.user).filter(tenant_id=tenant_id).first()
    if membership is None:
        return False
    request.session[SESSION_KEY] = membership.tenant_id
    return True

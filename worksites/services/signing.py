"""Signing for a party of an inspection or a material arrival: who may sign for which party, the one
sign-off routine, and the checks on a homeowner's portal link. Staff sign only for the party their role
holds and one person for one party; staff never sign for the homeowner, they record a paper signature with
its photo."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renocrm.accounts.roles import Role
from renocrm.accounts.staff import require_staff_role
from renocrm.tenancy.time import firm_now
from renocrm.uploads import IMAGE, PDF, clean_upload
from worksites.models import Inspection, PortalLink, Signoff, SignoffRole
from worksites.services.schedule import CREW_ROLES

# The staff roles that may sign for each party, the same that may hold the crew position (so a firm admin
# who runs a site can sign for it). The homeowner signs through the portal, or staff record the signature.
SIGNER_ROLES = {
    SignoffRole.QC_INSPECTOR: CREW_ROLES["qc_inspector"],
    SignoffRole.SITE_MANAGER: CREW_ROLES["project_manager"],
    SignoffRole.DESIGNER: CREW_ROLES["designer"],
}
ALL_STAFF = frozenset(Role)


def labels(roles) -> str:
    return ", ".join(str(SignoffRole(role).label) for role in roles)


def display_name(user) -> str:
    return (getattr(user, "name", "") or getattr(user, "username", "") or "").strip()


def check_portal_link(portal_link: PortalLink, worksite_id: int) -> None:
    if portal_link.worksite_id != worksite_id:
        raise ValidationError(_("This link does not open that worksite."))
    if not portal_link.is_usable:
        raise ValidationError(_("This link has expired or was withdrawn."))


def signer_name(*, role: str, signed_name: str, user, portal_link, worksite_id: int, paper_photo=None) -> str:
    """Check who signs for ``role`` and return the name to keep. Staff sign for a staff role in the app and
    must hold it; the homeowner signs through their portal link, or staff record their signature given
    on paper, with a photo of the signed page (``user`` is then who recorded it and ``signed_name`` the
    homeowner's name as they signed)."""
    if role not in SignoffRole.values:
        raise ValidationError({"role": _("Choose who signs.")})
    name = (signed_name or "").strip()
    if portal_link is not None:
        if user is not None or role != SignoffRole.HOMEOWNER:
            raise ValidationError({"role": _("Only the homeowner signs through the portal.")})
        check_portal_link(portal_link, worksite_id)
    elif user is not None:
        if role == SignoffRole.HOMEOWNER:
            # Staff never sign for the homeowner: they record a signature given on paper, with its photo.
            require_staff_role(user, roles=ALL_STAFF, field="role")
            if not paper_photo:
                raise ValidationError(
                    {
                        "paper_photo": _(
                            "Staff cannot sign for the homeowner. Record a signature given on paper with a photo "
                            "of the signed page, or let the homeowner sign through their link."
                        )
                    }
                )
        else:
            try:
                require_staff_role(user, roles=SIGNER_ROLES[role], field="role")
            except ValidationError:
                raise ValidationError(
                    {
                        "role": _("%(user)s may not sign as %(role)s: that needs the %(role)s role.")
                        % {"user": user, "role": SignoffRole(role).label}
                    }
                ) from None
            name = name or display_name(user)
    else:
        raise ValidationError(_("A signature is given by a staff member or through the homeowner's portal link."))
    if not name:
        raise ValidationError({"signed_name": _("Give the name of the person signing.")})
    return name[:100]


def signoff_create(
    subject, *, role: str, signed_name: str, user, portal_link, ip_address, note: str = "", paper_photo=None
):
    """The one sign-off routine of inspections and material arrivals. The caller has locked ``subject``,
    checked it still awaits signatures and that it needs ``role``."""
    name = signer_name(
        role=role,
        signed_name=signed_name,
        user=user,
        portal_link=portal_link,
        worksite_id=subject.worksite_id,
        paper_photo=paper_photo if role == SignoffRole.HOMEOWNER else None,
    )
    existing = subject.signoffs.filter(role=role).first()
    if existing is not None:
        when = timezone.localtime(existing.signed_at, firm_now().tzinfo).strftime("%Y-%m-%d %H:%M")
        raise ValidationError(
            {
                "role": _("%(role)s has already signed (%(name)s, %(at)s).")
                % {"role": SignoffRole(role).label, "name": existing.signed_name, "at": when}
            }
        )
    if user is not None and role != SignoffRole.HOMEOWNER:
        # One person is one party: a firm admin who may hold any crew position still signs for one of them.
        mine = subject.signoffs.filter(signed_by=user).exclude(role=SignoffRole.HOMEOWNER).first()
        if mine is not None:
            raise ValidationError(
                {
                    "role": _("%(user)s has already signed as %(role)s; each party signs for themselves.")
                    % {"user": user, "role": mine.get_role_display()}
                }
            )
    subject_field = "inspection" if isinstance(subject, Inspection) else "material_arrival"
    paper = {}
    if user is not None and role == SignoffRole.HOMEOWNER:
        try:
            cleaned = clean_upload(paper_photo, accept={IMAGE, PDF})
        except ValidationError as error:
            raise ValidationError({"paper_photo": error.messages}) from None
        paper = {"on_paper": True, "paper_photo": cleaned.content}
    try:
        with transaction.atomic():
            return Signoff.objects.create(
                **{subject_field: subject},
                role=role,
                signed_by=user,
                signed_name=name,
                portal_link=portal_link,
                ip_address=ip_address,
                note=(note or "").strip()[:300],
                **paper,
            )
    except IntegrityError:  # the subject row is locked, so only a signature made outside these services
        raise ValidationError({"role": _("This party has already signed.")}) from None

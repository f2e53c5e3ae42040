"""Writes to a firm's own account: its profile, and a new firm signing up."""

from __future__ import annotations

import datetime
import logging
import secrets
from io import BytesIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from PIL import Image

from renocrm.accounts.models import Membership
from renocrm.accounts.roles import Role
from renocrm.audit.models import AuditEvent
from renocrm.audit.services import platform_change_record
from renocrm.mobiles import validate_mobile
from renocrm.uploads import IMAGE, clean_upload

from .context import current_user_id, require_current_tenant
from .models import Tenant

logger = logging.getLogger(__name__)

PROFILE_FIELDS = (
    "name",
    "short_name",
    "address",
    "phone",
    "business_licence_number",
    "time_zone",
    "language",
    "working_hours_start",
    "working_hours_end",
)
HOURS_IN_ORDER = gettext_noop("Working hours must end after they start.")
MOBILE_TAKEN = gettext_noop("This mobile number already has an account. Sign in instead, or reset the password.")
# A logo is shown a few dozen pixels high; a phone photo of a sign is made no larger than this box.
LOGO_MAX_SIDE = 800


# The firm's profile ----------------------------------------------------------------------------------------


@transaction.atomic
def firm_profile_update(*, tenant: Tenant, logo=None, remove_logo: bool = False, **values) -> Tenant:
    """Change the current firm's profile (``PROFILE_FIELDS``); ``logo`` an uploaded image replacing the old
    one, or ``remove_logo``. Every refusal at once, on its field. The change is written to the firm's audit
    trail (the firm's row is a platform table, which the audit trigger does not watch)."""
    if tenant.pk != require_current_tenant().pk:
        raise ValidationError(_("A firm's profile is changed from inside that firm."))
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"firm_profile_update() got unexpected fields: {', '.join(sorted(unknown))}")
    firm = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = {name: getattr(firm, name) for name in (*PROFILE_FIELDS, "logo")}
    old_logo = firm.logo.name
    for name, value in values.items():
        setattr(firm, name, value.strip() if isinstance(value, str) else value)
    errors: dict[str, list[str]] = {}
    try:
        firm.full_clean(exclude=["logo", "slug", "status"])
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        firm_profile_check(working_hours_start=firm.working_hours_start, working_hours_end=firm.working_hours_end)
    except ValidationError as error:
        for field, texts in error.message_dict.items():
            errors.setdefault(field, []).extend(texts)
    cleaned = None
    if logo:
        try:
            cleaned = firm_logo_clean(logo)
        except ValidationError as error:
            errors.setdefault("logo", []).extend(error.messages)
    if errors:
        raise ValidationError(errors)
    if cleaned is not None:
        firm.logo.save(cleaned.name, cleaned, save=False)
    elif remove_logo:
        firm.logo = ""
    new_logo = firm.logo.name
    try:
        firm.save(update_fields=[*PROFILE_FIELDS, "logo"])
        changes = {
            name: [_audit_value(old), _audit_value(getattr(firm, name))]
            for name, old in before.items()
            if _audit_value(old) != _audit_value(getattr(firm, name))
        }
        if changes:
            platform_change_record(
                tenant=firm,
                actor_id=current_user_id(),
                action=AuditEvent.Action.UPDATE,
                table=Tenant._meta.db_table,
                row_id=firm.pk,
                changes=changes,
            )
    except Exception:
        if new_logo and new_logo != old_logo:
            firm.logo.storage.delete(new_logo)
        raise
    if old_logo and old_logo != new_logo:
        # Storage is not transactional: the old file goes once the new profile is committed.
        storage = firm.logo.storage
        transaction.on_commit(lambda: storage.delete(old_logo))
    logger.info("firm %s profile changed: %s", firm.pk, ", ".join(sorted(changes)) or "nothing")
    return firm


def firm_profile_check(**values) -> None:
    """The rules of a profile beyond each field's own: working hours that end after they start. A rule whose
    values are not in ``values`` is skipped. It only reads."""
    start, end = values.get("working_hours_start"), values.get("working_hours_end")
    if isinstance(start, datetime.time) and isinstance(end, datetime.time) and start >= end:
        raise ValidationError({"working_hours_end": [_(HOURS_IN_ORDER)]})


def _audit_value(value):
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M")
    if hasattr(value, "name") and not isinstance(value, str):  # a file field
        return value.name or ""
    return value


def firm_logo_clean(upload) -> ContentFile:
    """The uploaded logo checked as a photo (type read from its bytes, EXIF dropped: renocrm.uploads) and
    made no larger than LOGO_MAX_SIDE on either side; ValidationError when it is no photo we take. Running it
    on its own result again gives the same picture."""
    cleaned = clean_upload(upload, accept={IMAGE})
    cleaned.content.seek(0)
    data = cleaned.content.read()
    if max(cleaned.width or 0, cleaned.height or 0) > LOGO_MAX_SIDE:
        with Image.open(BytesIO(data)) as image:
            image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
            out = BytesIO()
            image.save(out, format=image.format or "PNG")
            data = out.getvalue()
    return ContentFile(data, name=cleaned.content.name)


# Sign-up ---------------------------------------------------------------------------------------------------


def signup_status() -> str:
    """The status a firm signing up now starts in: on trial, or waiting for the operator's approval."""
    return Tenant.Status.PENDING if settings.FIRM_SIGNUP == "approval" else Tenant.Status.TRIAL


def firm_slug(name: str) -> str:
    """A slug for a new firm: its name in Latin letters where it has any, and a random tail that keeps it
    unique (Chinese names have no Latin letters: the slug is then "firm-…")."""
    base = slugify(name)[:40].strip("-") or "firm"
    return f"{base}-{secrets.token_hex(3)}"


SIGN_UP_FIELDS = ("firm_name", "admin_name", "mobile", "email", "password")


def firm_sign_up_check(**values) -> None:
    """The rules of a sign-up: names given, a mobile number that is one and has no account yet, an e-mail
    address likewise, a password Django's validators accept. Raises one ValidationError with every rule
    broken; a rule whose value is not in ``values`` is skipped (a form passes what it could read, so one
    submission shows every mistake). It only reads."""
    User = get_user_model()
    errors: dict[str, list[str]] = {}
    for field, message in (("firm_name", _("Enter the firm's name.")), ("admin_name", _("Enter your name."))):
        if field in values and not (values[field] or "").strip():
            errors[field] = [message]
    mobile = (values.get("mobile") or "").strip()
    if "mobile" in values:
        try:
            validate_mobile(mobile)
        except ValidationError as error:
            errors["mobile"] = error.messages
        else:
            if User.objects.filter(Q(phone=mobile) | Q(username=mobile)).exists():
                errors["mobile"] = [_(MOBILE_TAKEN)]
    email = (values.get("email") or "").strip()
    if "email" in values:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
        else:
            if User.objects.filter(email__iexact=email).exists():
                errors["email"] = [
                    _("This e-mail address already has an account. Sign in instead, or reset the password.")
                ]
    if "password" in values:
        someone = User(username=mobile, name=values.get("admin_name") or "", phone=mobile, email=email)
        try:
            validate_password(values["password"] or "", someone)
        except ValidationError as error:
            errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)


def firm_sign_up(
    *, firm_name: str, admin_name: str, mobile: str, email: str, password: str, language: str = ""
) -> tuple[Tenant, object]:
    """A new firm and its first admin, in one transaction: the firm on trial (or awaiting approval, with
    FIRM_SIGNUP=approval), the admin user (who signs in with the mobile number) and their admin membership.
    Every refusal at once, on its field. The firm's defaults (phase template, acceptance checklist, callback
    plan, warranty coverages, settings) are its own copies made on first use, in its language
    (``renocrm.tenancy.defaults.firm_copy_get``), exactly as for a firm made by ``create_tenant``."""
    if settings.FIRM_SIGNUP == "closed":
        raise ValidationError(_("New firms cannot sign up here. Please contact us."))
    firm_sign_up_check(firm_name=firm_name, admin_name=admin_name, mobile=mobile, email=email, password=password)
    firm_name, admin_name = firm_name.strip(), admin_name.strip()
    mobile, email = mobile.strip(), email.strip().lower()
    user = get_user_model()(username=mobile, name=admin_name, phone=mobile, email=email)
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    status = signup_status()
    with transaction.atomic():
        tenant = _firm_create(name=firm_name, language=language, status=status)
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            # Another sign-up with the same mobile number committed a moment ago.
            raise ValidationError({"mobile": [_(MOBILE_TAKEN)]}) from None
        Membership.objects.create(user=user, tenant=tenant, roles=[Role.ADMIN])
    logger.info("firm %s (%s) signed up, status %s", tenant.pk, tenant.slug, status)
    return tenant, user


def _firm_create(*, name: str, language: str, status: str) -> Tenant:
    for _attempt in range(5):
        tenant = Tenant(name=name, slug=firm_slug(name), language=language, status=status)
        tenant.status_changed_at = timezone.now()
        tenant.full_clean(exclude=["slug"])
        try:
            with transaction.atomic():
                tenant.save()
        except IntegrityError:
            continue  # the random tail met an existing slug: draw again
        return tenant
    raise RuntimeError("Could not find a free slug for a new firm.")

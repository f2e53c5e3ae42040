"""Sending a quotation version to the customer: the homeowner's link (where they read, download and sign it) by
SMS and/or e-mail through the outbox, each message recorded as a ``DocumentDelivery``."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from contracts import documents, homeowner_links
from contracts.models import DocumentDelivery, QuotationVersion
from contracts.services.quotations import locked_version, quotation_version_send
from renocrm.mobiles import normalize_mobile, validate_mobile
from renocrm.outbox.models import Notification
from renocrm.outbox.services import notification_send
from renocrm.privacy.masking import mask_recipient
from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.time import firm_today

logger = logging.getLogger(__name__)

SMS, EMAIL = DocumentDelivery.Channel.SMS, DocumentDelivery.Channel.EMAIL
OPEN = (QuotationVersion.Status.SENT, QuotationVersion.Status.ACCEPTED)


def _recipients(*, version: QuotationVersion, channels, mobile: str, email: str) -> dict[str, str]:
    """{channel: where to}, checked: the mobile defaults to the customer's own."""
    chosen = list(dict.fromkeys(channels or []))
    if not chosen:
        raise ValidationError({"channels": _("Choose SMS, e-mail or both.")})
    recipients = {}
    for channel in chosen:
        if channel == SMS:
            number = normalize_mobile(mobile or version.quotation.lead.customer.mobile)
            try:
                validate_mobile(number)
            except ValidationError as error:
                raise ValidationError({"mobile": error.messages}) from None
            recipients[SMS] = number
        elif channel == EMAIL:
            address = (email or "").strip()
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError({"email": _("Enter a valid e-mail address.")}) from None
            recipients[EMAIL] = address
        else:
            raise ValidationError({"channels": _("Send by SMS or e-mail.")})
    return recipients


def _message(version: QuotationVersion, *, url: str) -> tuple[str, str, dict]:
    """Subject, body and the SMS template's values, in the firm's language."""
    firm = require_current_tenant()
    until = firm_today() + homeowner_links.MAX_AGE
    values = {
        "firm": firm.name,
        "name": version.quotation.lead.customer.name,
        "total": f"{version.total:,.2f}",
        "url": url,
        "date": until.isoformat(),
    }
    with translation.override(firm.language):
        subject = _("%(firm)s: your renovation quotation") % values
        body = (
            _(
                "%(firm)s: dear %(name)s, your renovation quotation (total ¥%(total)s) is ready. Read it, download "
                "the PDF and sign it here: %(url)s (valid until %(date)s; please do not share it)."
            )
            % values
        )
        if firm.phone:
            body += " " + _("Questions: %(phone)s") % {"phone": firm.phone}
    return subject, body, values


def _attachment(version: QuotationVersion) -> tuple[str, bytes, str] | None:
    """The PDF for an e-mail, as the homeowner's link gives it: the signed copy once accepted, else the
    version as it stands. None (the e-mail goes with the link alone) when this server cannot make PDFs."""
    try:
        data, copy = documents.pdf_for(version=version, for_homeowner=True)
    except documents.PdfUnavailable:
        logger.exception("Quotation version %s e-mailed without its PDF.", version.pk)
        return None
    name = documents.download_name(version=version, signed=copy is not None)
    return name, data, "application/pdf"


def _what_the_pdf_shows(version: QuotationVersion) -> tuple:
    """What decides the attached PDF beyond the version's frozen lines: its status and acceptance."""
    return version.status, version.accepted_at, version.sent_at


def _key(version: QuotationVersion, channel: str, recipient: str) -> str:
    return f"quotation-link:{version.pk}:{channel}:{recipient}:{firm_today().isoformat()}"


def _open_version(version: QuotationVersion) -> QuotationVersion:
    """The version locked, sent first if it is a draft; refused once a later version replaced it."""
    version = locked_version(version)
    if version.status == QuotationVersion.Status.DRAFT:
        return quotation_version_send(version=version)
    if version.status not in OPEN:
        raise ValidationError(_("A later version replaced this one; send the current version."))
    return version


def quotation_send_to_customer(
    *, version: QuotationVersion, channels, base_url: str, by=None, mobile: str = "", email: str = ""
) -> list[DocumentDelivery]:
    """Send the homeowner's link to ``version`` by each of ``channels`` (SMS to ``mobile``, by default the
    customer's; e-mail to ``email``, with the PDF attached). A draft is sent first, and so freezes, with every
    check that sending makes. The same channel and recipient get one message a firm day however often this is
    called (the outbox's idempotency key): a second press records nothing more and returns the deliveries of
    the first.

    The PDF takes a second or more to make: it is made with no row locked, once a draft is sent (and so shows
    what is sent), and made again under the lock only should the version have been accepted meanwhile."""
    recipients = _recipients(version=version, channels=channels, mobile=mobile, email=email)
    attachment = shows = None
    if EMAIL in recipients:
        with transaction.atomic():
            version = _open_version(version)
        if not Notification.objects.filter(idempotency_key=_key(version, EMAIL, recipients[EMAIL])).exists():
            shows, attachment = _what_the_pdf_shows(version), _attachment(version)
    return _send(version, recipients, attachment=attachment, shows=shows, base_url=base_url, by=by)


@transaction.atomic
def _send(version, recipients, *, attachment, shows, base_url: str, by) -> list[DocumentDelivery]:
    version = _open_version(version)
    if shows is not None and shows != _what_the_pdf_shows(version):
        attachment = _attachment(version)
    version = QuotationVersion.objects.select_related("quotation__lead__customer").get(pk=version.pk)
    url = f"{base_url.rstrip('/')}{homeowner_links.url_for(version)}"
    subject, body, values = _message(version, url=url)
    deliveries = []
    for channel, recipient in recipients.items():
        key = _key(version, channel, recipient)
        existing = Notification.objects.filter(idempotency_key=key).first()
        if existing is not None:
            delivery = DocumentDelivery.objects.filter(notification=existing).first()
            if delivery is not None:
                deliveries.append(delivery)
            continue
        if channel == SMS:
            notification = notification_send(
                channel=Notification.Channel.SMS,
                recipient=recipient,
                body=body,
                idempotency_key=key,
                sms_template="contracts.quotation_link",
                sms_params=values,
            )
        else:
            notification = notification_send(
                channel=Notification.Channel.EMAIL,
                recipient=recipient,
                subject=subject,
                body=body,
                idempotency_key=key,
                attachment=attachment if shows is not None else _attachment(version),
            )
        deliveries.append(
            DocumentDelivery.objects.create(
                quotation_version=version,
                channel=channel,
                recipient=mask_recipient(recipient),
                notification=notification,
                sent_by=by,
            )
        )
    return deliveries

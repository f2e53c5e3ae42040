"""Every event type the lifecycle apps emit with ``event_emit``: the one list a webhook endpoint subscribes
from (the integrations page's checkboxes, the guide). An endpoint with no event types, or with ``"*"``,
receives all of them.

The platform knows no lifecycle app, so the names are plain strings here; tests/outbox/test_webhook_receiver.py
reads every ``event_emit`` call in the apps and fails when one emits a type missing from this list."""

from django.utils.translation import gettext_lazy as _

# (event type, what happened), in lifecycle order.
EVENT_TYPES: tuple[tuple[str, str], ...] = (
    ("lead.created", _("A lead came in")),
    ("lead.status_changed", _("A lead moved in the pipeline")),
    ("measurement.scheduled", _("A site-survey appointment was booked")),
    ("quotation.accepted", _("The customer accepted a quotation version")),
    ("contract.signed", _("A contract was signed")),
    ("payment.due", _("An instalment fell due")),
    ("payment.received", _("A payment was recorded")),
    ("change_order.approved", _("A change order was approved")),
    ("worksite.phase_completed", _("A construction phase was completed")),
    ("progress.posted", _("Progress was posted from the site")),
    ("inspection.scheduled", _("An inspection was scheduled")),
    ("inspection.passed", _("An inspection passed")),
    ("inspection.failed", _("An inspection failed")),
    ("worksite.gate_overridden", _("A firm admin lifted a construction gate on a worksite")),
    ("project.handed_over", _("A project was handed over")),
    ("warranty.expiring", _("A warranty coverage is about to expire")),
    ("warranty_card.issued", _("A warranty card was issued")),
    ("repair.opened", _("A repair request was opened")),
    ("repair.triaged", _("Staff set a repair's trade and its warranty was decided again")),
    ("repair.assigned", _("A repair request was assigned")),
    ("repair.responded", _("A repair request was answered")),
    ("repair.visit_logged", _("A repair visit was logged")),
    ("repair.resolved", _("A repair was resolved")),
    ("repair.confirmed", _("The homeowner confirmed a repair")),
    ("repair.cancelled", _("A repair request was cancelled")),
    ("repair.sla_breached", _("A repair missed its response or on-site deadline")),
    ("callback.completed", _("A callback was completed")),
    ("callbacks.overdue", _("Callbacks are overdue (once a day, from 09:00 firm time)")),
    ("survey.submitted", _("A satisfaction survey was submitted")),
    ("feedback.follow_up_opened", _("A survey's feedback was sent to a department to follow up")),
    ("feedback.follow_up_closed", _("A department closed a feedback follow-up with its outcome")),
    ("complaint.opened", _("A complaint was opened")),
    ("complaint.escalated", _("A complaint was escalated")),
    ("complaint.resolved", _("A complaint was resolved")),
)

EVENT_TYPE_NAMES = frozenset(name for name, _label in EVENT_TYPES)

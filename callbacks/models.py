"""Callbacks (回访): the firm's plan, one row per planned callback written at handover (or at a construction
milestone), the attempts to reach the homeowner, and the satisfaction survey each completed callback
carries. Scheduling is data: the beat sweeper works on these rows, nothing waits in the broker."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from contracts.models import TradeCategory
from renocrm.accounts.models import staff_member_field
from renocrm.outbox.templates import MessageTemplate
from renocrm.tenancy.models import TenantModel


class Method(models.TextChoices):
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS survey link")
    VISIT = "visit", _("On-site visit")


DEFAULT_SMS_TEMPLATE = _(
    "Dear {customer_name}, this is {agent_name} of {firm_name}. How is your new home? Please tell us in two "
    "minutes: {survey_link} — questions: {firm_phone}"
)
# The survey-link SMS: the firm's own text (``CallbackSettings.sms_template``) or the default above.
SURVEY_SMS = MessageTemplate(
    default=DEFAULT_SMS_TEMPLATE,
    placeholders={
        "customer_name": _("customer name"),
        "firm_name": _("firm name"),
        "agent_name": _("agent name"),
        "firm_phone": _("firm phone"),
        "survey_link": _("survey link"),
    },
    field="sms_template",
)


class CallbackSettings(TenantModel):
    class Assignment(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("Round robin among customer-service agents")
        PROJECT_AGENT = "project_agent", _("The project's own customer-service agent")

    assignment = models.CharField(
        _("assignment"), max_length=20, choices=Assignment.choices, default=Assignment.PROJECT_AGENT
    )
    max_attempts = models.PositiveSmallIntegerField(
        _("attempts before unreachable"), default=3, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    retry_after_hours = models.PositiveSmallIntegerField(
        _("retry after (hours)"), default=24, validators=[MinValueValidator(1)]
    )
    sms_template = models.TextField(
        _("SMS template"),
        blank=True,
        help_text=_("Placeholders: {customer_name}, {firm_name}, {agent_name}, {firm_phone}, {survey_link}."),
    )
    survey_link_days = models.PositiveSmallIntegerField(_("survey link valid (days)"), default=14)
    # Round robin: the agent who got the last callback.
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Feedback that reaches a department: an answer at or below this score (of 5) opens a follow-up.
    follow_up_threshold = models.PositiveSmallIntegerField(
        _("follow up answers at or below"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text=_("A survey answer scored this low (of 5) or lower opens a follow-up for the department."),
    )
    follow_up_days = models.PositiveSmallIntegerField(
        _("follow-up deadline (working days)"), default=3, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    # Who heads each department (no staff management yet); left empty, the firm's first active admin.
    design_head = staff_member_field(_("design manager"))
    construction_head = staff_member_field(_("construction manager"))
    qc_head = staff_member_field(_("QC manager"))
    service_head = staff_member_field(_("customer-service manager"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="callback_settings_one_per_firm")]


class CallbackStep(TenantModel):
    """One step of the firm's callback plan. After handover: N working days or N months from the handover
    date. After a construction milestone: N days (or working days) after that phase is finished."""

    class Anchor(models.TextChoices):
        HANDOVER = "handover", _("Handover")
        PHASE_COMPLETED = "phase_completed", _("Construction milestone (phase finished)")

    class Unit(models.TextChoices):
        WORKING_DAYS = "working_days", _("Working days")
        DAYS = "days", _("Days")
        MONTHS = "months", _("Months")

    name = models.CharField(_("name"), max_length=100)
    anchor = models.CharField(_("counted from"), max_length=20, choices=Anchor.choices, default=Anchor.HANDOVER)
    # With the milestone anchor: the phase kind (as construction names it).
    phase_kind = models.CharField(_("phase"), max_length=40, blank=True)
    offset = models.PositiveSmallIntegerField(_("after"), validators=[MaxValueValidator(120)])
    unit = models.CharField(_("unit"), max_length=20, choices=Unit.choices)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, default=Method.PHONE)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["anchor", "position", "id"]
        verbose_name = _("callback plan step")
        constraints = [
            models.CheckConstraint(
                condition=Q(anchor="handover") | ~Q(phase_kind=""), name="callback_step_milestone_names_phase"
            ),
            # Also what stops two first requests from seeding the default plan twice.
            models.UniqueConstraint(
                fields=["tenant", "position"],
                name="callback_step_unique_position",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]

    def __str__(self):
        return self.name


class Callback(TenantModel):
    """One planned callback of one project. Written with its due date when the anchor happens; the sweeper
    *releases* it on its due date (assigns an agent, sends the SMS survey link) exactly once."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", pgettext_lazy("callback status", "Scheduled")
        OPEN = "open", pgettext_lazy("callback status", "Open")
        RETRY = "retry", _("To try again")
        COMPLETED = "completed", _("Completed")
        UNREACHABLE = "unreachable", _("Unreachable")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE_STATUSES = (Status.OPEN, Status.RETRY)

    project = models.ForeignKey("contracts.Project", on_delete=models.PROTECT, related_name="callbacks")
    worksite = models.ForeignKey("worksites.Worksite", on_delete=models.PROTECT, related_name="callbacks")
    customer = models.ForeignKey("leads.Customer", on_delete=models.PROTECT, related_name="callbacks")
    step = models.ForeignKey(CallbackStep, on_delete=models.PROTECT, related_name="callbacks")
    name = models.CharField(_("name"), max_length=100)
    due_on = models.DateField(_("due on"))
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    assigned_to = staff_member_field(_("agent"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    appointment_at = models.DateTimeField(_("visit appointment"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("callback")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "project", "step"], name="callback_once_per_project_step"),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "due_on"], name="callback_tenant_status_due"),
            # The API's and reports' date ranges over every status (e.g. "due today").
            models.Index(fields=["tenant", "due_on", "id"], name="callback_tenant_due"),
            models.Index(fields=["tenant", "assigned_to", "status", "due_on"], name="callback_tenant_agent"),
            models.Index(fields=["tenant", "project"], name="callback_tenant_project"),
        ]

    def __str__(self):
        return f"{self.name} · {self.project}"


class CallbackAttempt(TenantModel):
    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        BUSY = "busy", _("Busy / call back later")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        SMS_SENT = "sms_sent", _("Survey link sent")

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="attempt_log")
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["callback", "at", "id"]


SCORE = [MinValueValidator(1), MaxValueValidator(5)]


class Satisfaction(models.IntegerChoices):
    VERY_SATISFIED = 5, _("Very satisfied")
    SATISFIED = 4, _("Satisfied")
    NEUTRAL = 3, _("Neutral")
    DISSATISFIED = 2, _("Dissatisfied")
    VERY_DISSATISFIED = 1, _("Very dissatisfied")


class SurveyStaff(models.TextChoices):
    """Whom a survey's answers are about: the worksite's crew, copied onto the survey when it is submitted.
    The labels head the staff-satisfaction report's tables."""

    DESIGNER = "designer", _("Designers")
    PROJECT_MANAGER = "project_manager", _("Project managers")
    QC_INSPECTOR = "qc_inspector", _("QC inspectors")
    CUSTOMER_SERVICE = "customer_service", _("Customer service agents")


class Survey(TenantModel):
    """The answers of one callback. The staff who worked on the project are copied in when it is submitted,
    so rankings stay true after a worksite's team changes."""

    class Expectation(models.TextChoices):
        EXCEEDED = "exceeded", _("Better than expected")
        MET = "met", _("As expected")
        BELOW = "below", _("Below expectations")

    class Via(models.TextChoices):
        STAFF = "staff", _("Filled in by staff")
        SMS_LINK = "sms_link", _("Answered through the link")

    callback = models.ForeignKey(Callback, on_delete=models.PROTECT, related_name="surveys")
    via = models.CharField(max_length=10, choices=Via.choices)
    contact_confirmed = models.BooleanField(_("contact details confirmed"), default=True)
    contact_update = models.CharField(_("new contact details"), max_length=200, blank=True)
    overall = models.PositiveSmallIntegerField(_("overall satisfaction"), choices=Satisfaction.choices)
    quality_plumbing_electrical = models.PositiveSmallIntegerField(
        _("plumbing & electrical"), choices=Satisfaction.choices, null=True, blank=True
    )
    quality_carpentry = models.PositiveSmallIntegerField(
        _("carpentry"), choices=Satisfaction.choices, null=True, blank=True
    )
    quality_masonry = models.PositiveSmallIntegerField(
        _("masonry / tiling"), choices=Satisfaction.choices, null=True, blank=True
    )
    quality_painting = models.PositiveSmallIntegerField(
        _("painting"), choices=Satisfaction.choices, null=True, blank=True
    )
    expectation = models.CharField(_("result vs expectation"), max_length=10, choices=Expectation.choices, blank=True)
    designer_rating = models.PositiveSmallIntegerField(
        _("designer"), choices=Satisfaction.choices, null=True, blank=True
    )
    project_manager_rating = models.PositiveSmallIntegerField(
        _("project manager"), choices=Satisfaction.choices, null=True, blank=True
    )
    customer_service_rating = models.PositiveSmallIntegerField(
        _("customer service"), choices=Satisfaction.choices, null=True, blank=True
    )
    crew_rating = models.PositiveSmallIntegerField(
        _("construction crew"), choices=Satisfaction.choices, null=True, blank=True
    )
    qc_rating = models.PositiveSmallIntegerField(
        _("QC inspection"), choices=Satisfaction.choices, null=True, blank=True
    )
    # Free text of the surveys before material rows (``SurveyMaterial``); kept and shown, no longer asked.
    materials_feedback = models.TextField(_("materials and furniture"), blank=True)
    suggestions = models.TextField(_("suggestions"), blank=True)
    nps = models.PositiveSmallIntegerField(
        _("likelihood to recommend (0–10)"), validators=[MaxValueValidator(10)], null=True, blank=True
    )
    # Who the ratings are about, as of submission.
    designer = staff_member_field(_("designer"))
    project_manager = staff_member_field(_("project manager"))
    qc_inspector = staff_member_field(_("QC inspector"))
    customer_service = staff_member_field(_("customer service agent"))
    # What the answers started (one click from the callback to each).
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    repair_request = models.ForeignKey(
        "aftercare.RepairRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("survey")
        constraints = [models.UniqueConstraint(fields=["tenant", "callback"], name="survey_once_per_callback")]
        indexes = [models.Index(fields=["tenant", "submitted_at"], name="survey_tenant_submitted")]


class SurveyDefect(TenantModel):
    class Kind(models.TextChoices):
        LEAK = "leak", _("Leak")
        UNEVEN = "uneven", _("Uneven walls / floors")
        SEAL = "seal", _("Door / window seal")
        CRACK = "crack", _("Cracks")
        OTHER = "other", _("Other defect")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="defects")
    trade = models.CharField(_("trade"), max_length=30, choices=TradeCategory.choices)
    kind = models.CharField(_("defect"), max_length=20, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "trade"], name="survey_defect_tenant_trade")]


class SecondaryDemand(models.TextChoices):
    PARTIAL_RENOVATION = "partial_renovation", _("Partial renovation")
    FURNITURE = "furniture", _("Furniture upgrade")
    SOFT_FURNISHING = "soft_furnishing", _("Soft furnishing")


class SurveyDemand(TenantModel):
    """A secondary demand the homeowner mentioned; the first one makes a new lead for sales."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="demands")
    kind = models.CharField(_("demand"), max_length=30, choices=SecondaryDemand.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "survey", "kind"], name="survey_demand_once")]


class SurveyMaterial(TenantModel):
    """One material or piece of furniture the homeowner judged: what it is, its brand, how satisfied they
    are (1–5) and what they said."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="materials")
    item = models.CharField(_("material or furniture"), max_length=100)
    brand = models.CharField(_("brand"), max_length=100, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), choices=Satisfaction.choices)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["survey", "position", "id"]
        verbose_name = _("material feedback")


class Department(models.TextChoices):
    """The department a survey answer is about, whose head follows it up."""

    DESIGN = "design", _("Design")
    CONSTRUCTION = "construction", _("Construction")
    QC = "qc", _("Quality control")
    SERVICE = "service", _("Customer service")


# The settings field naming each department's head.
DEPARTMENT_HEADS = {
    Department.DESIGN: "design_head",
    Department.CONSTRUCTION: "construction_head",
    Department.QC: "qc_head",
    Department.SERVICE: "service_head",
}


class FeedbackFollowUp(TenantModel):
    """What a department does about one survey's answers on its work (对所反映意见处理后及时通知相关部门): opened
    for the department's head with a deadline when the survey is submitted, closed by them with the outcome,
    which the agent who took the survey then hears about (追踪回访处理结果). One per survey and department."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("follow-up status", "Open")
        CLOSED = "closed", pgettext_lazy("follow-up status", "Closed")

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="follow_ups")
    callback = models.ForeignKey(Callback, on_delete=models.PROTECT, related_name="follow_ups")
    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    # The answers that opened it: [{"question": a survey field or "material", "answer": …, "material": id}].
    triggers = models.JSONField(_("survey answers"), default=list)
    owner = staff_member_field(_("owner"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened at"))
    due_on = models.DateField(_("deadline"))
    outcome = models.TextField(_("outcome"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = staff_member_field(_("closed by"))
    # Set once by the overdue sweep: the owner is told once per follow-up.
    overdue_raised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("feedback follow-up")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "survey", "department"], name="feedback_follow_up_once_per_department"
            ),
            models.CheckConstraint(
                condition=Q(status="open") | (~Q(outcome="") & Q(closed_at__isnull=False)),
                name="feedback_follow_up_closed_with_outcome",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "owner", "status"], name="follow_up_tenant_owner"),
            models.Index(fields=["tenant", "status", "due_on"], name="follow_up_tenant_status_due"),
            models.Index(fields=["tenant", "callback"], name="follow_up_tenant_callback"),
        ]

    def __str__(self):
        return f"{self.get_department_display()} · {self.callback_id}"

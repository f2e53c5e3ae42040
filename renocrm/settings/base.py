"""Settings shared by every run mode; each value that differs between deployments comes from the environment."""

import json as _json
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from .env import celery_broker_url, env_bool, env_database, env_int, env_list, env_redis_url, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
# The public address, for links sent without a request to take it from (the weekly digest).
SITE_URL = env_str("SITE_URL", f"http://localhost:{env_int('PORT', 8000)}").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Platform first: its migrate command and checks take precedence.
    "renocrm.tenancy",
    "renocrm.accounts",
    "renocrm.audit",
    "renocrm.outbox",
    "renocrm.api",
    "renocrm.privacy",
    "renocrm.sweeps",
    "renocrm.console",
    "renocrm.dashboard",
    "renocrm.demo",
    "renocrm.twofactor",
    # Lifecycle stages, earlier stages first.
    "leads",
    "contracts",
    "worksites",
    "aftercare",
    "callbacks",
    "complaints",
    # Django and third parties.
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "renocrm.observability.RequestIdMiddleware",
    # Near the top (inside the request id, which its answer carries): a database outage anywhere below
    # becomes a 503 with Retry-After instead of a 500.
    "renocrm.resilience.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # The partner API: English unless Accept-Language asks for Chinese (renocrm/language.py).
    "renocrm.language.ApiLanguageMiddleware",
    # RateLimit-Limit / -Remaining / -Reset on the answers to a partner's key (renocrm/api/throttling.py).
    "renocrm.api.throttling.RateLimitHeadersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session has entered a two-factor code (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # Signs a staff session out after SESSION_IDLE_TIMEOUT_SECONDS without a request, or SESSION_COOKIE_AGE
    # after it began, before any view (or the firm's scope) sees the user.
    "renocrm.sessions.SessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last: everything after it runs inside the firm's transaction and row-level-security scope.
    "renocrm.tenancy.middleware.TenantMiddleware",
    # Staff pages in the user's or the firm's language rather than the browser's (renocrm/language.py).
    "renocrm.language.StaffLanguageMiddleware",
    # After the firm is known (a firm may require its admins' second factor): a signed-in user who owes a
    # two-factor code, or must first set it up, is sent to that page before any other.
    "renocrm.twofactor.middleware.TwoFactorMiddleware",
    # A form posts into the firm it was rendered for (renocrm/accounts/firm_guard.py).
    "renocrm.accounts.firm_guard.FirmGuardMiddleware",
    "renocrm.api.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "renocrm.urls"
WSGI_APPLICATION = "renocrm.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "renocrm.tenancy.context_processors.firm",
                "renocrm.dashboard.nav.navigation",
            ],
            # {% firm_field %} beside every {% csrf_token %}: see renocrm/accounts/firm_guard.py.
            "builtins": ["renocrm.accounts.templatetags.firm_guard"],
        },
    },
]

# The application connects as a role that owns no tables and cannot bypass row-level security;
# migrations run through the "owner" alias (see renocrm/tenancy/management/commands/migrate.py).
DATABASES = {
    "default": env_database("DATABASE_URL"),
    "owner": env_database("DATABASE_OWNER_URL"),
}
DATABASES["owner"]["CONN_MAX_AGE"] = 0
# DATABASE_POOLER=pgbouncer when DATABASE_URL points at PgBouncer in transaction mode: consecutive
# transactions may run on different server connections, so a server-side cursor (.iterator()) would lose
# its portal. The firm's RLS setting is transaction-local already (renocrm/tenancy/context.py).
DATABASE_POOLER = env_str("DATABASE_POOLER", "")
if DATABASE_POOLER not in ("", "pgbouncer"):
    raise ImproperlyConfigured("DATABASE_POOLER must be empty or 'pgbouncer'.")
if DATABASE_POOLER == "pgbouncer":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# While the database is unreachable requests answer 503 with this Retry-After (renocrm.resilience).
SERVICE_UNAVAILABLE_RETRY_AFTER = env_int("SERVICE_UNAVAILABLE_RETRY_AFTER", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_redis_url("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "renocrm"),
        # Every key carries the current firm, so one firm's cached value is never served to another.
        "KEY_FUNCTION": "renocrm.tenancy.cache.tenant_cache_key",
        # The cache still raises when Redis is down (readiness must see the outage); its one reader in a
        # request, the API throttle, lets the request through. A Redis that hangs must not hang requests.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# A staff session ends after this long without a request (a shared office computer left signed in) …
SESSION_IDLE_TIMEOUT_SECONDS = env_int("SESSION_IDLE_TIMEOUT_SECONDS", 8 * 3600)
# … and in any case this long after sign-in, however busy (renocrm/sessions.py). The cookie lasts as long.
SESSION_COOKIE_AGE = env_int("SESSION_MAX_AGE_SECONDS", 7 * 24 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# The proxies in front of the app whose X-Forwarded-For is believed (addresses or networks, comma-separated);
# empty: the connecting address is the client (renocrm/clientip.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])

# Content-Security-Policy (django-csp): scripts, styles, fonts and images from this site only; htmx and every
# script are static files, so no inline script or style is allowed. data: images are what the signature pad
# and the browser's own form controls draw with. The API docs page adds what Swagger UI needs (renocrm/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling: lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# The address a lockout is keyed on follows the same trusted-proxy rule as every other recorded address.
AXES_CLIENT_IP_CALLABLE = "renocrm.clientip.client_ip"
# A wrong two-factor code counts as a failed sign-in (renocrm/twofactor); the code typed is never recorded.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
# Two-factor sign-in: the name authenticator apps show beside the account, and no secret keys in the admin.
OTP_TOTP_ISSUER = env_str("TWO_FACTOR_ISSUER", "RenoCRM")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# New firms at /signup/: "open" (they start a trial at once), "approval" (they wait for the operator's approval
# in /console/) or "closed" (no sign-up page). FIRM_SUPPORT_CONTACT: whom a suspended or waiting firm contacts.
FIRM_SIGNUP = env_str("FIRM_SIGNUP", "open")
if FIRM_SIGNUP not in ("open", "approval", "closed"):
    raise ImproperlyConfigured("FIRM_SIGNUP must be 'open', 'approval' or 'closed'.")
FIRM_SUPPORT_CONTACT = env_str("FIRM_SUPPORT_CONTACT", "")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Date formats that differ from Django's per language (renocrm/formats/<language>/formats.py); the setting
# below is what a template gets with no language active.
FORMAT_MODULE_PATH = ["renocrm.formats"]
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Uploads: local disk by default; STORAGE_BACKEND=s3 puts them on S3-compatible storage (MinIO, OSS,
# COS …) with pre-signed, expiring URLs. Needs the "s3" extra (django-storages[s3]).
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "local")
if STORAGE_BACKEND not in ("local", "s3"):
    raise ImproperlyConfigured("STORAGE_BACKEND must be 'local' or 's3'.")
MEDIA_STORAGE = (
    {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if STORAGE_BACKEND == "local"
    else {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("S3_BUCKET"),
            "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("S3_REGION", "") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID"),
            "secret_key": env_str("S3_SECRET_ACCESS_KEY"),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env_int("MEDIA_URL_MAX_AGE_SECONDS", 6 * 3600),
            "file_overwrite": False,
        },
    }
)
STORAGES = {
    "default": MEDIA_STORAGE,
    # Compressed, fingerprinted static files served by the app itself (no CDN, no separate web server).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "RenoCRM <noreply@renocrm.local>")
# SMS goes through a backend chosen like Django's EMAIL_BACKEND.
SMS_BACKEND = env_str("SMS_BACKEND", "renocrm.outbox.sms.ConsoleBackend")
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(BASE_DIR / "var" / "sms"))
# A mainland gateway (SMS_BACKEND=aliyun or tencent) sends approved templates under a registered signature;
# firms may use their own account and templates instead (docs/operations.md, "SMS gateways").
SMS_ACCESS_KEY_ID = env_str("SMS_ACCESS_KEY_ID", "")
SMS_ACCESS_KEY_SECRET = env_str("SMS_ACCESS_KEY_SECRET", "")
SMS_SIGN_NAME = env_str("SMS_SIGN_NAME", "")
SMS_APP_ID = env_str("SMS_APP_ID", "")  # Tencent Cloud's SmsSdkAppId
SMS_REGION = env_str("SMS_REGION", "")
# The gateway's address: SMS_ENDPOINT for the installation's own; per provider for firms' own accounts.
SMS_ENDPOINT = env_str("SMS_ENDPOINT", "")
SMS_PROVIDER_ENDPOINTS = {
    "aliyun": env_str("SMS_ALIYUN_ENDPOINT", ""),
    "tencent": env_str("SMS_TENCENT_ENDPOINT", ""),
}
SMS_TIMEOUT_SECONDS = env_int("SMS_TIMEOUT_SECONDS", 10)
SMS_RECEIPT_WAIT_HOURS = env_int("SMS_RECEIPT_WAIT_HOURS", 72)
# {message key: {"code": "SMS_123456789", "params": {"template parameter": "RenoCRM value"}}} as JSON.
try:
    SMS_TEMPLATES = _json.loads(env_str("SMS_TEMPLATES", "{}"))
except ValueError as _error:
    raise ImproperlyConfigured(f"Environment variable SMS_TEMPLATES must be a JSON object: {_error}") from None
if not isinstance(SMS_TEMPLATES, dict):
    raise ImproperlyConfigured("Environment variable SMS_TEMPLATES must be a JSON object.")
if SMS_BACKEND in ("aliyun", "tencent"):
    for _name in ("SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET") + (("SMS_APP_ID",) if SMS_BACKEND == "tencent" else ()):
        if not globals()[_name]:
            raise ImproperlyConfigured(f"Environment variable {_name} is required with SMS_BACKEND={SMS_BACKEND}.")
# WeCom group robots: the only address a robot's URL may have (with ?key=…); a test points it at a local fake.
WECOM_WEBHOOK_URL = env_str("WECOM_WEBHOOK_URL", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send")
WECOM_TIMEOUT_SECONDS = env_int("WECOM_TIMEOUT_SECONDS", 10)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "renocrm.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["renocrm.api.permissions.FirmPermission"],
    "DEFAULT_PAGINATION_CLASS": "renocrm.api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Counted by ApiKeyAuthentication as soon as the key is known, before permissions: no throttle classes.
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": {"api_key": env_str("API_KEY_RATE", "600/min")},
    "EXCEPTION_HANDLER": "renocrm.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "renocrm.api.schema.PartnerAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "RenoCRM API",
    "DESCRIPTION": "Partner and dashboard API of RenoCRM. Partners authenticate with `Authorization: Api-Key <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No call to validator.swagger.io from the docs page (the page's policy allows this site only).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Tags and operation ids by resource (``leads_list``), not by the version every path shares.
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Docstrings are for maintainers; partners read what extend_schema and help_text say (renocrm/api/schema.py).
    "DISABLE_DOCSTRING_DESCRIPTIONS": True,
    # One tag per resource (the first segment of its path), in the order a partner meets them.
    "TAGS": [
        {
            "name": "leads",
            "description": "The sales pipeline: partners hand over inquiries; staff take them to a contract.",
        },
        {"name": "customers", "description": "Homeowner households, one per mobile number in the firm."},
        {"name": "properties", "description": "Customers' homes, with the address in its parts."},
        {"name": "follow-ups", "description": "Calls, visits and messages with a lead's customer."},
        {"name": "referral-rewards", "description": "Rewards earned by customers whose referral signed a contract."},
        {"name": "design-agreements", "description": "Design fee agreements with a lead's customer."},
        {"name": "measurement-appointments", "description": "Site-survey appointments to measure a lead's home."},
        {"name": "price-items", "description": "The firm's item library of labour and materials, with unit prices."},
        {
            "name": "price-packages",
            "description": "The firm's packages (half, full, whole-house) that fill a quotation version.",
        },
        {"name": "quotations", "description": "Quotations for a lead, each with its versions."},
        {
            "name": "quotation-versions",
            "description": "A quotation's versions: lines, fees and amounts; sent, accepted, copied and compared.",
        },
        {
            "name": "contracts",
            "description": "Signed contracts: signing one wins the lead, opens the project and sets its payments.",
        },
        {"name": "instalments", "description": "Contracts' payment schedules, and the payments received."},
        {"name": "receivables", "description": "What homeowners still owe, by aging bucket."},
        {"name": "change-orders", "description": "Additions to and removals from a signed contract."},
        {"name": "worksites", "description": "One worksite per signed contract: its crew and current phase."},
        {"name": "phases", "description": "The construction schedule of each worksite, phase by phase."},
        {"name": "phase-templates", "description": "The firm's template for new worksites' schedules."},
        {"name": "technical-handovers", "description": "The on-site briefing before work starts."},
        {"name": "progress-updates", "description": "Progress posted from the site, with photos and videos."},
        {
            "name": "inspections",
            "description": "The inspections of a worksite, from concealed works to the final acceptance.",
        },
        {
            "name": "material-arrivals",
            "description": "Materials delivered to a worksite, accepted or rejected on site.",
        },
        {"name": "site-patrols", "description": "Patrols of a worksite by its designer, foreman or QC inspector."},
        {
            "name": "site-problems",
            "description": "Problems found on site, with the solutions offered to the homeowner.",
        },
        {"name": "gate-overrides", "description": "Construction gates a firm admin lifted on a worksite."},
        {
            "name": "handovers",
            "description": "The completion acceptance of a worksite, its documents and the handover.",
        },
        {"name": "acceptance-items", "description": "The checks of a completion acceptance."},
        {"name": "rectification-items", "description": "What must be put right before a worksite is handed over."},
        {"name": "coverages", "description": "The warranties of a handed-over project."},
        {"name": "warranty-cards", "description": "Warranty cards issued once a project is handed over and paid."},
        {
            "name": "repair-requests",
            "description": "Homeowners' repair requests, decided against the project's warranties.",
        },
        {
            "name": "callbacks",
            "description": "Calls to homeowners after handover and construction milestones, and their surveys.",
        },
        {"name": "callback-plans", "description": "The firm's plan of callback steps."},
        {"name": "feedback-follow-ups", "description": "What a department does about a survey's low answers."},
        {
            "name": "complaints",
            "description": "Homeowners' complaints at three levels, with their clocks and handling log.",
        },
        {"name": "search", "description": "The firm's records found by name, mobile number, address or number."},
        {"name": "agenda", "description": "A signed-in staff member's agenda; not for API keys."},
        {"name": "notices", "description": "A signed-in staff member's notices; not for API keys."},
        {"name": "staff", "description": "The firm's staff, their roles, and the duties each role holds."},
        {"name": "staff-invitations", "description": "Invitations to join the firm's staff."},
        {"name": "api-keys", "description": "The firm's API keys for partners."},
        {"name": "webhooks", "description": "Webhook endpoints that receive the firm's events."},
        {"name": "webhook-deliveries", "description": "The log of events delivered to webhook endpoints."},
        {"name": "audit-events", "description": "Who changed what, a staff member or a partner's key."},
        {
            "name": "deletions",
            "description": "Records deleted or erased from the lists, for a partner's mirror to drop.",
        },
    ],
    # Several models have a "status" or "kind" with different choices: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.Lead.Status",
        "LeadChannelEnum": "leads.models.Lead.Channel",
        "ReferralRewardStatusEnum": "leads.models.ReferralReward.Status",
        "ReferralRewardKindEnum": "leads.models.ReferralReward.Kind",
        "FollowUpKindEnum": "leads.models.FollowUp.Kind",
        "PropertyKindEnum": "leads.models.Property.Kind",
        "QuotationVersionStatusEnum": "contracts.models.QuotationVersion.Status",
        "MeasurementAppointmentStatusEnum": "contracts.models.MeasurementAppointment.Status",
        "ChangeOrderStatusEnum": "contracts.models.ChangeOrder.Status",
        "ChangeOrderLineKindEnum": "contracts.models.ChangeOrderLine.Kind",
        "InstalmentKindEnum": "contracts.models.Instalment.Kind",
        "WorksiteStatusEnum": "worksites.models.Worksite.Status",
        "PhaseKindEnum": "worksites.models.PhaseKind",
        "ProgressMediaKindEnum": "worksites.models.ProgressMedia.Kind",
        "SignoffRoleEnum": "worksites.models.SignoffRole",
        "InspectionKindEnum": "worksites.models.Inspection.Kind",
        "InspectionResultEnum": "worksites.models.Inspection.Result",
        "MaterialArrivalStatusEnum": "worksites.models.MaterialArrival.Status",
        "SitePatrolRoleEnum": "worksites.models.SitePatrol.Role",
        "SiteProblemStatusEnum": "worksites.models.SiteProblem.Status",
        "HandoverStatusEnum": "worksites.models.Handover.Status",
        "AcceptanceItemResultEnum": "worksites.models.AcceptanceItem.Result",
        "RectificationItemStatusEnum": "worksites.models.RectificationItem.Status",
        "HandoverDocumentKindEnum": "worksites.models.HandoverDocument.Kind",
        "TradeCategoryEnum": "contracts.models.TradeCategory",
        "DocumentDeliveryChannelEnum": "contracts.models.DocumentDelivery.Channel",
        "AreaEnum": "aftercare.models.Area",
        "RepairRequestStatusEnum": "aftercare.models.RepairRequest.Status",
        "RepairRequestSourceEnum": "aftercare.models.RepairRequest.Source",
        "RepairVisitKindEnum": "aftercare.models.RepairVisit.Kind",
        "CallbackMethodEnum": "callbacks.models.Method",
        "CallbackStatusEnum": "callbacks.models.Callback.Status",
        "CallbackStepAnchorEnum": "callbacks.models.CallbackStep.Anchor",
        "CallbackStepUnitEnum": "callbacks.models.CallbackStep.Unit",
        "CallbackAttemptOutcomeEnum": "callbacks.models.CallbackAttempt.Outcome",
        "SatisfactionEnum": "callbacks.models.Satisfaction",
        "SurveyExpectationEnum": "callbacks.models.Survey.Expectation",
        "SurveyViaEnum": "callbacks.models.Survey.Via",
        "SurveyDefectKindEnum": "callbacks.models.SurveyDefect.Kind",
        "SecondaryDemandEnum": "callbacks.models.SecondaryDemand",
        "ComplaintChannelEnum": "complaints.models.Complaint.Channel",
        "ComplaintCategoryEnum": "complaints.models.Complaint.Category",
        "ComplaintSeverityEnum": "complaints.models.Complaint.Severity",
        "ComplaintStatusEnum": "complaints.models.Complaint.Status",
        "ComplaintVerdictEnum": "complaints.models.Complaint.Verdict",
        "ComplaintRootCauseEnum": "complaints.models.Complaint.RootCause",
        "ComplaintEntryKindEnum": "complaints.models.ComplaintEntry.Kind",
    },
}

# Celery: late acknowledgement so a killed worker's task is redelivered; the visibility timeout
# must outlast the longest task (hard time limit below) or Redis hands the task to a second worker.
CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
# An unreachable broker fails the enqueue within seconds, not a TCP timeout; the outbox then leaves the row to
# its sweeper (renocrm/outbox/enqueue.py).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ALWAYS_EAGER = False
# Two queues. WEBHOOK_QUEUE carries what a partner is waiting for: an event's dispatch, its webhook deliveries
# (first attempts and retries) and their sweeper, routed there by renocrm.outbox.tasks.route, so the sweeps and
# reports on the default queue never hold a delivery up. Production runs a worker on each
# (docs/operations.md, "Processes"); a worker started without -Q consumes both (make run).
CELERY_TASK_DEFAULT_QUEUE = "celery"
WEBHOOK_QUEUE = env_str("WEBHOOK_QUEUE", "webhooks")
# Each bound by its own name: two queues on one routing key would each receive every message.
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in (CELERY_TASK_DEFAULT_QUEUE, WEBHOOK_QUEUE)]
CELERY_TASK_ROUTES = ["renocrm.outbox.tasks.route"]
# The webhook sweeper queues again an attempt whose task was lost (a killed worker, a broker outage) once it is
# WEBHOOK_SWEEP_SLACK_SECONDS overdue; running every WEBHOOK_SWEEP_SECONDS, it finds it less than a minute late.
WEBHOOK_SWEEP_SECONDS = 20
WEBHOOK_SWEEP_SLACK_SECONDS = env_int("WEBHOOK_SWEEP_SLACK_SECONDS", 15)
# Platform tasks outside an app's tasks.py (which autodiscovery finds by itself).
CELERY_IMPORTS = ["renocrm.media_sweep"]
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")
# Beat runs in UTC; firm-local times are computed in application code.
CELERY_BEAT_SCHEDULE = {
    "outbox-dispatch": {"task": "renocrm.outbox.tasks.sweep_outbox", "schedule": timedelta(minutes=1)},
    # A run that waited in the queue longer than the slack expires unrun: behind such a backlog, what it would find
    # overdue is still queued, not lost, and queueing it again would only lengthen the backlog.
    "webhook-redelivery": {
        "task": "renocrm.outbox.tasks.sweep_webhook_deliveries",
        "schedule": timedelta(seconds=WEBHOOK_SWEEP_SECONDS),
        "options": {"expires": WEBHOOK_SWEEP_SLACK_SECONDS},
    },
    "notification-resend": {"task": "renocrm.outbox.tasks.sweep_notifications", "schedule": timedelta(minutes=2)},
    "sms-receipts": {"task": "renocrm.outbox.tasks.sweep_sms_receipts", "schedule": timedelta(minutes=2)},
    "firm-export-requeue": {"task": "renocrm.privacy.tasks.sweep_waiting_exports", "schedule": timedelta(minutes=10)},
    "firm-export-expiry": {"task": "renocrm.privacy.tasks.sweep_expired_exports", "schedule": crontab(minute=50)},
    # Aftercare: every sweeper is set-based and idempotent, so a beat that was down catches up on its next run.
    "callbacks-due": {"task": "callbacks.tasks.sweep_due_callbacks", "schedule": timedelta(minutes=5)},
    "feedback-follow-up-overdue": {"task": "callbacks.tasks.sweep_overdue_follow_ups", "schedule": crontab(minute=15)},
    "warranty-reminders": {"task": "aftercare.tasks.sweep_warranty_reminders", "schedule": timedelta(hours=1)},
    "repair-sla": {"task": "aftercare.tasks.sweep_repair_sla", "schedule": timedelta(minutes=10)},
    "member-care": {"task": "aftercare.tasks.sweep_member_care", "schedule": timedelta(hours=1)},
    "complaint-escalation": {"task": "complaints.tasks.sweep_complaint_escalations", "schedule": timedelta(minutes=5)},
    # Hourly, so each firm's Monday morning and each deadline are met in the firm's own time zone.
    "worksite-weekly-digests": {"task": "worksites.tasks.portal.sweep_weekly_digests", "schedule": crontab(minute=5)},
    "overdue-rectification-items": {
        "task": "worksites.tasks.handover.sweep_overdue_rectifications",
        "schedule": crontab(minute=35),
    },
    # Hourly, so each homeowner hears of an inspection from 09:00 in the firm's own time zone.
    "inspection-notices": {"task": "worksites.tasks.notices.sweep_inspection_notices", "schedule": crontab(minute=15)},
    # Hourly, so the crew and homeowners are reminded from 09:00 in the firm's own time zone.
    "inspection-staff-reminders": {
        "task": "worksites.tasks.reminders.sweep_inspection_reminders",
        "schedule": crontab(minute=20),
    },
    "measurement-reminders": {
        "task": "contracts.tasks.sweep_measurement_reminders",
        "schedule": crontab(minute=10),
    },
    # Hourly, so homeowners hear of an instalment falling due from 09:00 in the firm's own time zone.
    "payment-reminders": {"task": "contracts.tasks.sweep_payment_reminders", "schedule": crontab(minute=40)},
    # Signed copies whose render task never ran (the broker was down at commit).
    "signed-copies": {"task": "contracts.tasks.sweep_signed_copies", "schedule": crontab(minute="*/15")},
    # Hourly, so the report reaches each firm's managers on Monday morning in the firm's own time zone.
    "weekly-callback-report": {
        "task": "renocrm.dashboard.tasks.sweep_weekly_callback_reports",
        "schedule": crontab(minute=45),
    },
    "lost-lead-retention": {
        "task": "leads.tasks.sweep_lost_lead_retention",
        "schedule": crontab(minute=25, hour="*/6"),
    },
    "purge-idempotency-records": {
        "task": "renocrm.api.tasks.purge_idempotency_records",
        "schedule": crontab(minute=17, hour=19),
    },
    # Uploads no row names (replaced, deleted, rolled back); past MEDIA_ORPHAN_GRACE_HOURS only.
    "orphan-media": {"task": "renocrm.media_sweep.sweep_orphan_media", "schedule": crontab(minute=40, hour=18)},
}

API_IDEMPOTENCY_TTL_HOURS = env_int("API_IDEMPOTENCY_TTL_HOURS", 24)
# A firm's full export holds every homeowner's personal data: its file is deleted this long after it was built.
PERSONAL_EXPORT_RETENTION_DAYS = env_int("PERSONAL_EXPORT_RETENTION_DAYS", 7)
if PERSONAL_EXPORT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("Environment variable PERSONAL_EXPORT_RETENTION_DAYS must be at least 1.")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
# A failed attempt is retried after 1, 2, 4, 8 … minutes (the first wait doubling, at most 6 hours), each wait
# ± WEBHOOK_RETRY_JITTER_PERCENT so the deliveries that failed together in a receiver's outage do not all come
# back in the same second (renocrm.outbox.services.webhook_retry_delay).
WEBHOOK_RETRY_FIRST_SECONDS = env_int("WEBHOOK_RETRY_FIRST_SECONDS", 60)
WEBHOOK_RETRY_MAX_SECONDS = 6 * 3600
WEBHOOK_RETRY_JITTER_PERCENT = 10
if WEBHOOK_RETRY_FIRST_SECONDS < 1:
    raise ImproperlyConfigured("Environment variable WEBHOOK_RETRY_FIRST_SECONDS must be at least 1.")
# A retry is queued with a countdown to its time only when that is this close: Redis hands a task a worker holds
# unacknowledged (as it holds one waiting for its countdown) to another worker after the visibility timeout.
# Longer waits are left to the webhook sweeper, which queues the retry once due.
WEBHOOK_RETRY_QUEUED_WITHIN_SECONDS = CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] - 600
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 20)
# Where webhooks may go (renocrm/outbox/egress.py): https only, and only to public addresses. Plain http is for
# development; private networks (loopback, RFC 1918, link-local and the like) only when deliberately allowed.
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", False)
# The outbox and notification sweepers leave rows younger than this to the tasks queued on commit
# (renocrm/outbox/tasks.py); webhook deliveries have their own, shorter WEBHOOK_SWEEP_SLACK_SECONDS.
OUTBOX_SWEEP_GRACE_SECONDS = env_int("OUTBOX_SWEEP_GRACE_SECONDS", 60)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "text")  # "json" in production
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "renocrm.observability.ContextFilter"},
        # Mobile numbers never reach a log line in full (PIPL).
        "mask_contacts": {"()": "renocrm.privacy.masking.MaskContactsFilter"},
        "skip_database_unavailable": {"()": "renocrm.resilience.SkipDatabaseUnavailable"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [firm=%(tenant)s req=%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(tenant)s %(request_id)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context", "mask_contacts", "skip_database_unavailable"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Tried in order by renocrm.tenancy.middleware.TenantMiddleware.
TENANT_RESOLVERS = [
    "renocrm.api.authentication.resolve_api_key_firm",
    "renocrm.accounts.firms.resolve_session_firm",
]

# Upload limits per kind of file (renocrm.uploads); a phone photo is 3–8 MB, a short video far more.
UPLOAD_MAX_BYTES = {
    "image": env_int("UPLOAD_MAX_IMAGE_MB", 15) * 1024 * 1024,
    "video": env_int("UPLOAD_MAX_VIDEO_MB", 100) * 1024 * 1024,
    "pdf": env_int("UPLOAD_MAX_PDF_MB", 30) * 1024 * 1024,
}
# A photo claiming more pixels than this is refused from its header, before it is decoded (a few KB of PNG
# can claim a gigapixel). A 48 MP phone camera saves 12 MP photos by default; 40 MP leaves room.
UPLOAD_MAX_IMAGE_PIXELS = env_int("UPLOAD_MAX_IMAGE_PIXELS", 40_000_000)
# Stored uploads that no row names any more (replaced, deleted, or written by a transaction that rolled
# back) are deleted by the beat sweep once they are this old (renocrm/media_sweep.py).
MEDIA_ORPHAN_GRACE_HOURS = env_int("MEDIA_ORPHAN_GRACE_HOURS", 24)
# Signed media URLs (renocrm.media) stop working after this long.
MEDIA_URL_MAX_AGE_SECONDS = env_int("MEDIA_URL_MAX_AGE_SECONDS", 6 * 3600)

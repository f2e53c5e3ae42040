from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from renocrm import health, media
from renocrm.api.errors import api_not_found

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("media/<str:token>", media.media_file, name="media"),
    path("accounts/two-factor/", include("renocrm.twofactor.urls")),
    path("accounts/", include("renocrm.accounts.urls")),
    path("settings/staff/", include("renocrm.accounts.staff_urls")),
    path("audit/", include("renocrm.audit.urls")),
    path("privacy/", include("renocrm.privacy.urls")),
    path("integrations/", include("renocrm.api.page_urls")),
    # settings/, settings/firm/ and signup/ as exact paths: settings/<other>/ pages belong to their apps.
    path("", include("renocrm.tenancy.urls")),
    path("settings/notices/", include("renocrm.outbox.urls")),
    path("notices/", include("renocrm.outbox.staff_notice_urls")),
    path("console/", include("renocrm.console.urls")),
    path("leads/", include("leads.urls")),
    path("contracts/", include("contracts.urls")),
    path("worksites/", include("worksites.urls")),
    path("aftercare/", include("aftercare.urls")),
    path("callbacks/", include("callbacks.urls")),
    path("complaints/", include("complaints.urls")),
    path("portal/", include("worksites.portal_urls")),
    path("portal/", include("aftercare.portal_urls")),
    path("portal/", include("callbacks.portal_urls")),
    path("portal/", include("complaints.portal_urls")),
    path("api/v1/", include("renocrm.api.urls")),
    path("api/v1/", include("leads.api_urls")),
    path("api/v1/", include("contracts.api_urls")),
    path("api/v1/", include("worksites.api_urls")),
    path("api/v1/", include("aftercare.api_urls")),
    path("api/v1/", include("callbacks.api_urls")),
    path("api/v1/", include("complaints.api_urls")),
    path("api/v1/", include("renocrm.dashboard.api_urls")),
    path("api/v1/", include("renocrm.dashboard.receivable_api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's start-up script is a separate request (no inline script); its page keeps one inline style.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    # Last under /api/: an unknown API address answers the API's error body even with DEBUG on (Django's
    # debug 404 page bypasses handler404) and without APPEND_SLASH redirecting or refusing a POST.
    re_path(r"^api/", api_not_found, name="api-not-found"),
    path("platform-admin/", admin.site.urls),
    # The service worker and the manifest, from the root (a service worker controls only pages below it).
    path("", include("worksites.offline_urls")),
    path("", include("renocrm.dashboard.urls")),
]

handler404 = "renocrm.views.not_found"
handler500 = "renocrm.views.server_error"

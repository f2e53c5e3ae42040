from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from renocrm import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("renocrm.accounts.urls")),
    path("audit/", include("renocrm.audit.urls")),
    path("leads/", include("leads.urls")),
    path("contracts/", include("contracts.urls")),
    path("worksites/", include("worksites.urls")),
    path("api/v1/", include("renocrm.api.urls")),
    path("api/v1/", include("leads.api_urls")),
    path("api/v1/", include("contracts.api_urls")),
    path("api/v1/", include("worksites.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("platform-admin/", admin.site.urls),
    path("", include("renocrm.dashboard.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "renocrm.views.not_found"
handler500 = "renocrm.views.server_error"

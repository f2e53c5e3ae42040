"""From the site's root: the service worker (its address decides which pages it may control) and the web
app manifest."""

from django.urls import path

from worksites.views import offline

app_name = "offline"

urlpatterns = [
    path("service-worker.js", offline.service_worker, name="service-worker"),
    path("manifest.webmanifest", offline.manifest, name="manifest"),
]

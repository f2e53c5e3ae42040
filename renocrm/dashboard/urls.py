from django.urls import path

from . import agenda_views, receivable_views, report_views, search_views, views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("agenda/", agenda_views.agenda, name="agenda"),
    # A staff member's private calendar address (renocrm/accounts/calendar_feeds.py): no session needed.
    path("calendar/<slug:token>.ics", agenda_views.calendar_feed, name="calendar-feed"),
    path("search/", search_views.search_page, name="search"),
    path("reports/", report_views.reports, name="reports"),
    path("reports/<slug:key>/", report_views.report, name="report"),
    path("reports/<slug:key>/download.<slug:fmt>", report_views.report_download, name="report-download"),
    path("receivables/", receivable_views.receivables, name="receivables"),
    path("receivables/download.<slug:fmt>", receivable_views.receivables_download, name="receivables-download"),
    path("receivables/payments/", receivable_views.payments, name="payments"),
    path("receivables/payments/download.<slug:fmt>", receivable_views.payments_download, name="payments-download"),
]

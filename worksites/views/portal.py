"""Staff side of the homeowner portal: the worksite's links (create, send, revoke)."""

from django.urls import path

from renocrm.accounts.access import permission_required
from worksites.views import schedule

VIEW, MANAGE = "worksites.view", "worksites.manage"


@permission_required(VIEW)
def worksite_portal_links(request, pk):
    return schedule.worksite_detail(request, pk)  # until this part has its own page


urlpatterns = [path("<int:pk>/portal-links/", worksite_portal_links, name="portal-links")]

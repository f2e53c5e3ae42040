from django.urls import path

from renocrm.accounts.access import permission_required
from worksites.views import schedule

VIEW, MANAGE = "worksites.view", "worksites.manage"


@permission_required(VIEW)
def worksite_handover(request, pk):
    return schedule.worksite_detail(request, pk)  # until this part has its own page


urlpatterns = [path("<int:pk>/handover/", worksite_handover, name="handover")]

from django.urls import path

from .apis import AgendaView
from .search_apis import SearchView

urlpatterns = [
    path("agenda/", AgendaView.as_view(), name="agenda-api"),
    path("search/", SearchView.as_view(), name="search-api"),
]

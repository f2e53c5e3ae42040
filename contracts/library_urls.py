"""Pages of the item library and packages, in the contracts namespace (included by contracts/urls.py)."""

from django.urls import path

from . import library_views as views

urlpatterns = [
    path("price-items/", views.price_item_list, name="price-items"),
    path("price-items/new/", views.price_item_create, name="price-item-create"),
    path("price-items/import/", views.price_item_import, name="price-items-import"),
    path("price-items/export/", views.price_item_export, name="price-items-export"),
    path("price-items/suggest/", views.price_item_suggest, name="price-items-suggest"),
    path("price-items/<int:pk>/", views.price_item_detail, name="price-item"),
    path("price-items/<int:pk>/retire/", views.price_item_set_active, {"active": False}, name="price-item-retire"),
    path(
        "price-items/<int:pk>/reactivate/", views.price_item_set_active, {"active": True}, name="price-item-reactivate"
    ),
    path("packages/", views.package_list, name="packages"),
    path("packages/new/", views.package_create, name="package-create"),
    path("packages/<int:pk>/", views.package_detail, name="package"),
    path("packages/<int:pk>/retire/", views.package_set_active, {"active": False}, name="package-retire"),
    path("packages/<int:pk>/reactivate/", views.package_set_active, {"active": True}, name="package-reactivate"),
]

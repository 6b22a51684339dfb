from __future__ import annotations

from django.urls import path

from insights import views, views_datasets

urlpatterns = [
    path("tenants/<uuid:tenant_id>/usage/", views.tenant_usage, name="tenant_usage"),
    path("tenants/<uuid:tenant_id>/datasets/", views_datasets.tenant_datasets, name="tenant_datasets"),
    path("tenants/<uuid:tenant_id>/datasets/upload/", views_datasets.dataset_upload, name="dataset_upload"),
    path("tenants/<uuid:tenant_id>/datasets/delete/", views_datasets.dataset_delete, name="dataset_delete"),
    path(
        "tenants/<uuid:tenant_id>/datasets/source/", views_datasets.input_area_point, name="input_area_point"
    ),
]

from __future__ import annotations

from django.urls import path

from insights import views

urlpatterns = [
    path("tenants/<uuid:tenant_id>/usage/", views.tenant_usage, name="tenant_usage"),
]

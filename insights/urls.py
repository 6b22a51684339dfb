from __future__ import annotations

from django.urls import path

from insights import views, views_costs

urlpatterns = [
    path("tenants/<uuid:tenant_id>/usage/", views.tenant_usage, name="tenant_usage"),
    path(
        "deployments/<int:deployment_id>/cost-split/",
        views_costs.deployment_cost_rule,
        name="deployment_cost_rule",
    ),
]

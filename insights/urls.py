from __future__ import annotations

from django.urls import path

from insights import views, views_dashboard, views_datasets
from insights import views_cost_pages as costs
from insights import views_costs as cost_rules
from insights import views_finance as finance

urlpatterns = [
    path("tenants/<uuid:tenant_id>/usage/", views.tenant_usage, name="tenant_usage"),
    path("tenants/<uuid:tenant_id>/datasets/", views_datasets.tenant_datasets, name="tenant_datasets"),
    path("tenants/<uuid:tenant_id>/datasets/upload/", views_datasets.dataset_upload, name="dataset_upload"),
    path("tenants/<uuid:tenant_id>/datasets/delete/", views_datasets.dataset_delete, name="dataset_delete"),
    path(
        "tenants/<uuid:tenant_id>/datasets/source/", views_datasets.input_area_point, name="input_area_point"
    ),
    path("tenants/<uuid:tenant_id>/insights/", views_dashboard.insights_dashboard, name="insights_dashboard"),
    path(
        "tenants/<uuid:tenant_id>/insights/charts/<str:chart>.json",
        views_dashboard.insights_chart_data,
        name="insights_chart_data",
    ),
    path(
        "tenants/<uuid:tenant_id>/insights/runs/<int:run_id>/results.csv",
        views_dashboard.insights_run_csv,
        name="insights_run_csv",
    ),
    path(
        "tenants/<uuid:tenant_id>/insights/runs/<int:run_id>/reingest/",
        views_dashboard.insights_run_reingest,
        name="insights_run_reingest",
    ),
    path(
        "tenants/<uuid:tenant_id>/insights/settings/",
        views_dashboard.insights_settings,
        name="insights_settings",
    ),
    # Operators: how a shared deployment's cost is split (finance reads it).
    path(
        "deployments/<int:deployment_id>/cost-split/",
        cost_rules.deployment_cost_rule,
        name="deployment_cost_rule",
    ),
    # Finance and operators: every tenant's cost.
    path("costs/", costs.cost_overview, name="cost_overview"),
    path("costs/compared-with-aws/", costs.cost_compare, name="cost_compare"),
    path("costs/export.csv", costs.cost_export, name="cost_export"),
    path("costs/tenants/<uuid:tenant_id>/", costs.cost_tenant, name="cost_tenant"),
    path("costs/tenants/<uuid:tenant_id>/export.csv", costs.cost_tenant_export, name="cost_tenant_export"),
    path("costs/tenants/<uuid:tenant_id>/budget/", finance.cost_tenant_budget, name="cost_tenant_budget"),
    path("costs/tenants/<uuid:tenant_id>/sharing/", finance.cost_sharing, name="cost_sharing"),
    path(
        "costs/tenants/<uuid:tenant_id>/shared/<dbid:deployment_id>/",
        costs.cost_tenant_shared,
        name="cost_tenant_shared",
    ),
    path("costs/budgets/", finance.cost_budgets, name="cost_budgets"),
    path("costs/rates/", finance.cost_rates, name="cost_rates"),
    path("costs/notices/", finance.cost_notices, name="cost_notices"),
    # A tenant's admins: their own cost, once an operator shares it.
    path("tenants/<uuid:tenant_id>/costs/", costs.tenant_costs, name="tenant_costs"),
    path(
        "tenants/<uuid:tenant_id>/costs/shared/<dbid:deployment_id>/",
        costs.tenant_costs_shared,
        name="tenant_costs_shared",
    ),
    path(
        "tenants/<uuid:tenant_id>/costs/export.csv",
        costs.tenant_costs_export,
        name="tenant_costs_export",
    ),
]

from __future__ import annotations

from django.urls import path

from insights import views, views_costs, views_dashboard, views_datasets

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
    path(
        "deployments/<int:deployment_id>/cost-split/",
        views_costs.deployment_cost_rule,
        name="deployment_cost_rule",
    ),
]

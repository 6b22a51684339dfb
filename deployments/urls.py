from __future__ import annotations

from django.urls import path

from deployments import views, views_catalogue, views_isolation, views_offboarding, views_runs

urlpatterns = [
    path("deployments/", views.fleet, name="deployment_fleet"),
    path("deployments/new/", views.deployment_new, name="deployment_new"),
    path("deployments/<dbid:deployment_id>/", views.deployment_detail, name="deployment_detail"),
    path("deployments/<dbid:deployment_id>/live/", views.deployment_live, name="deployment_live"),
    path("deployments/<dbid:deployment_id>/edit/", views.deployment_edit, name="deployment_edit"),
    path("deployments/<dbid:deployment_id>/delete/", views.deployment_delete, name="deployment_delete"),
    path("deployments/<dbid:deployment_id>/retry/", views.deployment_retry, name="deployment_retry"),
    path("deployments/<dbid:deployment_id>/cancel/", views.deployment_cancel, name="deployment_cancel"),
    path(
        "deployments/<dbid:deployment_id>/removed/",
        views_offboarding.deployment_mark_removed,
        name="deployment_mark_removed",
    ),
    path("deployments/<dbid:deployment_id>/runs/", views.transform_run_start, name="transform_run_start"),
    path("deployments/<dbid:deployment_id>/members/", views.member_join, name="member_join"),
    path(
        "deployments/<dbid:deployment_id>/members/<uuid:tenant_id>/leave/",
        views.member_leave,
        name="member_leave",
    ),
    path(
        "deployments/<dbid:deployment_id>/members/<uuid:tenant_id>/model/",
        views.member_change,
        name="member_change",
    ),
    path(
        "tenants/<uuid:tenant_id>/isolation-check/",
        views_isolation.tenant_isolation_check,
        name="tenant_isolation_check",
    ),
    path(
        "tenants/<uuid:tenant_id>/datasets/runs/<int:run_id>/",
        views_runs.transform_run_detail,
        name="transform_run_detail",
    ),
    path(
        "tenants/<uuid:tenant_id>/datasets/runs/<int:run_id>/stop/",
        views_runs.transform_run_stop,
        name="transform_run_stop",
    ),
    path(
        "tenants/<uuid:tenant_id>/datasets/runs/<int:run_id>/retry/",
        views_runs.transform_run_retry,
        name="transform_run_retry",
    ),
    path(
        "tenants/<uuid:tenant_id>/datasets/run/<dbid:deployment_id>/",
        views_runs.transform_run_now,
        name="transform_run_now",
    ),
    path("models/", views_catalogue.model_packages, name="model_packages"),
    path("models/upload/", views_catalogue.model_package_upload, name="model_package_upload"),
    path("advisor/", views_catalogue.advisor, name="advisor"),
]

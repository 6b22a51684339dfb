from __future__ import annotations

from django.urls import path

from tenants import views, views_limits, views_notices, views_tokens, views_users

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("notices/", views_notices.notices, name="notices"),
    path("notices/read/", views_notices.notices_read, name="notices_read"),
    path("tenants/", views.tenant_list_view, name="tenant_list"),
    path("tenants/new/", views.tenant_onboard, name="tenant_onboard"),
    path("tenants/<uuid:tenant_id>/", views.tenant_detail, name="tenant_detail"),
    path("tenants/<uuid:tenant_id>/edit/", views.tenant_edit, name="tenant_edit"),
    path("tenants/<uuid:tenant_id>/suspend/", views.tenant_suspend, name="tenant_suspend"),
    path("tenants/<uuid:tenant_id>/resume/", views.tenant_resume, name="tenant_resume"),
    path("tenants/<uuid:tenant_id>/offboard/", views.tenant_offboard, name="tenant_offboard"),
    path("tenants/<uuid:tenant_id>/users/", views_users.tenant_users, name="tenant_users"),
    path(
        "tenants/<uuid:tenant_id>/users/<dbid:user_id>/remove/",
        views_users.tenant_user_remove,
        name="tenant_user_remove",
    ),
    path(
        "tenants/<uuid:tenant_id>/invitations/<uuid:invitation_id>/revoke/",
        views_users.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "tenants/<uuid:tenant_id>/invitations/<uuid:invitation_id>/renew/",
        views_users.invitation_renew,
        name="invitation_renew",
    ),
    path(
        "tenants/<uuid:tenant_id>/tokens/new/", views_tokens.tenant_token_create, name="tenant_token_create"
    ),
    path(
        "tenants/<uuid:tenant_id>/tokens/<int:token_id>/revoke/",
        views_tokens.tenant_token_revoke,
        name="tenant_token_revoke",
    ),
    path("invitations/<str:token>/", views_users.invitation_accept, name="invitation_accept"),
    path("audit/", views_users.audit_log, name="audit_log"),
    path("api-limits/", views_limits.rate_limits, name="rate_limits"),
]

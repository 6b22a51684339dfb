"""The URLconf. Every view is wrapped by tenants.access.requires or marked public (the access-matrix test
enumerates these patterns)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from saasadmin.converters import DatabaseIdConverter
from tenants.access import public, requires

register_converter(DatabaseIdConverter, "dbid")

urlpatterns = [
    path(
        "accounts/login/",
        public(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("accounts/logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path(
        "accounts/password/",
        requires("account")(auth_views.PasswordChangeView.as_view()),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        requires("account")(auth_views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    path("", include("tenants.urls")),
]

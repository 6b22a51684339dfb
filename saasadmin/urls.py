"""The URLconf. Every view is wrapped by tenants.access.requires or marked public (the access-matrix test
enumerates these patterns)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path, register_converter
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

from deployments.api import api as inference_api
from saasadmin.converters import DatabaseIdConverter
from saasadmin.queue_pages import queue_reachable
from saasadmin.rq_guard import rq_params_checked
from tenants import views as tenant_views
from tenants.access import public, requires

register_converter(DatabaseIdConverter, "dbid")

_operators_only = requires("deployments.manage")


def _rq_view(view: Any) -> Any:
    """A django-rq page: for operators only, a clear 503 page while Redis is not answering, and a 404 for
    a queue, job or worker that does not exist (checking those asks Redis, so the outage page comes first)."""
    return _operators_only(queue_reachable(rq_params_checked(view)))


# django-rq's JSON stats (its templates link to it); its API-token variant is left out: sessions only.
# rq-scheduler's page is left out: the project uses RQ's built-in scheduler, and that page needs the other.
_rq_pages = [p for p in get_admin_urlpatterns(view_wrapper=_rq_view) if p.name != "scheduler_jobs"]
_rq_api = [
    re_path(p.pattern.regex.pattern, _rq_view(p.callback), name=p.name)
    for p in get_api_urlpatterns()
    if p.name == "home_json" and "token" not in p.pattern.regex.pattern
]

urlpatterns = [
    # The tenant inference API: Bearer tokens, JSON errors (deployments.api). First: the resolver tries
    # patterns in order, and the API's calls are the ones whose every tenth of a millisecond counts.
    path("api/v1/", inference_api.urls),
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
    path("", include("deployments.urls")),
    path("", include("insights.urls")),
    # The django-rq dashboard, for operators only. Its templates link to "admin:index": that name
    # leads to the product's start page, as the Django admin site itself is not mounted.
    path("rq/", include(([*_rq_pages, *_rq_api], "django_rq"))),
    path("rq/home/", include(([path("", tenant_views.home, name="index")], "admin"))),
]

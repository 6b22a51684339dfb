"""Response headers for an admin console (CSP, Permissions-Policy, no caching of signed-in pages) and
the client address that django-axes keys its lockouts on, behind the documented proxy."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class SecurityHeadersMiddleware:
    """Adds CONTENT_SECURITY_POLICY and PERMISSIONS_POLICY to every response (Django 5.2 has no CSP of
    its own), and `Cache-Control: private, no-store` to every response for a signed-in user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        # Static files are answered before authentication runs: they keep their long-lived caching.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # A shared or back-button cache must not keep tenant data or operator pages.
            patch_cache_control(response, private=True, no_store=True)
        return response


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for django-axes (AXES_CLIENT_IP_CALLABLE).

    Without a proxy, REMOTE_ADDR. Behind the documented proxy (BEHIND_PROXY=1, PROXY_COUNT proxies in
    a row, each appending the address it saw to X-Forwarded-For), the entry the outermost trusted proxy
    appended: anything to its left was written by the client and proves nothing.
    """
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR")

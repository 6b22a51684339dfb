"""WSGI entry point for gunicorn: the inference API behind its own short middleware chain.

Pages for people need sessions, CSRF, authentication, messages, htmx and axes; the API (`/api/`) uses
none of them (a Bearer token, JSON errors), and running them cost about a fifth of the API's own time
per request (bench/gateway.py). So requests under API_PATH_PREFIX go to a second Django handler built
from settings.API_MIDDLEWARE, which keeps the security headers and the Host check; everything else goes
to the usual one. Both share the URLconf, settings and database connections.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saasadmin.settings")


class MiddlewareChainHandler(WSGIHandler):
    """A Django WSGI handler whose middleware is `middleware` instead of settings.MIDDLEWARE."""

    def __init__(self, middleware: list[str]) -> None:
        self.middleware_paths = middleware
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE; swap it for the build only (at start-up,
        # before any request, so no other thread reads it meanwhile).
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = self.middleware_paths
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class ApiDispatch:
    """Sends `/api/…` to the API's handler and every other path to the site's."""

    def __init__(self, site: Any, api: Any, prefix: str) -> None:
        self.site, self.api, self.prefix = site, api, prefix

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        handler = self.api if environ.get("PATH_INFO", "").startswith(self.prefix) else self.site
        return handler(environ, start_response)  # type: ignore[no-any-return]


def application_build() -> ApiDispatch:
    site = get_wsgi_application()  # sets Django up
    return ApiDispatch(site, MiddlewareChainHandler(settings.API_MIDDLEWARE), settings.API_PATH_PREFIX)


application = application_build()

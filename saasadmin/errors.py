"""Error pages in the product's layout, whatever DEBUG says.

With DEBUG on, Django answers a 404 with its technical page (every URL pattern of the project) instead of
templates/404.html; `make run` runs with DEBUG on, so a person trying the product would meet that page.
This middleware answers 404s with the product's page in DEBUG too. It also refuses a query string holding
a NUL character (400): no page needs one, and PostgreSQL refuses such text in a query (a 500).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

NUL = "\x00"


def not_found_page(request: HttpRequest) -> HttpResponse:
    """templates/404.html with the request's context (the signed-in user's sidebar), status 404."""
    return render(request, "404.html", status=404)


class ErrorPagesMiddleware:
    """The product's 404 page with DEBUG on, and a 400 for NUL in the query string.

    It sits after AuthenticationMiddleware and MessageMiddleware (404.html extends base.html, which shows
    the user's navigation) and inside CommonMiddleware, which still turns the 404 of a path that lacks its
    trailing slash into a redirect.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any(NUL in key or NUL in value for key, values in request.GET.lists() for value in values):
            raise BadRequest("The query string holds a NUL character.")
        if settings.DEBUG:
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404:
                return not_found_page(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view's Http404 (get_object_or_404, a missing tenant) with DEBUG on: the product's page."""
        if settings.DEBUG and isinstance(exception, Http404):
            return not_found_page(request)
        return None

"""The django-rq dashboard (/rq/) during a Redis outage: a page that says the queue is not reachable
(503, try again shortly) instead of a server error."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render

from saasadmin.redis_outage import REDIS_DOWN

log = logging.getLogger(__name__)


def queue_reachable(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Answer 503 with the queue-unreachable page when the view cannot reach Redis."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except REDIS_DOWN as exc:
            log.warning("%s: the queue is not reachable (%s)", request.path, exc)
            response = render(request, "queue_unreachable.html", status=503)
            response["Retry-After"] = "30"
            return response

    return wrapped

"""The signed-in user's notices (batch runs that finished or failed, budgets crossed): the list, and
marking them read."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from saasadmin.submissions import submit_once
from tenants.access import requires
from tenants.models import Notice
from tenants.notices import notices_mark_read

SHOWN = 50


@requires("account")
def notices(request: HttpRequest) -> HttpResponse:
    user: Any = request.user  # signed in: `requires` saw to it
    items = list(Notice.objects.filter(user=user).select_related("tenant")[:SHOWN])
    return render(request, "tenants/notices.html", {"notices": items})


@requires("account")
@require_POST
@submit_once
def notices_read(request: HttpRequest) -> HttpResponse:
    notices_mark_read(user=request.user)
    return redirect("notices")

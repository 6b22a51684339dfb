"""Template context: the navigation the signed-in user's role may use, and their unread notices."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from tenants.access import membership_of
from tenants.extensions import NAVIGATION
from tenants.notices import notices_unread
from tenants.roles import role_can


def navigation(request: HttpRequest) -> dict[str, Any]:
    membership = membership_of(getattr(request, "user", None))
    if membership is None:
        return {"nav_items": [], "membership": None, "notices_unread": 0}
    items: list[dict[str, Any]] = []
    for entry in NAVIGATION:
        if not role_can(membership.role, entry.capability):
            continue
        if entry.per_tenant:
            if membership.tenant_id is None:
                continue
            url = reverse(entry.url_name, kwargs={"tenant_id": membership.tenant_id})
        else:
            url = reverse(entry.url_name)
        items.append({"label": entry.label, "url": url, "active": False})
    # The deepest item whose URL prefixes the current path is the active one.
    matching = [item for item in items if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    unread = notices_unread(request.user)
    return {"nav_items": items, "membership": membership, "notices_unread": unread}

"""Template context: the navigation the signed-in user's role may use."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from tenants.access import membership_of
from tenants.roles import role_can

# (label, url name, capability, needs the user's own tenant id). Later issues append their pages.
NAVIGATION: list[tuple[str, str, str, bool]] = [
    ("Tenants", "tenant_list", "tenants.view_all", False),
    ("My organisation", "tenant_detail", "tenants.view", True),
    ("Users", "tenant_users", "tenant_users.manage", True),
    ("Audit log", "audit_log", "audit.view_all", False),
    ("Queues", "django_rq:home", "deployments.manage", False),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    membership = membership_of(getattr(request, "user", None))
    if membership is None:
        return {"nav_items": [], "membership": None}
    items: list[dict[str, Any]] = []
    for label, name, capability, per_tenant in NAVIGATION:
        if not role_can(membership.role, capability):
            continue
        if per_tenant:
            if membership.tenant_id is None:
                continue
            url = reverse(name, kwargs={"tenant_id": membership.tenant_id})
        else:
            url = reverse(name)
        items.append({"label": label, "url": url, "active": False})
    # The deepest item whose URL prefixes the current path is the active one.
    matching = [item for item in items if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    return {"nav_items": items, "membership": membership}

"""Recording and snapshotting audit events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models

from tenants.models import AuditEvent, Tenant


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The JSON-safe values of `fields` on `obj`, for an audit event's before/after."""
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, models.Model):
            value = str(value.pk)
        elif value is not None and not isinstance(value, str | int | float | bool | list | dict):
            value = str(value)
        values[name] = value
    return values


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    tenant: Tenant | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Store one audit event; `actor` may be None for work done by the system."""
    label = getattr(actor, "get_username", lambda: "system")() if actor is not None else "system"
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=label[:150],
        action=action,
        tenant=tenant,
        object_type=obj._meta.model_name or type(obj).__name__.lower(),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        before=before or {},
        after=after or {},
    )

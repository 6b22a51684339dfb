"""Telling people what happened: an in-app notice (the bell in the layout) and an email, once per event."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from tenants.models import Notice, Tenant
from tenants.roles import Role

log = logging.getLogger(__name__)


def notice_recipients(tenant: Tenant) -> QuerySet[Any]:
    """Who hears about a tenant's batch runs: its admins and the vendor's operators (active users)."""
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(membership__role=Role.OPERATOR) | users.filter(
        membership__role=Role.TENANT_ADMIN, membership__tenant=tenant
    )


def _notice_create(user: Any, **fields: Any) -> bool:
    try:
        with transaction.atomic():
            Notice.objects.create(user=user, **fields)
    except IntegrityError:
        return False  # told already (the event was delivered twice)
    return True


def notice_send(
    *, users: Iterable[Any], tenant: Tenant | None, key: str, level: str, title: str, body: str, url: str
) -> int:
    """Give each user a notice for the event `key` and email those who had none yet; returns how many
    were told now. A second delivery of the same event tells nobody twice."""
    told = 0
    for user in users:
        if not _notice_create(user, tenant=tenant, key=key, level=level, title=title, body=body, url=url):
            continue
        told += 1
        if user.email:
            link = f"{settings.SITE_URL.rstrip('/')}{url}" if url else ""
            try:
                send_mail(title, f"{body}\n\n{link}".strip(), None, [user.email])
            except OSError as exc:  # the notice stays; a mail server that is down does not undo it
                log.warning("could not email %s about %s: %s", user.email, key, exc)
    return told


_UNREAD_ATTR = "_saasadmin_unread_notices"


def remember_unread(user: Any, count: int) -> None:
    """Keep the unread count read with the user at the start of the request (the sign-in backend)."""
    setattr(user, _UNREAD_ATTR, count)


def notices_unread(user: Any) -> int:
    """The user's unread notices: as read with the user for this request, else counted now."""
    known = getattr(user, _UNREAD_ATTR, None)
    if known is not None:
        return int(known)
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


def notices_mark_read(*, user: Any) -> int:
    """Mark every notice of the user read; returns how many were unread."""
    remember_unread(user, 0)
    return Notice.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())

"""The sign-in backend: Django's `ModelBackend`, reading the signed-in user of each request with their
membership, its tenant and their unread-notice count in one query.

Every signed-in request reads its user (`AuthenticationMiddleware` → `get_user`); the role check, the
tenant scope and the layout's bell then read the membership and the unread count. Read together, they
are one round trip instead of three, and still read afresh on every request: a role change, a
suspension or a sign-out elsewhere takes effect on the next request of every process.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from tenants.access import remember_membership
from tenants.models import Notice
from tenants.notices import remember_unread

PATH = "tenants.auth_backend.MembershipBackend"


def _unread() -> Subquery:
    counted = (
        Notice.objects.filter(user=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .values("user")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Subquery(counted, output_field=IntegerField())


class MembershipBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user = (
            get_user_model()
            ._default_manager.select_related("membership__tenant")
            .annotate(unread_notices=Coalesce(_unread(), 0))
            .filter(pk=user_id)
            .first()
        )
        if user is None or not self.user_can_authenticate(user):
            return None
        try:
            membership = user.membership
        except ObjectDoesNotExist:  # a vendor superuser without a role
            membership = None
        remember_membership(user, membership)
        remember_unread(user, user.unread_notices)
        return user

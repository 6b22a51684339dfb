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
from django.db import connection
from django.db.models import IntegerField
from django.db.models.expressions import RawSQL

from tenants.access import remember_membership
from tenants.models import Notice
from tenants.notices import remember_unread

PATH = "tenants.auth_backend.MembershipBackend"


def _unread() -> RawSQL:
    """The user's unread notices as a correlated count. Written as SQL: the same Subquery through the ORM
    costs a millisecond of query building per request, more than the whole read."""
    quote = connection.ops.quote_name
    notice, user = quote(Notice._meta.db_table), quote(get_user_model()._meta.db_table)
    sql = (
        f"SELECT COUNT(*) FROM {notice} WHERE {notice}.{quote('user_id')} = {user}.{quote('id')} "  # noqa: S608
        f"AND {notice}.{quote('read_at')} IS NULL"
    )
    return RawSQL(sql, (), output_field=IntegerField())  # noqa: S611 - table names only, no input


class MembershipBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        found = (
            get_user_model()
            ._default_manager.select_related("membership__tenant")
            .annotate(unread_notices=_unread())
            .filter(pk=user_id)[:1]
        )
        user = next(iter(found), None)
        if user is None or not self.user_can_authenticate(user):
            return None
        try:
            membership = user.membership
        except ObjectDoesNotExist:  # a vendor superuser without a role
            membership = None
        remember_membership(user, membership)
        remember_unread(user, user.unread_notices)
        return user

"""The sign-in backend: Django's `ModelBackend`, reading the signed-in user of each request with their
membership, its tenant and their unread-notice count in one query.

Every signed-in request reads its user (`AuthenticationMiddleware` → `get_user`); the role check, the
tenant scope and the layout's bell then read the membership and the unread count. Read together they
are one round trip instead of three, and still read afresh on every request: a role change, a
suspension or a sign-out elsewhere takes effect on the next request of every process. The query is
`Prepared` (saasadmin/prepared.py): compiled once per process, as building it cost more than running it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import IntegerField, QuerySet
from django.db.models.expressions import RawSQL

from saasadmin.prepared import Prepared
from tenants.access import remember_membership
from tenants.models import Notice
from tenants.notices import remember_unread

PATH = "tenants.auth_backend.MembershipBackend"


def _unread() -> RawSQL:
    """The user's unread notices as a correlated count. Written as SQL: the same Subquery through the ORM
    costs more to build than the whole read."""
    quote = connection.ops.quote_name
    notice, user = quote(Notice._meta.db_table), quote(get_user_model()._meta.db_table)
    sql = (
        f"SELECT COUNT(*) FROM {notice} WHERE {notice}.{quote('user_id')} = {user}.{quote('id')} "  # noqa: S608
        f"AND {notice}.{quote('read_at')} IS NULL"
    )
    return RawSQL(sql, (), output_field=IntegerField())  # noqa: S611 - table names only, no input


def _user(user_id: int) -> QuerySet[Any]:
    return (
        get_user_model()
        ._default_manager.select_related("membership__tenant")
        .annotate(unread_notices=_unread())
        .filter(pk=user_id)
    )


_USER = Prepared(_user, user_id=int)


class MembershipBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        try:
            found = _USER(user_id=user_id)
        except (TypeError, ValueError, OverflowError):  # a session naming no valid user is no user
            return None
        user = found[0] if found else None
        if user is None or not self.user_can_authenticate(user):
            return None
        try:
            membership = user.membership
        except ObjectDoesNotExist:  # a vendor superuser without a role
            membership = None
        remember_membership(user, membership)
        remember_unread(user, user.unread_notices or 0)
        return user

"""The sign-in backend: Django's `ModelBackend`, reading the signed-in user of each request with their
membership, its tenant and their unread-notice count in one statement.

Every signed-in request reads its user (`AuthenticationMiddleware` → `get_user`); the role check, the
tenant scope and the layout's bell then read the membership and the unread count. Read together they
are one round trip instead of three, and still read afresh on every request: a role change, a
suspension or a sign-out elsewhere takes effect on the next request of every process.

The statement is written once per process from the three models' fields, and its rows go through the
same converters the ORM applies: building the same join through the ORM on every request cost more
than running it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connections, models, router

from tenants.access import remember_membership
from tenants.models import Membership, Notice, Tenant
from tenants.notices import remember_unread

PATH = "tenants.auth_backend.MembershipBackend"


@dataclass(frozen=True)
class _Read:
    sql: str
    parts: tuple[tuple[type[models.Model], list[models.Field]], ...]  # (model, fields) in column order
    compiler: Any  # applies the database's converters to a row, as the ORM does
    converters: dict[int, Any]


@functools.cache
def _read(alias: str) -> _Read:
    """The user ⟕ membership ⟕ tenant statement for database `alias`, with its converters."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    user_model = get_user_model()
    parts = tuple((model, list(model._meta.concrete_fields)) for model in (user_model, Membership, Tenant))
    aliases = ("u", "m", "t")
    columns = ", ".join(
        f"{alias_}.{quote(str(field.column))}"
        for (_, fields), alias_ in zip(parts, aliases, strict=True)
        for field in fields
    )
    user_pk, membership_user = (
        quote(str(user_model._meta.pk.column)),
        quote(str(Membership.user.field.column)),
    )
    membership_tenant, tenant_pk = (
        quote(str(Membership.tenant.field.column)),
        quote(str(Tenant._meta.pk.column)),
    )
    notice, notice_user = quote(Notice._meta.db_table), quote(str(Notice.user.field.column))
    sql = (
        f"SELECT {columns}, (SELECT COUNT(*) FROM {notice} n WHERE n.{notice_user} = u.{user_pk} "  # noqa: S608
        f"AND n.{quote('read_at')} IS NULL) "
        f"FROM {quote(user_model._meta.db_table)} u "
        f"LEFT JOIN {quote(Membership._meta.db_table)} m ON m.{membership_user} = u.{user_pk} "
        f"LEFT JOIN {quote(Tenant._meta.db_table)} t ON t.{tenant_pk} = m.{membership_tenant} "
        f"WHERE u.{user_pk} = %s"
    )
    compiler = user_model._default_manager.using(alias).none().query.get_compiler(alias)
    expressions = [field.get_col(model._meta.db_table) for model, fields in parts for field in fields]
    return _Read(sql, parts, compiler, compiler.get_converters(expressions))


def _instances(alias: str, read: _Read, row: tuple[Any, ...]) -> list[Any]:
    """The row's user, membership and tenant (None where the outer join found none)."""
    if read.converters:
        row = next(iter(read.compiler.apply_converters([list(row)], read.converters)))
    found: list[Any] = []
    start = 0
    for model, fields in read.parts:
        values = row[start : start + len(fields)]
        start += len(fields)
        pk_value = values[fields.index(model._meta.pk)]
        found.append(None if pk_value is None else model.from_db(alias, [f.attname for f in fields], values))
    return found


class MembershipBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        alias = router.db_for_read(user_model)
        read = _read(alias)
        try:
            user_id = user_model._meta.pk.to_python(user_id)
        except ValidationError:  # a session naming no valid user is no user
            return None
        with connections[alias].cursor() as cursor:
            cursor.execute(read.sql, [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user, membership, tenant = _instances(alias, read, tuple(row[:-1]))
        if user is None or not self.user_can_authenticate(user):
            return None
        if membership is not None:
            Membership.tenant.field.set_cached_value(membership, tenant)
            Membership.user.field.set_cached_value(membership, user)
        remember_membership(user, membership)
        remember_unread(user, int(row[-1] or 0))
        return user

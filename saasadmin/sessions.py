"""Django's database sessions, read with a statement written once.

Every signed-in request loads its session before anything else. The ORM's `Session.objects.get(...)`
builds the same query anew each time, which costs more than the query itself; here it is one
statement on a cursor. Writes, expiry, `clearsessions` and sign-out stay Django's: only the read is
replaced, and it reads the same row with the same rule (unexpired, by key).
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        model = self.model
        alias = router.db_for_read(model)
        connection = connections[alias]
        quote = connection.ops.quote_name
        sql = (
            f"SELECT {quote('session_data')} FROM {quote(model._meta.db_table)} "  # noqa: S608 - names only
            f"WHERE {quote('session_key')} = %s AND {quote('expire_date')} > %s"
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=self.session_key or "", session_data=row[0])

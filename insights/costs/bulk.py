"""Writing a day's allocation lines fast: PostgreSQL's COPY, or one executemany on SQLite.

Django's bulk_create prepares every value of every row through its fields (about half the time of a
2,000-tenant day); these rows hold only plain values (ids, dates, Decimals, strings, booleans), which the
database drivers take as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.db import connection, models


def _value(value: Any, vendor: str) -> Any:
    if isinstance(value, UUID) and vendor != "postgresql":
        return value.hex  # Django keeps UUIDs as 32 hex characters outside PostgreSQL
    return value


def rows_insert(
    model: type[models.Model], objects: Sequence[models.Model], *, with_ids: bool = False
) -> None:
    """Insert `objects` (unsaved) without reading anything back; `with_ids` gives each its primary key
    first (what other rows then refer to): from the table's sequence on PostgreSQL, else by bulk_create."""
    if not objects:
        return
    if with_ids and connection.vendor != "postgresql":
        model._default_manager.bulk_create(objects, batch_size=2000)
        return
    if with_ids:
        _ids_take(model, objects)
    fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
    vendor = connection.vendor
    rows = [tuple(_value(getattr(obj, f.attname), vendor) for f in fields) for obj in objects]
    quote = connection.ops.quote_name
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column or f.attname) for f in fields)
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608


def _ids_take(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """Draw one id per object from the table's sequence (PostgreSQL), as an insert would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, len(objects)],
        )
        for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = pk

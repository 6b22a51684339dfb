"""URL converters that never hand the database a value it cannot store."""

from __future__ import annotations


class DatabaseIdConverter:
    """A positive integer that fits a 64-bit primary key; anything larger does not match (404)."""

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)

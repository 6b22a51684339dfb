"""Small presentation helpers: money, long values, sortable column links, query strings keeping filters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import template
from django.utils.html import format_html

from tenants.formatting import money_text

register = template.Library()


@register.filter
def money(value: Decimal | float | int | None, currency: str = "USD") -> str:
    """`1234.5, "USD"` → `$1,234.50`: every price in a template goes through here (tenants.formatting)."""
    return money_text(value, currency)


@register.filter
def clip(value: Any) -> str:
    """A long value cut to its column with an ellipsis (CSS `.clip`), the whole of it on hover."""
    text = "" if value is None else str(value)
    return format_html('<span class="clip" title="{}">{}</span>', text, text)


@register.filter
def or_dash(value: Any) -> Any:
    """`—` for a missing value, but a value of 0 (a minimum of zero instances) shows as 0."""
    return "—" if value is None or value == "" else value


@register.filter
def get_item(mapping: dict[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key, 0)


@register.simple_tag
def query_with(params: dict[str, Any], **changes: Any) -> str:
    """The current filters as a query string, with `changes` applied and blanks dropped."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in ("", None)})


@register.simple_tag
def sort_link(key: str, label: str, params: dict[str, Any]) -> str:
    """A column header that sorts by `key`, toggling direction, with an arrow on the active column."""
    current = params.get("sort", "")
    descending = current == f"-{key}"
    active = current in (key, f"-{key}")
    target = key if descending or not active else f"-{key}"
    arrow = (" ↓" if descending else " ↑") if active else ""
    return format_html('<a href="?{}">{}{}</a>', query_with(params, sort=target, page=""), label, arrow)

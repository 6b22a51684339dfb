"""How the finance pages' audit events read (registered from InsightsConfig.ready)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenants.audit_text import AuditField, AuditPhrase
from tenants.formatting import money_text


def _yes_no(value: Any, _snapshot: Mapping[str, Any]) -> str:
    return "yes" if value else "no"


def _dollars(value: Any, _snapshot: Mapping[str, Any]) -> str:
    return money_text(value)


PHRASES: dict[str, AuditPhrase] = {
    "budget.set": AuditPhrase(("{actor} set the {object} to {monthly} a month.",)),
    "budget.remove": AuditPhrase(("{actor} removed the {object}.",)),
    "exchange_rate.add": AuditPhrase(
        ("{actor} added the exchange rate 1 {currency} = {usd} USD from {valid_from}.",)
    ),
    "cost_sharing.set": AuditPhrase(
        ("{actor} changed whether {tenant}'s admins see its cost: {change_list}.",)
    ),
}
FIELDS: dict[str, AuditField] = {
    "monthly": AuditField("monthly budget", text=_dollars),
    "visible": AuditField("cost shown to its admins", text=_yes_no),
    "usd": AuditField("US dollars per unit"),
    "valid_from": AuditField("valid from"),
    "source": AuditField("source"),
}

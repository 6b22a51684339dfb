"""How the cost side's audit events read (registered with tenants.audit_text from InsightsConfig.ready)."""

from __future__ import annotations

from insights.models_costs import IdlePolicy, SplitBasis
from tenants.audit_text import AuditField, AuditPhrase, choice_text

PHRASES: dict[str, AuditPhrase] = {
    "deployment.cost_rule": AuditPhrase(
        ("{actor} changed how the cost of {object} is split: {change_list}.",)
    ),
}


def fields() -> dict[str, AuditField]:
    return {
        "basis": AuditField("split", text=choice_text(SplitBasis, lower=True)),
        "idle_policy": AuditField("idle share", text=choice_text(IdlePolicy, lower=True)),
        "weights": AuditField("weights", internal=True),
    }

"""How insights' audit events read (registered with tenants.audit_text from InsightsConfig.ready)."""

from __future__ import annotations

from tenants.audit_text import AuditField, AuditPhrase

PHRASES: dict[str, AuditPhrase] = {
    "insights.settings_update": AuditPhrase(("{actor} changed the dashboard's {change_list}.",)),
    "insights.run_reingest": AuditPhrase(("{actor} asked for run {run} to be loaded again.",)),
}
FIELDS: dict[str, AuditField] = {
    "threshold": AuditField("flagging threshold"),
    "column_names": AuditField("input column names"),
    "run": AuditField("run"),
}

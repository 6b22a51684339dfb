"""How deployments' audit events read (registered with tenants.audit_text from DeploymentsConfig.ready).

Settings, TargetModel paths and S3 URIs are AWS internals: operators read them, tenant members read
that "the infrastructure settings" changed. The kind and the model package are the tenant's own business.
"""

from __future__ import annotations

import re

from deployments.models import Kind, ModelPackage
from deployments.rules import KIND_RULES
from tenants.audit_text import AuditField, AuditPhrase, choice_text

PHRASES: dict[str, AuditPhrase] = {
    "tenant.isolation_check": AuditPhrase(("{actor} ran the isolation check on {object}: {outcome}.",)),
    "deployment.create": AuditPhrase(("{actor} created the {kind} {object}.",), details=True),
    "deployment.update": AuditPhrase(("{actor} changed {changes}.",)),
    "deployment.member_join": AuditPhrase(
        (
            "{actor} added {tenant} to the shared {object} (target {target}).",
            "{actor} added {tenant} to the shared {object}.",
        )
    ),
    "deployment.member_change": AuditPhrase(
        ("{actor} changed how {tenant} is served by {object}: {change_list}.",)
    ),
    "deployment.member_leave": AuditPhrase(
        (
            "{actor} took {tenant} off the shared {object} (target {target}).",
            "{actor} took {tenant} off the shared {object}.",
        )
    ),
    "deployment.delete": AuditPhrase(("{actor} deleted the deployment {object}.",)),
    "deployment.retry": AuditPhrase(("{actor} retried the failed deployment {object}.",)),
    "deployment.mark_removed": AuditPhrase(
        (
            "{actor} marked the deployment {object} as removed by hand, after its delete failed: {reason}",
            "{actor} marked the deployment {object} as removed by hand, after its delete failed.",
        ),
        details=True,
    ),
    "model_package.upload": AuditPhrase(
        (
            "{actor} uploaded the model package {object} to {uri}.",
            "{actor} uploaded the model package {object}.",
        )
    ),
    "model_package.register": AuditPhrase(
        (
            "{actor} registered the model package {object} at {uri}.",
            "{actor} registered the model package {object}.",
        )
    ),
    "transform_run.start": AuditPhrase(("{actor} started {object} of {deployment} now.",)),
    "transform_run.stop": AuditPhrase(("{actor} stopped {object} of {deployment}.",)),
    "transform_run.retry": AuditPhrase(
        ("{actor} ran the {files} failed files of {retried} again as {object}.",)
    ),
    "dataset.upload": AuditPhrase(
        (
            "{actor} uploaded {object} ({rows} rows) to the input area of {tenant}.",
            "{actor} uploaded {object} to the input area of {tenant}.",
        )
    ),
    "dataset.delete": AuditPhrase(("{actor} deleted {object} from the input area of {tenant}.",)),
    "input_area.point": AuditPhrase(
        (
            "{actor} pointed the input area of {tenant} at {uri}.",
            "{actor} pointed the input area of {tenant} at another S3 prefix.",
        )
    ),
}


def _package_names(ids: set[str]) -> dict[str, str]:
    """Model package ids → their names, in one query."""
    wanted = [int(pk) for pk in ids if pk.isdigit()]
    return {
        str(package.pk): str(package)
        for package in ModelPackage.objects.filter(pk__in=wanted).select_related("tenant")
    }


def setting_label(label: str) -> str:
    """A settings field's label inside a sentence: "Instance count" → "instance count"; AWS parameter
    names ("MaxPayloadInMB") and acronyms ("S3 output path") stay as they are; explanations in brackets go."""
    label = re.sub(r"\s*\([^)]*\s[^)]*\)", "", label)
    return label[:1].lower() + label[1:] if re.match(r"[A-Z][a-z]+( |$)", label) else label


def fields() -> dict[str, AuditField]:
    """The fields deployments record: kind, model package, target, S3 URI, and every kind's settings."""
    described = {
        "kind": AuditField("kind", text=choice_text(Kind, lower=True)),
        "model_package": AuditField("model package", lookup=_package_names),
        "target": AuditField("target", internal=True),
        "uri": AuditField("S3 location", internal=True),
        "outcome": AuditField("outcome"),
        "attempts": AuditField("attempts", internal=True),
        "deployment": AuditField("deployment"),
        "files": AuditField("files"),
        "retried": AuditField("retried run"),
        "rows": AuditField("rows"),
    }
    for rule in KIND_RULES.values():
        for setting in rule.settings:
            described[f"settings.{setting.name}"] = AuditField(setting_label(setting.label), internal=True)
    return described

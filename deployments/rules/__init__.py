"""The deployment rules: THE table of kinds (`deployments.rules.table`, DESIGN.md's rules table) and the
checks against it.

Forms, services and the advisor all read `KIND_RULES` and call the checks below, so a rule is written
once. Every refusal says why and what to choose instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deployments.aws.service_model import string_rule
from deployments.catalogue import instance_problem
from deployments.models import Kind
from deployments.rules.table import (
    ALL_ISOLATIONS,
    BATCH_PAYLOAD_PRODUCT_MB,
    BRIDGE,
    DEFAULT_KINDS,
    INSTANCE,
    KIND_RULES,
    LATENCIES,
    MAX_CONTAINERS,
    MIN_CONTAINERS,
    PATTERN_EXAMPLES,
    POOL,
    RECORDIO,
    RECORDIO_PROTOBUF,
    SHARED,
    SILO,
    WEEKDAYS,
    KindRule,
    Setting,
    timezone_names,
)
from tenants.formatting import number_text
from tenants.models import Isolation

# The table's names, read from here by forms, services, the advisor and the tests.
__all__ = [
    "ALL_ISOLATIONS", "BRIDGE", "DEFAULT_KINDS", "INSTANCE", "INSTANCE_USES", "KIND_RULES", "LATENCIES",
    "MAX_CONTAINERS", "MIN_CONTAINERS", "PATTERN_EXAMPLES", "POOL", "SHARED", "SILO", "WEEKDAYS",
    "KindRule", "RuleError", "Setting", "containers_problem", "is_shared", "isolation_problem",
    "kinds_for", "member_problem", "model_problem", "pattern_problem", "payload_problem", "rule_for",
    "settings_normalise", "settings_problems", "timeout_text",
]  # fmt: skip


class RuleError(Exception):
    """Invalid combinations: `problems` maps a field (or "" for the whole) to messages that say why."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for msgs in problems.values() for m in msgs))
        self.problems = problems


def rule_for(kind: str) -> KindRule:
    return KIND_RULES[kind]


def timeout_text(rule: KindRule) -> str:
    """How long one request may take, as AWS applies it: fixed, or up to a maximum set per job/request."""
    if rule.timeout_default is None:
        return f"{rule.timeout_seconds} s per request"
    return (
        f"up to {rule.timeout_seconds} s per request ({rule.timeout_parameter}, "
        f"{rule.timeout_default} s by default)"
    )


def is_shared(kind: str, isolation: str) -> bool:
    """Whether a deployment of `kind` under `isolation` is one endpoint shared by member tenants."""
    return isolation in KIND_RULES[kind].shared_in


def kinds_for(isolation: str) -> list[KindRule]:
    """The kinds allowed under an isolation model, in the table's order."""
    return [rule for rule in KIND_RULES.values() if isolation in rule.isolations]


def _label(kind: str) -> str:
    return Kind(kind).label.lower()


def isolation_problem(kind: str, isolation: str) -> str | None:
    """Why `kind` cannot run under `isolation`, naming the kinds that can; None when it can."""
    rule = KIND_RULES[kind]
    if isolation in rule.isolations:
        return None
    allowed = ", ".join(_label(r.kind) for r in kinds_for(isolation))
    where = " or ".join(Isolation(i).label for i in sorted(rule.isolations))
    return (
        f"A {_label(kind)} runs only in {where}: {rule.why_isolation}. "
        f"For a {Isolation(isolation).label} tenant choose {allowed}."
    )


def payload_problem(kind: str, payload_mb: float) -> str | None:
    """Why a payload of `payload_mb` is too large for `kind`, and which kind takes it."""
    limit = KIND_RULES[kind].max_payload_mb
    if payload_mb <= limit:
        return None
    instead = "an asynchronous endpoint (up to 1 GB through S3)"
    if payload_mb > KIND_RULES[Kind.ASYNC].max_payload_mb:
        instead = "batch transform over files split by line (SplitType=Line)"
    article = "an" if _label(kind)[0] in "aeiou" else "a"
    return (
        f"Payloads of {number_text(payload_mb)} MB exceed the {number_text(limit)} MB limit of {article} "
        f"{_label(kind)}: use {instead}."
    )


def pattern_problem(spec: Setting, value: Any) -> str | None:
    """Why `value` breaks the pattern or length AWS checks `spec`'s shape against, saying what fits."""
    rule = string_rule(spec.pattern_shape)
    if isinstance(value, str) and rule.matches(value):
        return None
    what, like = PATTERN_EXAMPLES.get(spec.pattern_shape, ("a value", ""))
    example = f"{what} such as {like}" if like else what
    longest = f", up to {rule.max_length} characters" if rule.max_length else ""
    text = str(value)
    shown = text if len(text) <= 80 else f"{text[:77]}…"
    return (
        f"{spec.label} must be {example} (AWS accepts values matching {rule.pattern}{longest}); "
        f"got “{shown}”."
    )


def _setting_problem(spec: Setting, value: Any) -> str | None:
    if value in (None, ""):
        return f"{spec.label} is required." if spec.required and spec.type is not str else None
    if spec.pattern_shape:
        return pattern_problem(spec, value)
    if spec.type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{spec.label} must be a whole number."
        too_low = spec.minimum is not None and value < spec.minimum
        if too_low or (spec.maximum is not None and value > spec.maximum):
            if spec.maximum is None:
                return f"{spec.label} must be at least {spec.minimum} (got {value})."
            return f"{spec.label} must be between {spec.minimum} and {spec.maximum} (got {value})."
        if spec.step and (value - (spec.minimum or 0)) % spec.step:
            steps = ", ".join(str(v) for v in range(spec.minimum or 0, (spec.maximum or 0) + 1, spec.step))
            return f"{spec.label} must be one of {steps} (got {value})."
    elif spec.choices and value not in spec.choices:
        return f"{spec.label} must be one of {', '.join(spec.choices)} (got {value})."
    return None


def settings_normalise(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The kind's settings with defaults filled in and unknown keys dropped."""
    values = {}
    for spec in KIND_RULES[kind].settings:
        value = settings.get(spec.name)
        values[spec.name] = spec.default if value in (None, "") and spec.default is not None else value
    return values


JSON_OR_CSV = ("text/csv", "application/json", "application/jsonlines")


def _batch_problems(settings: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    product = settings["max_payload_mb"] * settings["max_concurrent_transforms"]
    if product > BATCH_PAYLOAD_PRODUCT_MB:
        most = BATCH_PAYLOAD_PRODUCT_MB // max(settings["max_payload_mb"], 1)
        found.append((
            "max_concurrent_transforms",
            f"MaxConcurrentTransforms × MaxPayloadInMB is {product} MB, above the 100 MB limit: "
            f"lower MaxConcurrentTransforms to {most} or MaxPayloadInMB.",
        ))  # fmt: skip
    if settings["join_source"] == "Input" and settings["content_type"] not in JSON_OR_CSV:
        found.append(
            ("join_source", "JoinSource=Input works only for CSV and JSON input: use None, or send CSV/JSON.")
        )
    if settings["schedule_timezone"] not in timezone_names():
        found.append((
            "schedule_timezone",
            f"“{settings['schedule_timezone']}” is not a time zone: use a name such as Europe/Paris, "
            "America/New_York or UTC.",
        ))  # fmt: skip
    return found + _recordio_problems(settings)


def _recordio_problems(settings: dict[str, Any]) -> list[tuple[str, str]]:
    # Binary RecordIO-protobuf input splits only at RecordIO record boundaries (a line split would cut
    # records), and a RecordIO split finds no such boundaries in text input.
    protobuf = settings["content_type"] == RECORDIO_PROTOBUF
    if settings["split_type"] == RECORDIO and not protobuf:
        return [(
            "split_type",
            f"SplitType=RecordIO splits {RECORDIO_PROTOBUF} input only: for {settings['content_type']} "
            "choose SplitType Line or None, or send RecordIO-protobuf.",
        )]  # fmt: skip
    if protobuf and settings["split_type"] not in (RECORDIO, "None"):
        return [(
            "split_type",
            f"{RECORDIO_PROTOBUF} input is split at RecordIO records, not lines: choose SplitType RecordIO "
            "(or None to send each file whole).",
        )]  # fmt: skip
    return []


def _async_problems(settings: dict[str, Any]) -> list[tuple[str, str]]:
    if settings["min_capacity"] > settings["max_capacity"]:
        return [("min_capacity", "The autoscaling minimum cannot exceed the maximum.")]
    return []


# Checks across fields, run once every field is valid on its own.
CROSS_CHECKS: dict[str, Callable[[dict[str, Any]], list[tuple[str, str]]]] = {
    Kind.BATCH: _batch_problems,
    Kind.ASYNC: _async_problems,
}


# The use whose instance types (deployments.catalogue.offered) each instance-based kind runs on.
INSTANCE_USES: dict[str, str] = {
    Kind.BATCH: "transform",
    Kind.REALTIME: "realtime",
    Kind.ASYNC: "async",
    Kind.MULTI_MODEL: "multi_model",
    Kind.MULTI_CONTAINER: "realtime",
}


def settings_problems(kind: str, settings: dict[str, Any]) -> dict[str, list[str]]:
    """Field → messages for settings that break the kind's limits (after `settings_normalise`)."""
    problems: dict[str, list[str]] = {}
    for spec in KIND_RULES[kind].settings:
        message = _setting_problem(spec, settings.get(spec.name))
        if message:
            problems[spec.name] = [message]
    if settings.get("payload_mb") is not None and "payload_mb" not in problems:
        message = payload_problem(kind, settings["payload_mb"])
        if message:
            problems["payload_mb"] = [message]
    if kind in INSTANCE_USES and "instance_type" not in problems:
        message = instance_problem(INSTANCE_USES[kind], settings.get("instance_type") or "")
        if message:
            problems["instance_type"] = [message]
    if kind in CROSS_CHECKS and not problems:
        for name, message in CROSS_CHECKS[kind](settings):
            problems.setdefault(name, []).append(message)
    return problems


def model_problem(kind: str, isolation: str, *, has_model: bool, model_is_shared: bool) -> str | None:
    """Why the deployment's own model choice does not fit the kind (members bring theirs separately)."""
    rule = KIND_RULES[kind]
    if is_shared(kind, isolation):
        if rule.per_tenant_model == "required":
            return None  # each member brings its own model when it joins
        if not has_model or not model_is_shared:
            return (
                f"A {Isolation(isolation).label} {_label(kind)} serves one shared model to all its tenants: "
                "choose a shared model package (or a multi-model endpoint for per-tenant models)."
            )
        return None
    if not has_model:
        return f"A {_label(kind)} needs a model package: upload one or choose a shared one."
    return None


def member_problem(
    kind: str,
    isolation: str,
    *,
    tenant_isolation: str,
    member_images: list[str],
    new_image: str | None,
    new_model_is_own: bool,
) -> str | None:
    """Why a tenant cannot join a shared deployment (isolation, one image, ≤ 15 containers, own model)."""
    rule = KIND_RULES[kind]
    if not is_shared(kind, isolation):
        return (
            f"A {Isolation(isolation).label} {_label(kind)} is one tenant's own endpoint: nobody can join it."
        )
    if tenant_isolation != isolation:
        return (
            f"The tenant is {Isolation(tenant_isolation).label}: it can join only "
            f"{Isolation(tenant_isolation).label} deployments (or move the tenant first)."
        )
    if rule.per_tenant_model == "required" and (new_image is None or not new_model_is_own):
        return (
            f"Each tenant of a {_label(kind)} brings its own model: upload the tenant's model package first."
        )
    if kind == Kind.MULTI_MODEL and member_images and new_image not in member_images:
        return (
            "A multi-model endpoint runs one container image for all its models; this model needs "
            f"{new_image}, the endpoint runs {member_images[0]}: use a multi-container endpoint instead."
        )
    if rule.max_members is not None and len(member_images) + 1 > rule.max_members:
        return (
            f"A multi-container endpoint holds at most {rule.max_members} containers and this one is full: "
            "create another multi-container endpoint, or a multi-model endpoint if they share one image."
        )
    return None


def containers_problem(kind: str, count: int) -> str | None:
    """Why a multi-container endpoint cannot start with `count` tenants' containers (it needs two)."""
    if kind != Kind.MULTI_CONTAINER or count >= MIN_CONTAINERS:
        return None
    return (
        f"A multi-container endpoint runs {MIN_CONTAINERS} to {MAX_CONTAINERS} containers, one per tenant: "
        "choose at least two tenants, or serve a single tenant with a real-time endpoint of its own."
    )

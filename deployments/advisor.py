"""The advisor: a tenant's (or a fleet's) needs in, the valid kinds ranked by monthly cost out, with reasons.

It reads the same table as validation (`deployments.rules.KIND_RULES`) and prices from the catalogue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from deployments import pricing
from deployments.catalogue import instance_problem
from deployments.models import Kind
from deployments.rules import (
    INSTANCE_USES,
    KIND_RULES,
    MAX_CONTAINERS,
    KindRule,
    containers_problem,
    isolation_problem,
    payload_problem,
    timeout_text,
)
from tenants.models import Isolation

ACTIVE_HOURS_PER_DAY = {"steady": 24.0, "spiky": 12.0, "idle": 4.0}


@dataclass(frozen=True)
class Needs:
    """What the tenants need; `tenants` > 1 asks how to serve that many tenants alike."""

    latency: str = "milliseconds"  # periodic | minutes | milliseconds
    payload_mb: float = 0.1
    requests_per_day: float = 10_000
    peak_rps: float = 1.0
    traffic: str = "steady"  # steady | spiky | idle
    tenants: int = 1
    own_model: bool = True
    same_container: bool = True
    cold_starts_ok: bool = False
    inference_ms: float = 100
    isolation: str | None = None  # restrict to one isolation model, or None for any
    instance_type: str = "ml.m5.large"
    run_minutes: int = 15


@dataclass
class Advice:
    """One kind's verdict: valid or not, its estimated monthly cost for all tenants, and why."""

    kind: str
    isolation: str
    valid: bool
    monthly: Decimal = Decimal("0")
    per_tenant: Decimal = Decimal("0")
    endpoints: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return Kind(self.kind).label


def _a(label: str) -> str:
    return ("an " if label[0].lower() in "aeiou" else "a ") + label.lower()


def _refusal(rule: KindRule, isolation: str, needs: Needs) -> str | None:
    kind = rule.kind
    problem = (
        isolation_problem(kind, isolation)
        or payload_problem(kind, needs.payload_mb)
        or containers_problem(kind, needs.tenants)
    )
    if problem:
        return problem
    if needs.latency not in rule.latencies:
        return f"Answers in {needs.latency} are not what {_a(kind.label)} gives."
    if rule.cold_starts and not needs.cold_starts_ok:
        return f"{_a(kind.label).capitalize()} has cold starts, which these tenants do not tolerate."
    if rule.per_tenant_model == "required" and not needs.own_model:
        return (
            "With one shared model, a per-tenant-model endpoint adds nothing: use a Pool real-time endpoint."
        )
    if kind == Kind.MULTI_MODEL and not needs.same_container:
        return "A multi-model endpoint needs one container image for all models; these differ."
    if kind == Kind.REALTIME and isolation == Isolation.POOL and needs.own_model:
        return "A Pool real-time endpoint serves one shared model; these tenants have their own."
    if kind in INSTANCE_USES:
        return instance_problem(INSTANCE_USES[kind], needs.instance_type)
    return None


def _per_tenant_costs(rule: KindRule, needs: Needs) -> tuple[Decimal, str]:
    kind, instance = rule.kind, needs.instance_type
    use = INSTANCE_USES.get(kind, "")
    if kind == Kind.SERVERLESS:
        estimate = pricing.serverless_monthly(
            2048, needs.requests_per_day, needs.inference_ms, needs.payload_mb * 1024
        )
        return estimate.monthly, f"pay per use: {estimate.basis}"
    if kind == Kind.BATCH:
        hours = pricing.RUNS_PER_MONTH["daily"] * needs.run_minutes / 60
        estimate = pricing.instances_monthly(instance, 1, use, hours)
        return estimate.monthly, f"a daily {needs.run_minutes}-minute job: {estimate.basis}"
    count = pricing.instances_for_load(instance, needs.peak_rps, needs.inference_ms)
    if kind == Kind.ASYNC:
        busy = needs.requests_per_day * needs.inference_ms / 1000 / 3600 / count
        hours = min(pricing.hours_per_month(), 30.4 * max(ACTIVE_HOURS_PER_DAY[needs.traffic], busy))
        estimate = pricing.instances_monthly(instance, count, use, hours)
        return estimate.monthly, f"scales to 0 between bursts ({needs.traffic}): {estimate.basis}"
    estimate = pricing.instances_monthly(instance, count, use)
    return estimate.monthly, f"always on: {estimate.basis}"


def _shared_costs(rule: KindRule, needs: Needs) -> tuple[Decimal, int, str]:
    """One endpoint (or one per 15 tenants for multi-container) sized for every tenant's peak at once."""
    groups = math.ceil(needs.tenants / MAX_CONTAINERS) if rule.kind == Kind.MULTI_CONTAINER else 1
    tenants_per_group = math.ceil(needs.tenants / groups)
    count = pricing.instances_for_load(
        needs.instance_type, needs.peak_rps * tenants_per_group, needs.inference_ms
    )
    estimate = pricing.instances_monthly(needs.instance_type, count * groups, INSTANCE_USES[rule.kind])
    per_group = f"{groups} endpoints of ≤ {MAX_CONTAINERS} containers" if groups > 1 else "one endpoint"
    return estimate.monthly, groups, f"{per_group} for {needs.tenants} tenants: {estimate.basis}"


def _advise_one(rule: KindRule, isolation: str, needs: Needs) -> Advice:
    advice = Advice(rule.kind, isolation, valid=False)
    refusal = _refusal(rule, isolation, needs)
    if refusal:
        advice.reasons.append(refusal)
        return advice
    advice.valid = True
    if isolation in rule.shared_in:
        advice.monthly, advice.endpoints, basis = _shared_costs(rule, needs)
    else:
        per_tenant, basis = _per_tenant_costs(rule, needs)
        advice.monthly, advice.endpoints = (
            per_tenant * needs.tenants,
            0 if rule.kind == Kind.BATCH else needs.tenants,
        )
        basis = f"{needs.tenants} × ({basis})" if needs.tenants > 1 else basis
    advice.per_tenant = pricing.money(advice.monthly / max(needs.tenants, 1))
    advice.reasons.append(basis)
    advice.reasons.extend(_tradeoffs(rule))
    return advice


def _tradeoffs(rule: KindRule) -> list[str]:
    notes = [f"limits: {rule.max_payload_mb:g} MB payload, {timeout_text(rule)}"]
    if rule.scale_to_zero:
        notes.append("costs nothing while idle")
    if rule.cold_starts:
        notes.append("cold starts after idle periods or cache misses")
    return notes


def advise(needs: Needs) -> list[Advice]:
    """Every kind × isolation the needs allow, valid ones first by monthly cost, then the refused with why."""
    isolations = [needs.isolation] if needs.isolation else [Isolation.SILO, Isolation.BRIDGE, Isolation.POOL]
    results = []
    for rule in KIND_RULES.values():
        candidates = [_advise_one(rule, isolation, needs) for isolation in isolations]
        valid = [a for a in candidates if a.valid]
        # One line per kind: its cheapest valid isolation, or the first refusal when none is valid.
        results.append(min(valid, key=lambda a: a.monthly) if valid else candidates[0])
    return sorted(results, key=lambda a: (not a.valid, a.monthly, a.kind))

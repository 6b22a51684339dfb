"""The advisor: a tenant's (or a fleet's) needs in, the valid kinds ranked by monthly cost out, with reasons.

It reads the same table as validation (`deployments.rules.KIND_RULES`) and prices from the catalogue.
Every need is bounded (`NEED_BOUNDS`, read by the form too), a refused kind says everything that stops it,
and when nothing fits, `relaxations` says which single change to the needs would let something fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import Any

from deployments import pricing
from deployments.catalogue import instance_problem
from deployments.models import Kind
from deployments.rules import (
    INSTANCE_USES,
    KIND_RULES,
    LATENCIES,
    MAX_CONTAINERS,
    MIN_CONTAINERS,
    KindRule,
    containers_problem,
    isolation_problem,
    payload_problem,
    timeout_text,
)
from tenants.formatting import number_text
from tenants.models import Isolation

ACTIVE_HOURS_PER_DAY = {"steady": 24.0, "spiky": 12.0, "idle": 4.0}
SECONDS_PER_DAY = 86_400
# How each latency need reads ("answers …"); LATENCIES runs from the slowest to the fastest.
LATENCY_PHRASES = {
    "periodic": "periodically (one job per run)",
    "minutes": "within minutes",
    "milliseconds": "within milliseconds",
}
# Why a kind has cold starts whatever its settings (rules.KindRule.cold_starts).
COLD_START_CAUSES = {
    Kind.SERVERLESS: "an idle endpoint starts a new instance and loads the model on the next request",
    Kind.MULTI_MODEL: "a tenant's model not in memory is loaded from S3 on its first request",
}
SERVERLESS_MAX_CONCURRENCY: int = next(
    s.maximum for s in KIND_RULES[Kind.SERVERLESS].settings if s.name == "max_concurrency" and s.maximum
)


@dataclass(frozen=True)
class Bound:
    """The range a numeric need may take, and where its maximum comes from."""

    noun: str
    minimum: float
    maximum: float
    unit: str
    why: str

    def text(self) -> str:
        low, high = number_text(self.minimum), number_text(self.maximum)
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.noun} must be between {low} and {high}{unit} ({self.why})."


# The form's fields and `Needs` both hold to these; inside them every estimate is a finite sum.
NEED_BOUNDS: dict[str, Bound] = {
    "payload_mb": Bound("The largest payload", 0, 5_242_880, "MB", "5 TB, the largest object S3 stores"),
    "peak_rps": Bound(
        "The peak", 0, 100_000, "requests per second", "per tenant: instances are sized for loads up to this"
    ),
    "requests_per_day": Bound(
        "Requests per day", 0, 100_000 * SECONDS_PER_DAY, "", "per tenant: the highest peak, all day long"
    ),
    "tenants": Bound("The number of tenants", 1, 100_000, "", "a fleet larger than this is several fleets"),
    "inference_ms": Bound(
        "The inference time", 1, 3_600_000, "ms", "one hour, the longest any kind lets one request run"
    ),
    "run_minutes": Bound("A batch run", 1, 1440, "minutes", "a day"),
}
CHOICES = {
    "latency": LATENCIES,
    "traffic": tuple(ACTIVE_HOURS_PER_DAY),
    "isolation": (None, *Isolation.values),
}


def needs_problems(values: dict[str, Any]) -> dict[str, str]:
    """Need → why its value cannot be advised on (out of bounds, unknown, or a peak below the average).

    `values` are Needs fields; the form leaves out those it does not ask (their defaults are in bounds).
    """
    problems = {}
    for name, bound in NEED_BOUNDS.items():
        value = values.get(name, bound.minimum)
        if value is None or not math.isfinite(value) or not bound.minimum <= value <= bound.maximum:
            problems[name] = bound.text()
    for name, allowed in CHOICES.items():
        if (values.get(name) or None) not in allowed:
            problems[name] = f"{name} must be one of {', '.join(str(v) for v in allowed if v)}."
    if {"peak_rps", "requests_per_day"} <= values.keys() - problems.keys():
        average = values["requests_per_day"] / SECONDS_PER_DAY
        if values["peak_rps"] < average:
            problems["peak_rps"] = (
                f"A peak of {number_text(values['peak_rps'])} requests per second is below the day's average "
                f"({number_text(values['requests_per_day'])} requests a day is {number_text(average)} per "
                "second): raise the peak or lower the requests per day."
            )
    return problems


class NeedsError(ValueError):
    """Needs the advisor cannot advise on; `problems` maps each need to why."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class Needs:
    """What the tenants need; `tenants` > 1 asks how to serve that many tenants alike."""

    latency: str = "milliseconds"  # periodic | minutes | milliseconds
    payload_mb: float = 0.1
    requests_per_day: float = 10_000  # per tenant
    peak_rps: float = 1.0  # per tenant
    traffic: str = "steady"  # steady | spiky | idle
    tenants: int = 1
    own_model: bool = True
    same_container: bool = True
    cold_starts_ok: bool = False
    inference_ms: float = 100
    isolation: str | None = None  # restrict to one isolation model, or None for any
    instance_type: str = "ml.m5.large"
    run_minutes: int = 15

    def __post_init__(self) -> None:
        problems = needs_problems(asdict(self))
        if problems:
            raise NeedsError(problems)


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


def _the_kind(kind: str) -> str:
    """`a real-time endpoint`, `batch transform` (a service, not a thing one has one of)."""
    return "batch transform" if kind == Kind.BATCH else _a(Kind(kind).label)


def _latency_problem(rule: KindRule, needs: Needs) -> str | None:
    if needs.latency in rule.latencies:
        return None
    fastest = max(rule.latencies, key=LATENCIES.index)
    return (
        f"{_the_kind(rule.kind).capitalize()} answers {LATENCY_PHRASES[fastest]}; "
        f"these tenants need answers {LATENCY_PHRASES[needs.latency]}."
    )


def _duration_problem(rule: KindRule, needs: Needs) -> str | None:
    if needs.inference_ms <= rule.timeout_seconds * 1000:
        return None
    return (
        f"Inferences of {number_text(needs.inference_ms / 1000)} s exceed the {timeout_text(rule)} of "
        f"{_the_kind(rule.kind)}: an asynchronous endpoint or batch transform lets one run up to an hour."
    )


def _cold_start_problem(rule: KindRule, needs: Needs) -> str | None:
    if not rule.cold_starts or needs.cold_starts_ok:
        return None
    return (
        f"{_the_kind(rule.kind).capitalize()} has cold starts ({COLD_START_CAUSES[rule.kind]}), "
        "which these tenants do not accept."
    )


def _model_problem(rule: KindRule, isolation: str, needs: Needs) -> str | None:
    kind = rule.kind
    if rule.per_tenant_model == "required" and not needs.own_model:
        return f"Each tenant of {_the_kind(kind)} brings its own model; these tenants share one."
    if kind == Kind.MULTI_MODEL and needs.own_model and not needs.same_container:
        return "A multi-model endpoint runs one container image for every model; these models need several."
    if kind == Kind.REALTIME and isolation == Isolation.POOL and needs.own_model:
        return "A Pool real-time endpoint serves one shared model; these tenants each have their own."
    return None


def _concurrency_problem(rule: KindRule, needs: Needs) -> str | None:
    in_flight = needs.peak_rps * needs.inference_ms / 1000
    if rule.kind != Kind.SERVERLESS or in_flight <= SERVERLESS_MAX_CONCURRENCY:
        return None
    return (
        f"At its peak a tenant has {number_text(math.ceil(in_flight))} requests in flight; a serverless "
        f"endpoint runs at most {SERVERLESS_MAX_CONCURRENCY} at once (MaxConcurrency)."
    )


def _refusals(rule: KindRule, isolation: str, needs: Needs) -> list[str]:
    """Everything that stops `rule`'s kind from serving these needs under `isolation` (empty: it fits)."""
    kind = rule.kind
    found = [
        isolation_problem(kind, isolation),
        payload_problem(kind, needs.payload_mb),
        containers_problem(kind, needs.tenants),
        _latency_problem(rule, needs),
        _duration_problem(rule, needs),
        _cold_start_problem(rule, needs),
        _model_problem(rule, isolation, needs),
        _concurrency_problem(rule, needs),
        instance_problem(INSTANCE_USES[kind], needs.instance_type) if kind in INSTANCE_USES else None,
    ]
    return [problem for problem in found if problem]


def _async_costs(needs: Needs, count: int) -> tuple[Decimal, str]:
    """Scale to zero between bursts when cold starts are accepted; else one instance stays warm."""
    instance, use = needs.instance_type, INSTANCE_USES[Kind.ASYNC]
    busy = needs.requests_per_day * needs.inference_ms / 1000 / 3600 / count
    hours = min(pricing.hours_per_month(), 30.4 * max(ACTIVE_HOURS_PER_DAY[needs.traffic], busy))
    if needs.cold_starts_ok:
        estimate = pricing.instances_monthly(instance, count, use, hours)
        return estimate.monthly, f"scales to 0 between bursts ({needs.traffic}): {estimate.basis}"
    warm = pricing.instances_monthly(instance, 1, use)
    basis = f"autoscaling minimum 1 keeps one instance warm, so no cold starts: {warm.basis}"
    if count == 1:
        return warm.monthly, basis
    peaks = pricing.instances_monthly(instance, count - 1, use, hours)
    return warm.monthly + peaks.monthly, f"{basis}, and {peaks.basis} at peaks ({needs.traffic})"


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
        return _async_costs(needs, count)
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
    per_group = f"{groups:,} endpoints of ≤ {MAX_CONTAINERS} containers" if groups > 1 else "one endpoint"
    tenants = f"{needs.tenants:,} tenants" if needs.tenants > 1 else "one tenant"
    return estimate.monthly, groups, f"{per_group} for {tenants}: {estimate.basis}"


def _tradeoffs(rule: KindRule, needs: Needs) -> list[str]:
    notes = [f"limits: {number_text(rule.max_payload_mb)} MB payload, {timeout_text(rule)}"]
    if rule.kind == Kind.ASYNC and not needs.cold_starts_ok:
        notes.append("set its autoscaling minimum to 1 (0 would scale to zero, with cold starts)")
    elif rule.scale_to_zero:
        notes.append("costs nothing while idle")
    if rule.cold_starts:
        notes.append(f"cold starts: {COLD_START_CAUSES[rule.kind]}")
    elif rule.kind == Kind.ASYNC:
        notes.append("cold starts after it scales to zero (autoscaling minimum 0)")
    return notes


def _advise_one(rule: KindRule, isolation: str, needs: Needs) -> Advice:
    advice = Advice(rule.kind, isolation, valid=False)
    advice.reasons = _refusals(rule, isolation, needs)
    if advice.reasons:
        return advice
    advice.valid = True
    if isolation in rule.shared_in:
        advice.monthly, advice.endpoints, basis = _shared_costs(rule, needs)
    else:
        per_tenant, basis = _per_tenant_costs(rule, needs)
        advice.monthly = per_tenant * needs.tenants
        advice.endpoints = 0 if rule.kind == Kind.BATCH else needs.tenants
        basis = f"{needs.tenants:,} × ({basis})" if needs.tenants > 1 else basis
    advice.per_tenant = pricing.money(advice.monthly / needs.tenants)
    advice.reasons = [basis, *_tradeoffs(rule, needs)]
    return advice


def _advise_kind(rule: KindRule, needs: Needs) -> Advice:
    """The kind's cheapest valid isolation; else the isolation with the fewest refusals.

    With isolation left open (Any), only the isolations the kind runs in are weighed: "for a Silo
    tenant" is no reason to refuse a kind the user did not ask to run in Silo.
    """
    isolations = [needs.isolation] if needs.isolation else sorted(rule.isolations)
    candidates = [_advise_one(rule, isolation, needs) for isolation in isolations]
    valid = [a for a in candidates if a.valid]
    if valid:
        return min(valid, key=lambda a: a.monthly)
    return min(candidates, key=lambda a: len(a.reasons))


def advise(needs: Needs) -> list[Advice]:
    """Every kind, valid ones first by monthly cost, then the refused with everything that stops them
    (those with the fewest obstacles first)."""
    results = [_advise_kind(rule, needs) for rule in KIND_RULES.values()]
    return sorted(results, key=lambda a: (not a.valid, a.monthly, 0 if a.valid else len(a.reasons), a.kind))


@dataclass(frozen=True)
class Relaxation:
    """One change to the needs under which some kind fits: in words, as Needs fields, and what then fits."""

    change: str
    values: dict[str, Any]
    fits: list[Advice]


def _changes(needs: Needs) -> Iterator[tuple[str, dict[str, Any]]]:
    """Single changes worth trying, each as (what to do, the Needs fields it sets)."""
    for latency in reversed(LATENCIES[: LATENCIES.index(needs.latency)]):
        yield f"Accept answers {LATENCY_PHRASES[latency]}", {"latency": latency}
    if not needs.cold_starts_ok:
        yield "Accept cold starts", {"cold_starts_ok": True}
    if needs.isolation:
        yield "Leave the isolation model open (Any)", {"isolation": None}
    limits = [r.max_payload_mb for r in KIND_RULES.values() if r.max_payload_mb < needs.payload_mb]
    if limits:
        yield f"Keep payloads to {number_text(max(limits))} MB or less", {"payload_mb": max(limits)}
    timeouts = [
        r.timeout_seconds for r in KIND_RULES.values() if r.timeout_seconds * 1000 < needs.inference_ms
    ]
    if timeouts:
        yield f"Keep inferences to {max(timeouts)} s or less", {"inference_ms": max(timeouts) * 1000}
    if needs.own_model:
        yield "Serve one shared model to every tenant", {"own_model": False}
    else:
        yield "Give each tenant its own model", {"own_model": True}
    if needs.own_model and not needs.same_container:
        yield "Build every tenant's model on one container image", {"same_container": True}
    if needs.tenants < MIN_CONTAINERS:
        yield f"Serve {MIN_CONTAINERS} tenants or more together", {"tenants": MIN_CONTAINERS}


def relaxations(needs: Needs) -> list[Relaxation]:
    """For needs nothing fits: each single change that lets some kind fit, the cheapest outcome first."""
    found = []
    for change, values in _changes(needs):
        try:
            fits = [a for a in advise(replace(needs, **values)) if a.valid]
        except NeedsError:
            continue  # e.g. fewer tenants than a change asks for would break another bound
        if fits:
            found.append(Relaxation(change, values, fits))
    return sorted(found, key=lambda r: r.fits[0].monthly)

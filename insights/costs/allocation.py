"""The allocation of one day's ledger to tenants, with the idle share of shared endpoints explicit.

- A tenant's own resource (Silo, and every serverless, async, batch and S3 line): all to its tenant.
- A shared endpoint (multi-model, multi-container, Pool real-time) line: its *used* cost goes to the
  members by the deployment's CostRule — their invocations, or model time (latency × invocations), that
  day over everyone's; or their hours present (evenly), or weight × hours present — and its *idle* cost
  (the instance-hours in which nobody invoked it, or, for even and weighted splits, nobody was a member)
  is an explicit line: kept as vendor overhead (no tenant), or spread over the members by the same
  fractions. A member that joined or left mid-day counts only its hours.
- Every ledger line's cents (its cost rounded half-up) are shared out by largest remainder
  (insights.costs.money.largest_remainder), so the day's allocation adds up to the day's ledger to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from insights.costs.ledger import Day, Drafted, day_start
from insights.costs.life import Piece
from insights.costs.money import ZERO, exact, largest_remainder
from insights.costs.usage_input import MemberUse
from insights.models_costs import AllocationBasis, AllocationLine, CostRule, IdlePolicy, SplitBasis

HOUR = 3600
Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Rule:
    """A shared deployment's split: CostRule's values, or the default (invocations, idle as overhead)."""

    basis: str = SplitBasis.INVOCATIONS
    idle_policy: str = IdlePolicy.OVERHEAD
    weights: tuple[tuple[str, Decimal], ...] = ()

    def weight(self, tenant_id: UUID) -> Decimal:
        return dict(self.weights).get(str(tenant_id), Decimal(1))


def rules_for(deployment_ids: Iterable[int]) -> dict[int, Rule]:
    """The split rule of each shared deployment (one query)."""
    return {
        rule.deployment_id: Rule(
            rule.basis,
            rule.idle_policy,
            tuple((str(k), Decimal(str(v))) for k, v in (rule.weights or {}).items()),
        )
        for rule in CostRule.objects.filter(deployment_id__in=list(deployment_ids))
    }


@dataclass
class Part:
    """One allocation line before its cents are known."""

    tenant_id: UUID | None
    basis: str
    numerator: Decimal
    denominator: Decimal
    cost: Decimal
    invocations: int = 0
    hours_present: Decimal = ZERO
    is_idle: bool = False
    idle_policy: str = ""


def allocate_day(ledger: Day, rules: dict[int, Rule]) -> list[AllocationLine]:
    """The allocation lines of a day's ledger (unsaved; each refers to its ledger line object)."""
    lines: list[AllocationLine] = []
    for drafted in ledger.lines:
        line = drafted.line
        if line.tenant_id is not None:
            parts = [_silo(drafted)]
        else:
            deployment_id = line.deployment_id or 0
            uses = ledger.usage.get(deployment_id, {})
            every = ledger.pieces.get(deployment_id, [])
            parts = _shared(drafted, uses, every, rules.get(deployment_id, Rule()))
        lines += _with_cents(drafted, parts)
    return lines


def _silo(drafted: Drafted) -> Part:
    line = drafted.line
    return Part(
        line.tenant_id,
        AllocationBasis.SILO,
        Decimal(1),
        Decimal(1),
        line.cost,
        invocations=line.invocations,
        hours_present=Decimal(line.seconds) / HOUR,
    )


def _hour_seconds(pieces: list[Piece], day_start: datetime) -> list[Decimal]:
    """Instance-seconds run in each hour of the day."""
    found = [ZERO] * 24
    for piece in pieces:
        for hour in range(24):
            start = day_start + timedelta(hours=hour)
            overlap = _overlap((piece.start, piece.end), (start, start + timedelta(hours=1)))
            found[hour] += Decimal(overlap * piece.count)
    return found


def _overlap(a: Span, b: Span) -> int:
    return max(0, int((min(a[1], b[1]) - max(a[0], b[0])).total_seconds()))


def _merged(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _seconds_within(spans: list[Span], pieces: list[Piece], weighted: bool) -> Decimal:
    """Seconds (instance-seconds when `weighted`) of `pieces` that fall inside `spans`."""
    total = 0
    for span in _merged(spans):
        for piece in pieces:
            total += _overlap(span, (piece.start, piece.end)) * (piece.count if weighted else 1)
    return Decimal(total)


def _usage_fractions(
    drafted: Drafted, uses: dict[UUID, MemberUse], every: list[Piece], basis: str
) -> tuple[dict[UUID, Decimal], Decimal]:
    """Each member's invocations (or model time) on this line, and the line's used instance-seconds.

    Usage in an hour goes to the line in proportion to its share of the endpoint's instance-seconds in
    that hour (two lines when the instance type changed mid-day).
    """
    start = day_start(drafted.line.day)
    mine, everyone = _hour_seconds(drafted.pieces, start), _hour_seconds(every, start)
    numerators: dict[UUID, Decimal] = {}
    used = ZERO
    for hour in range(24):
        if not mine[hour]:
            continue
        share = mine[hour] / everyone[hour]
        in_hour = ZERO
        for tenant_id, use in uses.items():
            series = use.invocations if basis == SplitBasis.INVOCATIONS else use.latency_ms
            amount = Decimal(str(series[hour])) * share
            if amount:
                numerators[tenant_id] = numerators.get(tenant_id, ZERO) + amount
                in_hour += amount
        if in_hour:
            used += mine[hour]
    return numerators, used


def _shared(drafted: Drafted, uses: dict[UUID, MemberUse], every: list[Piece], rule: Rule) -> list[Part]:
    line = drafted.line
    running = [p for p in drafted.pieces if p.count > 0]
    total_x = Decimal(sum(p.count * p.seconds for p in running))
    present = {t: _seconds_within(u.present, running, False) / HOUR for t, u in uses.items() if u.present}
    if rule.basis in (SplitBasis.INVOCATIONS, SplitBasis.LATENCY):
        numerators, used_x = _usage_fractions(drafted, uses, every, rule.basis)
    else:
        numerators = {t: rule.weight(t) * hours for t, hours in present.items() if hours}
        used_x = _seconds_within([s for u in uses.values() for s in u.present], running, True)
    denominator = sum(numerators.values(), ZERO)
    used_cost = line.cost * used_x / total_x if total_x and denominator else ZERO
    members = sorted(set(numerators) | {t for t, h in present.items() if h}, key=str)
    parts = [
        Part(
            tenant_id,
            rule.basis,
            _q(numerators.get(tenant_id, ZERO)),
            _q(denominator),
            exact(used_cost * numerators.get(tenant_id, ZERO) / denominator) if denominator else ZERO,
            invocations=_invocations(tenant_id, uses, numerators, rule.basis),
            hours_present=_q(present.get(tenant_id, ZERO), 4),
        )
        for tenant_id in members
    ]
    idle = exact(line.cost - used_cost)
    if idle > 0 or not parts:
        parts += _idle_parts(idle, total_x - used_x, total_x, numerators, present, rule)
    return parts


def _invocations(
    tenant_id: UUID, uses: dict[UUID, MemberUse], numerators: dict[UUID, Decimal], basis: str
) -> int:
    """The member's invocations on this line: its numerator when split by invocations (a day with two
    instance types shares each hour's requests between its lines), else all of its day."""
    if basis == SplitBasis.INVOCATIONS:
        return int(numerators.get(tenant_id, ZERO).to_integral_value())
    return uses[tenant_id].total_invocations if tenant_id in uses else 0


def _idle_parts(
    idle: Decimal,
    idle_x: Decimal,
    total_x: Decimal,
    numerators: dict[UUID, Decimal],
    present: dict[UUID, Decimal],
    rule: Rule,
) -> list[Part]:
    """The idle share: one overhead line, or the members' parts of it by the rule's fractions (their hours
    present when nobody used the endpoint all day; overhead when nobody was even a member)."""
    weights, basis = numerators, rule.basis
    if not sum(weights.values(), ZERO):
        weights = {t: h for t, h in present.items() if h}
        basis = SplitBasis.EVEN
    total = sum(weights.values(), ZERO)
    if rule.idle_policy == IdlePolicy.SPREAD and total:
        return [
            Part(
                t,
                basis,
                _q(w),
                _q(total),
                exact(idle * w / total),
                is_idle=True,
                idle_policy=IdlePolicy.SPREAD,
            )
            for t, w in sorted(weights.items(), key=lambda item: str(item[0]))
        ]
    return [
        Part(
            None,
            AllocationBasis.IDLE,
            _q(idle_x / HOUR),
            _q(total_x / HOUR),
            exact(idle),
            is_idle=True,
            idle_policy=IdlePolicy.OVERHEAD,
        )
    ]


def _q(value: Decimal, places: int = 6) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places))


def _with_cents(drafted: Drafted, parts: list[Part]) -> list[AllocationLine]:
    line = drafted.line
    billed = largest_remainder(line.billed_cost, [max(p.cost, ZERO) for p in parts])
    common: dict[str, Any] = {
        "day": line.day,
        "ledger_line": line,
        "deployment_id": line.deployment_id,
        "resource_id": line.resource_id,
        "kind": line.kind,
        "isolation": line.isolation,
        "usage_type": line.usage_type,
        "currency": line.currency,
    }
    return [
        AllocationLine(
            tenant_id=part.tenant_id,
            basis=part.basis,
            share_numerator=part.numerator,
            share_denominator=part.denominator,
            invocations=part.invocations,
            hours_present=part.hours_present,
            is_idle=part.is_idle,
            idle_policy=part.idle_policy,
            cost=part.cost,
            billed_cost=cents,
            **common,
        )
        for part, cents in zip(parts, billed, strict=True)
    ]

"""What each deployment ran, second by second: its timeline's status lines and, for async endpoints,
the instance count over time (CapacitySample).

A deployment runs from a status line that settled a generation (`in_service`, whose `detail` holds the
live variant: instance type and count, or serverless memory) until a line that emptied it (`deleted`, or a
`detail` saying nothing is live). An update keeps the previous generation billed until the new one is in
service. Lines written before the timeline carried details fall back to the live spec, then the settings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Subquery

from deployments.models import Deployment, DeploymentEvent, Kind, Status
from deployments.rules import settings_normalise
from insights.models_costs import CapacitySample


@dataclass(frozen=True)
class Piece:
    """A stretch of time during which a deployment ran `count` instances of `instance_type` (or, for a
    serverless endpoint, had `memory_mb` of memory configured; count 0 means scaled to zero)."""

    start: datetime
    end: datetime
    instance_type: str
    count: int
    memory_mb: int = 0

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


def _fallback_variant(deployment: Deployment) -> dict[str, Any]:
    variant = deployment.live_spec.get("config", {}).get("variant") if deployment.live_spec else None
    if variant:
        return dict(variant)
    values = settings_normalise(deployment.kind, deployment.settings)
    return {
        "instance_type": values.get("instance_type") or "",
        "instance_count": values.get("instance_count") or 0,
        "memory_mb": values.get("memory_mb") or 0,
    }


def _variant_of(outcome: str, detail: dict[str, Any] | None, deployment: Deployment) -> dict[str, Any] | None:
    """The variant live from this status line on; None when nothing runs from then on."""
    detail = detail or {}
    if outcome == Status.DELETED or detail.get("live") is False:
        return None
    return detail.get("variant") or _fallback_variant(deployment)


def running_pieces(
    deployments: Iterable[Deployment], start: datetime, end: datetime
) -> dict[int, list[Piece]]:
    """Each endpoint deployment's pieces within [start, end), from the status lines (one query) and, for
    asynchronous endpoints, the capacity samples (two queries)."""
    by_id = {d.pk: d for d in deployments if d.kind != Kind.BATCH}
    events = (
        DeploymentEvent.objects.filter(
            deployment_id__in=list(by_id),
            action="Status",
            outcome__in=[Status.IN_SERVICE, Status.DELETED],
            created_at__lt=end,
        )
        .order_by("deployment_id", "created_at", "id")
        .values_list("deployment_id", "outcome", "detail", "created_at")
    )
    spans: dict[int, list[tuple[datetime, datetime, dict[str, Any]]]] = defaultdict(list)
    current: dict[int, tuple[datetime, dict[str, Any]] | None] = {}
    for deployment_id, outcome, detail, created_at in events:
        _close(spans, current, deployment_id, created_at, start)
        variant = _variant_of(outcome, detail, by_id[deployment_id])
        current[deployment_id] = (created_at, variant) if variant is not None else None
    for deployment_id in list(current):
        _close(spans, current, deployment_id, end, start)
    asyncs = [pk for pk, d in by_id.items() if d.kind == Kind.ASYNC and spans.get(pk)]
    capacity = _capacity(asyncs, start, end)
    return {
        pk: [piece for s, e, variant in found for piece in _pieces(s, e, variant, capacity.get(pk))]
        for pk, found in spans.items()
    }


def _close(
    spans: dict[int, list[tuple[datetime, datetime, dict[str, Any]]]],
    current: dict[int, tuple[datetime, dict[str, Any]] | None],
    deployment_id: int,
    until: datetime,
    start: datetime,
) -> None:
    running = current.get(deployment_id)
    if running is not None:
        since, variant = running
        if until > start:
            spans[deployment_id].append((max(since, start), until, variant))
    current[deployment_id] = None


def _pieces(
    start: datetime,
    end: datetime,
    variant: dict[str, Any],
    capacity: list[tuple[datetime, int]] | None,
) -> list[Piece]:
    kind_type = str(variant.get("instance_type") or "")
    memory = int(variant.get("memory_mb") or 0)
    count = int(variant.get("instance_count") or 0)
    if capacity is None:
        return [Piece(start, end, kind_type, count, memory)] if end > start else []
    # Async: the count changes at each sample; before the first, the count the last sample left.
    pieces, since = [], start
    for at, new_count in capacity:
        if at <= start:
            count = new_count
            continue
        if at >= end:
            break
        pieces.append(Piece(since, at, kind_type, count, memory))
        since, count = at, new_count
    pieces.append(Piece(since, end, kind_type, count, memory))
    return [piece for piece in pieces if piece.end > piece.start]


def _capacity(
    deployment_ids: list[int], start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, int]]]:
    """Async endpoints' samples within the window, each list starting with the last one before it."""
    if not deployment_ids:
        return {}
    samples: dict[int, list[tuple[datetime, int]]] = {pk: [] for pk in deployment_ids}
    before = CapacitySample.objects.filter(deployment=OuterRef("pk"), at__lte=start).order_by("-at")
    opening = Deployment.objects.filter(pk__in=deployment_ids).annotate(
        opening_count=Subquery(before.values("instance_count")[:1]),
        opening_at=Subquery(before.values("at")[:1]),
    )
    for row in opening.values("pk", "opening_count", "opening_at"):
        if row["opening_count"] is not None:
            samples[row["pk"]].append((row["opening_at"], row["opening_count"]))
    within = CapacitySample.objects.filter(deployment_id__in=deployment_ids, at__gt=start, at__lt=end)
    for deployment_id, at, count in within.order_by("deployment_id", "at").values_list(
        "deployment_id", "at", "instance_count"
    ):
        samples[deployment_id].append((at, count))
    return samples

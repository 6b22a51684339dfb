"""The deployment state machine: which status may follow which, compare-and-set moves, and the timeline."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.utils import timezone

from deployments.aws import CallRecord
from deployments.models import Deployment, DeploymentEvent, Desired, Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset({Status.CREATING, Status.UPDATING, Status.DELETING, Status.FAILED}),
    Status.CREATING: frozenset({Status.IN_SERVICE, Status.FAILED, Status.DELETING}),
    Status.IN_SERVICE: frozenset({Status.PENDING, Status.UPDATING, Status.CREATING, Status.DELETING}),
    Status.UPDATING: frozenset({Status.IN_SERVICE, Status.FAILED, Status.DELETING}),
    # failed → deleted: an operator says a resource whose delete failed was removed by hand.
    Status.FAILED: frozenset({Status.PENDING, Status.DELETING, Status.DELETED}),
    Status.DELETING: frozenset({Status.DELETED, Status.FAILED}),
    Status.DELETED: frozenset(),
}
# Where a deployment desired absent may go: toward deleted only (through failed, when a delete fails).
TOWARD_ABSENT = frozenset({Status.DELETING, Status.DELETED, Status.FAILED})
ACTIVE = frozenset({Status.PENDING, Status.CREATING, Status.UPDATING, Status.DELETING})
# Progress shown while a deployment moves: a figure and a phrase per state.
PROGRESS: dict[str, tuple[int, str]] = {
    Status.PENDING: (5, "Waiting for a worker"),
    Status.CREATING: (40, "Creating the model, endpoint config and endpoint"),
    Status.UPDATING: (60, "Rolling out a new endpoint config"),
    Status.IN_SERVICE: (100, "In service"),
    Status.FAILED: (100, "Failed"),
    Status.DELETING: (50, "Deleting the endpoint and its resources"),
    Status.DELETED: (100, "Deleted"),
}


class StateConflict(Exception):
    """The row changed under us (another job or an operator moved it): this job stops."""


_batch: contextvars.ContextVar[list[DeploymentEvent] | None] = contextvars.ContextVar(
    "timeline", default=None
)


@contextlib.contextmanager
def timeline_batch() -> Iterator[None]:
    """Collect the events recorded inside the block and write them in one insert when it ends.

    A job's AWS calls then cost one write instead of one each; the block ends (and writes) on errors
    too, and every status change writes what was collected so far (see `transition`), so a job killed
    outright loses at most the lines of the step it was in.
    """
    token = _batch.set([])
    try:
        yield
    finally:
        timeline_flush()
        _batch.reset(token)


def timeline_flush() -> None:
    """Write the events the enclosing timeline_batch has collected so far (nothing outside one)."""
    events = _batch.get()
    if events:
        DeploymentEvent.objects.bulk_create(events)
        events.clear()


def event_record(
    deployment: Deployment,
    *,
    action: str,
    outcome: str,
    resource: str = "",
    request_id: str = "",
    duration_ms: int = 0,
    error: str = "",
    detail: dict[str, Any] | None = None,
    tenant_id: Any = None,
) -> DeploymentEvent:
    """Append one line to the deployment's timeline (at once, or when the enclosing timeline_batch ends)."""
    event = DeploymentEvent(
        deployment=deployment,
        tenant_id=tenant_id or deployment.tenant_id,
        action=action,
        resource=resource[:300],
        request_id=request_id[:100],
        duration_ms=duration_ms,
        outcome=outcome[:20],
        error=error,
        detail=detail or {},
        created_at=timezone.now(),
    )
    batch = _batch.get()
    if batch is None:
        event.save()
    else:
        batch.append(event)
    return event


def call_recorder(deployment: Deployment) -> Any:
    """A recorder for `deployments.aws.recording` that writes each AWS call on the timeline."""

    def record(call: CallRecord) -> None:
        event_record(
            deployment,
            action=call.action,
            outcome=call.outcome,
            resource=call.resource,
            request_id=call.request_id,
            duration_ms=call.duration_ms,
            error=call.error,
        )

    return record


def transition(deployment: Deployment, to: str, *, reason: str = "", **fields: Any) -> None:
    """Move `deployment` from its current status to `to` with a compare-and-set update.

    Raises ValueError for a move TRANSITIONS forbids, or one that would create again a deployment
    desired absent, and StateConflict when the row changed meanwhile.
    The status line is written in the same transaction as the move, after the AWS calls that led to it.
    """
    current = deployment.status
    if to not in TRANSITIONS[current]:
        raise ValueError(f"a {current} deployment cannot become {to}")
    if fields.get("desired", deployment.desired) == Desired.ABSENT and to not in TOWARD_ABSENT:
        raise ValueError(f"a deployment being deleted cannot become {to}")
    now = timezone.now()
    changes = {"status": to, "status_changed_at": now, "updated_at": now, **fields}
    with transaction.atomic():
        if not Deployment.objects.filter(pk=deployment.pk, status=current).update(**changes):
            raise StateConflict(f"{deployment} is no longer {current}")
        event_record(
            deployment,
            action="Status",
            outcome=to,
            resource=f"{current} → {to}",
            error=reason,
            detail=live_detail(fields["live_spec"]) if "live_spec" in fields else None,
        )
        timeline_flush()
    for name, value in changes.items():
        setattr(deployment, name, value)


def live_detail(live_spec: dict[str, Any]) -> dict[str, Any]:
    """What a status line records of the generation going live: its variant (instances or serverless
    memory), or nothing running (`live` false) when the spec is emptied by a delete."""
    if not live_spec:
        return {"live": False}
    return {"live": True, "variant": live_spec.get("config", {}).get("variant", {})}


def fields_save(deployment: Deployment, **fields: Any) -> None:
    """Save `fields` only if the status is still what this job read (a stale job must not overwrite)."""
    fields["updated_at"] = timezone.now()
    if not Deployment.objects.filter(pk=deployment.pk, status=deployment.status).update(**fields):
        raise StateConflict(f"{deployment} is no longer {deployment.status}")
    for name, value in fields.items():
        setattr(deployment, name, value)


def resume_status(deployment: Deployment) -> str:
    """Where a failed deployment resumes: its delete when it is meant to be gone, else its rollout."""
    return Status.DELETING if deployment.desired == Desired.ABSENT else Status.PENDING


def progress(deployment: Deployment) -> tuple[int, str]:
    """A 0–100 figure and a phrase for the deployment's state (polls nudge the figure forward)."""
    figure, phrase = PROGRESS[deployment.status]
    if deployment.status in (Status.CREATING, Status.UPDATING, Status.DELETING):
        figure = min(95, figure + 5 * deployment.polls)
    if deployment.status == Status.FAILED and deployment.last_error:
        failed = "Delete failed" if deployment.desired == Desired.ABSENT else "Failed"
        phrase = f"{failed}: {deployment.last_error}"
    return figure, phrase

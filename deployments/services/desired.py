"""What a deployment write asks of the worker: its desired state saved, and the worker enqueued once the
transaction commits (deployments.services.deployments and .joining both write through here)."""

from __future__ import annotations

import contextlib

from django.core.exceptions import ValidationError
from django.db.models import F

from deployments.models import Deployment, Desired, Status
from deployments.queueing import ADVANCE, enqueue_on_commit
from deployments.states import StateConflict, transition


def problems_error(problems: dict[str, list[str]]) -> ValidationError:
    """The rules' problems (field, or "" for the whole, → messages) as a form's ValidationError."""
    return ValidationError({name or "__all__": messages for name, messages in problems.items()})


def deployment_enqueue(deployment: Deployment) -> None:
    """Have a worker advance the deployment once the current transaction commits."""
    tenant = str(deployment.tenant_id) if deployment.tenant_id else None
    enqueue_on_commit(ADVANCE, deployment.pk, tenant)


def deployment_desire(deployment: Deployment) -> None:
    """Bump the generation; a settled row goes back to pending, a moving one picks it up when done."""
    Deployment.objects.filter(pk=deployment.pk).update(generation=F("generation") + 1)
    deployment.refresh_from_db(fields=["generation", "status"])
    if deployment.status in (Status.IN_SERVICE, Status.FAILED):
        # A worker moving it meanwhile is fine: it sees generation > observed when it settles.
        with contextlib.suppress(StateConflict):
            transition(deployment, Status.PENDING, polls=0, retries=0)
    deployment_enqueue(deployment)


def deployment_desire_absent(deployment: Deployment) -> None:
    """Make the deployment desired absent (for good: retries resume the delete) and have it deleted."""
    if deployment.status not in (Status.DELETING, Status.DELETED):
        transition(deployment, Status.DELETING, polls=0, retries=0, desired=Desired.ABSENT)
    deployment_enqueue(deployment)

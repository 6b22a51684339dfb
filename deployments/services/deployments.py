"""Operator writes to deployments: apply a draft, delete, retry (joining and leaving shared endpoints is
deployments.services.joining).

Each saves desired state, records an audit event and enqueues the worker once the transaction commits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from deployments import resources
from deployments.models import (
    Deployment,
    Status,
)
from deployments.rules import RuleError
from deployments.services.desired import (
    deployment_desire,
    deployment_desire_absent,
    deployment_enqueue,
    problems_error,
)
from deployments.services.joining import draft_members_check, member_add
from deployments.services.plans import (
    Draft,
    draft_check,
)
from deployments.states import resume_status, transition
from tenants.audit import audit_record

ZERO = Decimal("0")


@transaction.atomic
def deployment_apply(*, actor: Any, draft: Draft, deployment: Deployment | None = None) -> Deployment:
    """Save `draft` as desired state (a new deployment, or a change to `deployment`) and enqueue the worker.

    Raises ValidationError (field → messages from the rules table) when the draft is invalid.
    """
    try:
        values = draft_check(draft, creating=deployment is None)
        if deployment is None:
            draft_members_check(draft)
    except RuleError as exc:
        raise problems_error(exc.problems) from None
    if deployment is None:
        deployment = _create(actor, draft, values)
        action, before = "deployment.create", {}
    else:
        before = {"settings": deployment.settings, "model_package": str(deployment.model_package_id)}
        _update(deployment, draft, values)
        action = "deployment.update"
    after = {"kind": deployment.kind, "settings": values, "model_package": str(deployment.model_package_id)}
    audit_record(
        actor=actor, action=action, obj=deployment, tenant=deployment.tenant, before=before, after=after
    )
    return deployment


def _update(deployment: Deployment, draft: Draft, values: dict[str, Any]) -> None:
    if deployment.is_removed:
        raise ValidationError("This deployment is deleted: create a new one instead.")
    fixed = (deployment.kind, deployment.isolation, deployment.tenant_id)
    if (draft.kind, draft.isolation, getattr(draft.tenant, "pk", None)) != fixed:
        raise ValidationError(
            "Kind, isolation and owner cannot change: create a new deployment and delete this one."
        )
    deployment.name, deployment.settings, deployment.model_package = draft.name, values, draft.model_package
    deployment.full_clean()
    deployment.save(update_fields=["name", "settings", "model_package", "updated_at"])
    deployment_desire(deployment)


ALREADY_APPLIED = (
    "This form was already applied: the deployment it created is in the fleet. Open it there to change it."
)


def _create(actor: Any, draft: Draft, values: dict[str, Any]) -> Deployment:
    # The form's uid identifies what it creates: sending it again must not create a second deployment.
    if Deployment.objects.filter(uid=draft.uid).exists():
        raise ValidationError(ALREADY_APPLIED)
    deployment = Deployment(
        uid=draft.uid,
        tenant=draft.tenant,
        name=draft.name,
        kind=draft.kind,
        isolation=draft.isolation,
        model_package=draft.model_package,
        settings=values,
        aws_name=resources.aws_base_name(tenant=draft.tenant, kind=draft.kind, uid_hex=draft.uid.hex),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    deployment.full_clean()
    try:
        deployment.save()
    except IntegrityError:  # the same form applied at the same moment by another request
        raise ValidationError(ALREADY_APPLIED) from None
    for tenant, package in draft.members:
        member_add(deployment, tenant, package, deployment.generation)
    deployment_enqueue(deployment)
    return deployment


@transaction.atomic
def deployment_delete(*, actor: Any, deployment: Deployment) -> Deployment:
    """Delete the deployment's AWS resources (the row stays, `deleted`, with its timeline)."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.status == Status.DELETED:
        return deployment
    deployment_desire_absent(deployment)
    audit_record(actor=actor, action="deployment.delete", obj=deployment, tenant=deployment.tenant)
    return deployment


@transaction.atomic
def deployment_retry(*, actor: Any, deployment: Deployment) -> Deployment:
    """Have a worker try a failed deployment again, toward what is desired: a failed delete resumes
    deleting, anything else goes back to pending and rolls out where it stopped."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.status != Status.FAILED:
        raise ValidationError("Only a failed deployment can be retried.")
    to = resume_status(deployment)
    transition(deployment, to, polls=0, retries=0, last_error="", failed_transient=False)
    deployment_enqueue(deployment)
    audit_record(
        actor=actor,
        action="deployment.retry",
        obj=deployment,
        tenant=deployment.tenant,
        before={"status": Status.FAILED.value},
        after={"status": to},
    )
    return deployment

"""Operator writes to deployments: apply a draft, join and leave shared endpoints, delete, retry.

Each saves desired state, records an audit event and enqueues the worker once the transaction commits.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from deployments import resources
from deployments.models import Deployment, DeploymentMember, Kind, MemberState, ModelPackage, Status
from deployments.queueing import ADVANCE, enqueue_on_commit
from deployments.rules import RuleError, member_problem
from deployments.services.plans import Draft, Plan, ResourceAction, draft_check
from deployments.states import StateConflict, transition
from tenants.audit import audit_record
from tenants.models import Tenant


def _invalid(problems: dict[str, list[str]]) -> ValidationError:
    return ValidationError({name or "__all__": messages for name, messages in problems.items()})


def deployment_enqueue(deployment: Deployment) -> None:
    """Have a worker advance the deployment once the current transaction commits."""
    tenant = str(deployment.tenant_id) if deployment.tenant_id else None
    enqueue_on_commit(ADVANCE, deployment.pk, tenant)


def _desire(deployment: Deployment) -> None:
    """Bump the generation; a settled row goes back to pending, a moving one picks it up when done."""
    Deployment.objects.filter(pk=deployment.pk).update(generation=F("generation") + 1)
    deployment.refresh_from_db(fields=["generation", "status"])
    if deployment.status in (Status.IN_SERVICE, Status.FAILED):
        # A worker moving it meanwhile is fine: it sees generation > observed when it settles.
        with contextlib.suppress(StateConflict):
            transition(deployment, Status.PENDING, polls=0, retries=0)
    deployment_enqueue(deployment)


@transaction.atomic
def deployment_apply(*, actor: Any, draft: Draft, deployment: Deployment | None = None) -> Deployment:
    """Save `draft` as desired state (a new deployment, or a change to `deployment`) and enqueue the worker.

    Raises ValidationError (field → messages from the rules table) when the draft is invalid.
    """
    try:
        values = draft_check(draft)
        if deployment is None:
            members_check(draft.kind, draft.isolation, [], draft.members)
    except RuleError as exc:
        raise _invalid(exc.problems) from None
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
    if deployment.status in (Status.DELETING, Status.DELETED):
        raise ValidationError("This deployment is deleted: create a new one instead.")
    fixed = (deployment.kind, deployment.isolation, deployment.tenant_id)
    if (draft.kind, draft.isolation, getattr(draft.tenant, "pk", None)) != fixed:
        raise ValidationError(
            "Kind, isolation and owner cannot change: create a new deployment and delete this one."
        )
    deployment.name, deployment.settings, deployment.model_package = draft.name, values, draft.model_package
    deployment.full_clean()
    deployment.save(update_fields=["name", "settings", "model_package", "updated_at"])
    _desire(deployment)


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
        _member_add(deployment, tenant, package)
    deployment_enqueue(deployment)
    return deployment


def members_check(
    kind: str,
    isolation: str,
    existing: list[ModelPackage | None],
    joining: tuple[tuple[Tenant, ModelPackage | None], ...],
) -> None:
    """RuleError when a tenant of `joining` cannot join a shared deployment that holds `existing` models."""
    images = [package.image_uri for package in existing if package]
    for tenant, package in joining:
        problem = member_problem(
            kind,
            isolation,
            tenant_isolation=tenant.isolation,
            member_images=images,
            new_image=package.image_uri if package else None,
            new_model_is_own=bool(package and package.tenant_id == tenant.pk),
        )
        if tenant.is_leaving:
            problem = f"{tenant} is being offboarded: it cannot join."
        if problem:
            raise RuleError({"tenant": [problem]})
        images.append(package.image_uri if package else "")


def _member_add(deployment: Deployment, tenant: Tenant, package: ModelPackage | None) -> DeploymentMember:
    member = DeploymentMember(
        deployment=deployment,
        tenant=tenant,
        model_package=package,
        target=resources.member_target(deployment.kind, tenant),
    )
    member.full_clean()
    member.save()
    return member


def member_plan(
    *, deployment: Deployment, tenant: Tenant, model_package: ModelPackage | None, leaving: bool = False
) -> Plan:
    """The plan of a tenant joining (or leaving) a shared deployment; RuleError when it cannot join."""
    if not leaving:
        existing = [m.model_package for m in resources.serving_members(deployment)]
        members_check(deployment.kind, deployment.isolation, existing, ((tenant, model_package),))
    target = resources.member_target(deployment.kind, tenant)
    zero = Decimal("0")
    if deployment.kind == Kind.MULTI_MODEL:
        uri = resources.multi_model_prefix(deployment) + target
        verb, detail = (
            ("delete", "") if leaving else ("copy", model_package.model_data_url if model_package else "")
        )
        return Plan([ResourceAction(verb, "S3Object", uri, detail)], zero, zero, "TargetModel " + target)
    if deployment.kind != Kind.MULTI_CONTAINER:
        return Plan([], zero, zero, "The tenant shares the endpoint's model: no AWS change.")
    new = resources.generation_name(deployment, deployment.generation + 1)
    count = len(resources.serving_members(deployment)) + (-1 if leaving else 1)
    actions = [
        ResourceAction(
            "create", "Model", new, f"{count} containers ({'without' if leaving else 'with'} {target})"
        ),
        ResourceAction("create", "EndpointConfig", new),
        ResourceAction("update", "Endpoint", deployment.aws_name, f"onto {new}"),
        ResourceAction("delete", "EndpointConfig", deployment.live_config_name, "replaced"),
        ResourceAction("delete", "Model", deployment.live_model_name, "replaced"),
    ]
    return Plan(actions, zero, zero, "TargetContainerHostname " + target)


@transaction.atomic
def deployment_member_join(
    *, actor: Any, deployment: Deployment, tenant: Tenant, model_package: ModelPackage | None
) -> DeploymentMember:
    """Add a tenant to a shared deployment (a TargetModel or a container) and enqueue the rollout."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.status in (Status.DELETING, Status.DELETED):
        raise ValidationError("This deployment is being deleted: choose another one.")
    if deployment.members.filter(tenant=tenant).exists():
        raise ValidationError({"tenant": f"{tenant} is already served by this deployment."})
    try:
        existing = [m.model_package for m in resources.serving_members(deployment)]
        members_check(deployment.kind, deployment.isolation, existing, ((tenant, model_package),))
    except RuleError as exc:
        raise _invalid(exc.problems) from None
    member = _member_add(deployment, tenant, model_package)
    _desire(deployment)
    audit_record(
        actor=actor,
        action="deployment.member_join",
        obj=deployment,
        tenant=tenant,
        after={"target": member.target},
    )
    return member


@transaction.atomic
def deployment_member_leave(*, actor: Any, deployment: Deployment, tenant: Tenant) -> None:
    """Take a tenant off a shared deployment; the last container leaving deletes a multi-container one."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    member = deployment.members.filter(tenant=tenant).exclude(state=MemberState.LEAVING).first()
    if member is None:
        return
    DeploymentMember.objects.filter(pk=member.pk).update(state=MemberState.LEAVING)
    audit_record(
        actor=actor,
        action="deployment.member_leave",
        obj=deployment,
        tenant=tenant,
        before={"target": member.target},
    )
    if deployment.kind == Kind.MULTI_CONTAINER and not resources.serving_members(deployment):
        _delete(deployment)
    else:
        _desire(deployment)


def _delete(deployment: Deployment) -> None:
    if deployment.status not in (Status.DELETING, Status.DELETED):
        transition(deployment, Status.DELETING, polls=0, retries=0)
    deployment_enqueue(deployment)


@transaction.atomic
def deployment_delete(*, actor: Any, deployment: Deployment) -> Deployment:
    """Delete the deployment's AWS resources (the row stays, `deleted`, with its timeline)."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.status == Status.DELETED:
        return deployment
    _delete(deployment)
    audit_record(actor=actor, action="deployment.delete", obj=deployment, tenant=deployment.tenant)
    return deployment


@transaction.atomic
def deployment_retry(*, actor: Any, deployment: Deployment) -> Deployment:
    """Send a failed deployment back to pending so that a worker tries again where it stopped."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.status != Status.FAILED:
        raise ValidationError("Only a failed deployment can be retried.")
    transition(deployment, Status.PENDING, polls=0, retries=0, last_error="")
    deployment_enqueue(deployment)
    audit_record(actor=actor, action="deployment.retry", obj=deployment, tenant=deployment.tenant)
    return deployment

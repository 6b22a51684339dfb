"""Shared endpoints, the pages' side: plan, join, change a member's model, leave (the last tenant of an
endpoint that cannot run empty deletes it). Each saves desired state, records an audit event and enqueues
the worker once the transaction commits; the worker's side is deployments.services.members."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from deployments import resources
from deployments.images import image_uri
from deployments.models import Deployment, DeploymentMember, Kind, MemberState, ModelPackage
from deployments.rules import MIN_CONTAINERS, RuleError, member_problem, rule_for, settings_normalise
from deployments.services.desired import (
    deployment_desire,
    deployment_desire_absent,
    problems_error,
)
from deployments.services.plans import FIRST_MEMBER_NEEDED, Draft, Plan, ResourceAction, deletion_plan
from tenants.audit import audit_record
from tenants.models import Tenant

ZERO = Decimal("0")


def members_check(
    kind: str,
    isolation: str,
    existing: list[ModelPackage | None],
    joining: tuple[tuple[Tenant, ModelPackage | None], ...],
    served: list[str] | None = None,
) -> None:
    """RuleError when a tenant of `joining` cannot join a shared deployment that holds `existing` models
    and runs the `served` images."""
    images = [*(served or []), *(package.image_uri for package in existing if package)]
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


def member_add(
    deployment: Deployment, tenant: Tenant, package: ModelPackage | None, generation: int
) -> DeploymentMember:
    """Add a member whose target is named after `generation`, the one its arrival rolls out."""
    member = DeploymentMember(
        deployment=deployment,
        tenant=tenant,
        model_package=package,
        target=resources.member_target(deployment.kind, tenant, package, generation),
    )
    member.full_clean()
    member.save()
    return member


def _serving_member(deployment: Deployment, tenant: Tenant) -> DeploymentMember | None:
    return deployment.members.exclude(state=MemberState.LEAVING).filter(tenant=tenant).first()


def _served_images(kind: str, values: dict[str, Any]) -> list[str]:
    """The image a multi-model endpoint runs (its settings choose it): every member's model needs it."""
    if kind != Kind.MULTI_MODEL:
        return []
    return [image_uri(values["framework"], values["framework_version"])]


def draft_members_check(draft: Draft) -> None:
    """RuleError when the first tenants of a new shared deployment cannot be served by it."""
    served = _served_images(draft.kind, settings_normalise(draft.kind, draft.settings))
    members_check(draft.kind, draft.isolation, [], draft.members, served)


def _member_check(deployment: Deployment, tenant: Tenant, package: ModelPackage | None) -> None:
    """RuleError when `tenant` cannot be served `package` beside the deployment's other members."""
    others = [m.model_package for m in resources.serving_members(deployment) if m.tenant_id != tenant.pk]
    served = _served_images(deployment.kind, resources.values(deployment))
    members_check(deployment.kind, deployment.isolation, others, ((tenant, package),), served)


def member_plan(
    *, deployment: Deployment, tenant: Tenant, model_package: ModelPackage | None, leaving: bool = False
) -> Plan:
    """The plan of a tenant joining a shared deployment, changing its model package there, or leaving.

    RuleError when the tenant cannot be served that package there.
    """
    member = _serving_member(deployment, tenant)
    if not leaving:
        _member_check(deployment, tenant, model_package)
    elif member_leave_deletes(deployment=deployment):
        return deletion_plan(deployment=deployment)
    if deployment.kind == Kind.MULTI_MODEL:
        return _multi_model_member_plan(deployment, tenant, member, model_package, leaving)
    if deployment.kind != Kind.MULTI_CONTAINER:
        return Plan([], ZERO, ZERO, "The tenant shares the endpoint's model: no AWS change.")
    return _multi_container_member_plan(deployment, tenant, member, leaving)


def _multi_model_member_plan(
    deployment: Deployment,
    tenant: Tenant,
    member: DeploymentMember | None,
    package: ModelPackage | None,
    leaving: bool,
) -> Plan:
    prefix = resources.multi_model_prefix(deployment)
    if leaving:
        old = member.target if member else ""
        return Plan([ResourceAction("delete", "S3Object", prefix + old)], ZERO, ZERO, "TargetModel " + old)
    new = resources.member_target(deployment.kind, tenant, package, deployment.generation + 1)
    actions = [ResourceAction("copy", "S3Object", prefix + new, package.model_data_url if package else "")]
    if member is None:
        return Plan(actions, ZERO, ZERO, "TargetModel " + new)
    # A new package is a new object: the tenant is switched to it, then the old one is removed.
    actions.append(ResourceAction("delete", "S3Object", prefix + member.target, f"once {new} serves"))
    return Plan(actions, ZERO, ZERO, f"TargetModel {member.target} → {new}")


def _multi_container_member_plan(
    deployment: Deployment, tenant: Tenant, member: DeploymentMember | None, leaving: bool
) -> Plan:
    target = member.target if member else resources.member_target(deployment.kind, tenant, None, 0)
    count = len(resources.serving_members(deployment)) + (-1 if leaving else 0 if member else 1)
    change = "without" if leaving else "with the new model of" if member else "with"
    new = resources.generation_name(deployment, deployment.generation + 1)
    actions = [
        ResourceAction("create", "Model", new, f"{count} containers ({change} {target})"),
        ResourceAction("create", "EndpointConfig", new),
        ResourceAction("update", "Endpoint", deployment.aws_name, f"onto {new}"),
        ResourceAction("delete", "EndpointConfig", deployment.live_config_name, "replaced"),
        ResourceAction("delete", "Model", deployment.live_model_name, "replaced"),
    ]
    return Plan(actions, ZERO, ZERO, "TargetContainerHostname " + target)


@transaction.atomic
def deployment_member_join(
    *, actor: Any, deployment: Deployment, tenant: Tenant, model_package: ModelPackage | None
) -> DeploymentMember:
    """Add a tenant to a shared deployment (a TargetModel or a container) and enqueue the rollout."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.is_removed:
        raise ValidationError("This deployment is being deleted: choose another one.")
    if deployment.members.filter(tenant=tenant).exists():
        raise ValidationError({"tenant": f"{tenant} is already served by this deployment."})
    try:
        _member_check(deployment, tenant, model_package)
    except RuleError as exc:
        raise problems_error(exc.problems) from None
    member = member_add(deployment, tenant, model_package, deployment.generation + 1)  # _desire's
    deployment_desire(deployment)
    audit_record(
        actor=actor,
        action="deployment.member_join",
        obj=deployment,
        tenant=tenant,
        after={"target": member.target},
    )
    return member


def member_leave_problem(deployment: Deployment, tenant: Tenant) -> str | None:
    """Why `tenant` cannot leave now: a multi-container endpoint would be left with a single container.

    AWS documents multi-container endpoints as more than one container (rules.MIN_CONTAINERS); the last
    tenant leaving deletes the endpoint instead, so only the last but one is held back.
    """
    if deployment.kind != Kind.MULTI_CONTAINER:
        return None
    others = [m.tenant for m in resources.serving_members(deployment) if m.tenant_id != tenant.pk]
    if not others or len(others) >= MIN_CONTAINERS:
        return None
    return (
        f"{tenant} cannot leave {deployment.name} yet: a multi-container endpoint runs at least "
        f"{MIN_CONTAINERS} containers and only {others[0]}'s would remain. Let another tenant join first, "
        f"or move {others[0]} to another deployment and delete this one."
    )


def _change_refusal(deployment: Deployment, member: DeploymentMember | None, package: ModelPackage) -> str:
    if deployment.is_removed or member is None:
        return "This tenant is not served by this deployment (any more): nothing to change."
    if rule_for(deployment.kind).per_tenant_model != "required":
        return "The tenants of this endpoint share its model: change the deployment's model package instead."
    if member.model_package_id == package.pk:
        return f"{member.tenant} is already served with this model package."
    return ""


@transaction.atomic
def deployment_member_change(
    *, actor: Any, deployment: Deployment, tenant: Tenant, model_package: ModelPackage
) -> DeploymentMember:
    """Serve a member of a shared deployment from another model package, and enqueue the rollout.

    Multi-model: the package is copied to a new TargetModel (`pending_target`), the member switches to
    it once it is in S3, then the old object goes. Multi-container: a new model with the new container.
    """
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    member = _serving_member(deployment, tenant)
    refusal = _change_refusal(deployment, member, model_package)
    if refusal or member is None:
        raise ValidationError({"model_package": refusal})
    try:
        _member_check(deployment, tenant, model_package)
    except RuleError as exc:
        raise problems_error({"model_package": [m for ms in exc.problems.values() for m in ms]}) from None
    before = {"target": member.target, "model_package": str(member.model_package_id)}
    member.model_package = model_package
    if deployment.kind == Kind.MULTI_MODEL:
        generation = deployment.generation + 1  # the one _desire sets: a name no earlier target had
        member.pending_target = resources.member_target(deployment.kind, tenant, model_package, generation)
    member.full_clean()
    member.save(update_fields=["model_package", "pending_target"])
    deployment_desire(deployment)
    after = {"target": member.pending_target or member.target, "model_package": str(model_package.pk)}
    action = "deployment.member_change"
    audit_record(actor=actor, action=action, obj=deployment, tenant=tenant, before=before, after=after)
    return member


@transaction.atomic
def deployment_member_leave(*, actor: Any, deployment: Deployment, tenant: Tenant) -> None:
    """Take a tenant off a shared deployment; the last tenant leaving deletes a multi-model or
    multi-container one.

    ValidationError when a multi-container endpoint would be left with one container (`member_leave_problem`).
    """
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    member = deployment.members.filter(tenant=tenant).exclude(state=MemberState.LEAVING).first()
    if member is None or deployment.is_removed:
        return  # not served here, or the endpoint is being deleted: its delete takes every member off
    problem = member_leave_problem(deployment, tenant)
    if problem:
        raise ValidationError(problem)
    DeploymentMember.objects.filter(pk=member.pk).update(state=MemberState.LEAVING)
    audit_record(
        actor=actor,
        action="deployment.member_leave",
        obj=deployment,
        tenant=tenant,
        before={"target": member.target},
    )
    if deployment.kind in FIRST_MEMBER_NEEDED and not resources.serving_members(deployment):
        deployment_desire_absent(
            deployment
        )  # it cannot run (nor be recreated) without a tenant: see FIRST_MEMBER_NEEDED
    else:
        deployment_desire(deployment)


def member_leave_deletes(*, deployment: Deployment) -> bool:
    """Whether a serving tenant leaving is the last of an endpoint that cannot run empty (it is deleted)."""
    return deployment.kind in FIRST_MEMBER_NEEDED and len(resources.serving_members(deployment)) <= 1

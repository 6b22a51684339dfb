"""Drafts (what the operator asks for), their validation against the rules table, and plans.

A plan lists the AWS resources a change creates, updates and deletes (by their real names: a draft
carries the uid the names derive from) and the monthly cost before and after.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from deployments import pricing, resources
from deployments.images import FRAMEWORK_VERSIONS, UnknownImage, image_uri
from deployments.models import Deployment, Kind, ModelPackage, Status
from deployments.rules import (
    RuleError,
    containers_problem,
    is_shared,
    isolation_problem,
    model_problem,
    settings_normalise,
    settings_problems,
)
from tenants.models import Isolation, Tenant


@dataclass(frozen=True)
class Draft:
    """A deployment as the operator wants it; `tenant` None with `members` for a shared deployment."""

    name: str
    kind: str
    isolation: str
    tenant: Tenant | None = None
    model_package: ModelPackage | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    members: tuple[tuple[Tenant, ModelPackage | None], ...] = ()
    uid: uuid.UUID = field(default_factory=uuid.uuid4)

    @classmethod
    def of(cls, deployment: Deployment, **changes: Any) -> Draft:
        """A draft of an existing deployment, with `changes` (e.g. settings=...) applied."""
        values: dict[str, Any] = {
            "name": deployment.name,
            "kind": deployment.kind,
            "isolation": deployment.isolation,
            "tenant": deployment.tenant,
            "model_package": deployment.model_package,
            "settings": dict(deployment.settings),
            "uid": deployment.uid,
        }
        values.update(changes)
        return cls(**values)


@dataclass(frozen=True)
class ResourceAction:
    """One AWS change: verb (create/update/delete/copy), resource type, name and what it holds."""

    verb: str
    type: str
    name: str
    detail: str = ""


@dataclass
class Plan:
    """What applying a change will do in AWS and what it costs per month."""

    actions: list[ResourceAction]
    monthly_before: Decimal
    monthly_after: Decimal
    basis: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def monthly_delta(self) -> Decimal:
        return self.monthly_after - self.monthly_before


def _owner_problem(draft: Draft) -> str | None:
    shared = is_shared(draft.kind, draft.isolation)
    label = Kind(draft.kind).label.lower()
    if draft.tenant is None and not shared:
        return f"A {Isolation(draft.isolation).label} {label} belongs to one tenant: choose the tenant."
    if draft.tenant is not None and shared:
        return (
            f"A {Isolation(draft.isolation).label} {label} is shared by several tenants: create it as shared "
            "and add this tenant as a member."
        )
    if draft.tenant is not None and draft.tenant.isolation != draft.isolation:
        have, want = Isolation(draft.tenant.isolation).label, Isolation(draft.isolation).label
        return f"{draft.tenant} is {have}, not {want}: choose a {have} kind or move the tenant first."
    if draft.tenant is not None and draft.tenant.is_leaving:
        return f"{draft.tenant} is being offboarded: it cannot get new deployments."
    return None


def _package_problem(draft: Draft) -> str | None:
    package = draft.model_package
    shared_model = package is not None and package.tenant_id is None
    problem = model_problem(
        draft.kind, draft.isolation, has_model=package is not None, model_is_shared=shared_model
    )
    if problem or package is None:
        return problem
    if package.tenant_id is not None and package.tenant_id != getattr(draft.tenant, "pk", None):
        return "This model package belongs to another tenant: choose the tenant's own or a shared one."
    return None


# Shared endpoints that cannot start empty (multi-container needs two containers: rules.containers_problem).
# A multi-model one needs a model under its prefix, as CreateModel refuses a MultiModel ModelDataUrl with
# nothing under it ("Could not find model data at s3://…"); the first tenant's artifact is copied there
# before CreateModel.
# A rule rather than a placeholder object under the prefix: AWS documents no empty multi-model model, a
# placeholder would be a TargetModel that cannot load, and an endpoint with no tenant only costs money.
FIRST_MEMBER_NEEDED: dict[str, str] = {
    Kind.MULTI_MODEL: (
        "A multi-model endpoint needs at least one tenant's model to start with: SageMaker creates it "
        "only on an S3 prefix that already holds a model."
    ),
}


def draft_problems(draft: Draft, *, creating: bool = True) -> dict[str, list[str]]:
    """Field → messages for everything the rules table refuses in `draft` (empty when it is valid).

    `creating`: the draft is a new deployment, so a shared one must bring its first tenant.
    """
    problems: dict[str, list[str]] = {}
    isolation = isolation_problem(draft.kind, draft.isolation)
    if isolation:
        return {"kind": [isolation]}
    values = settings_normalise(draft.kind, draft.settings)
    problems.update(settings_problems(draft.kind, values))
    for name, problem in (("tenant", _owner_problem(draft)), ("model_package", _package_problem(draft))):
        if problem:
            problems.setdefault(name, []).append(problem)
    if draft.kind == Kind.MULTI_MODEL and "framework" not in problems:
        try:
            image_uri(values["framework"], values["framework_version"])
        except UnknownImage:
            versions = ", ".join(FRAMEWORK_VERSIONS[values["framework"]])
            problems["framework_version"] = [f"Unknown {values['framework']} version: choose {versions}."]
    if creating and draft.kind in FIRST_MEMBER_NEEDED and not draft.members:
        problems.setdefault("members", []).append(FIRST_MEMBER_NEEDED[draft.kind])
    containers = containers_problem(draft.kind, len(draft.members)) if creating else None
    if containers:
        problems.setdefault("members", []).append(containers)
    if len({tenant.pk for tenant, _ in draft.members}) != len(draft.members):
        problems.setdefault("members", []).append("A tenant joins once: choose different tenants.")
    return problems


def draft_check(draft: Draft, *, creating: bool = True) -> dict[str, Any]:
    """The draft's normalised settings; RuleError when the rules table refuses it."""
    problems = draft_problems(draft, creating=creating)
    if problems:
        raise RuleError(problems)
    return settings_normalise(draft.kind, draft.settings)


def _endpoint_actions(
    kind: str, name: str, values: dict[str, Any], images: list[str]
) -> list[ResourceAction]:
    if kind == Kind.SERVERLESS:
        capacity = f"serverless {values['memory_mb']} MB, max concurrency {values['max_concurrency']}"
    else:
        capacity = f"{values['instance_count']} × {values['instance_type']}"
    actions = [
        ResourceAction("create", "Model", name, ", ".join(sorted(set(images)))),
        ResourceAction("create", "EndpointConfig", name, capacity),
    ]
    return actions if kind != Kind.BATCH else actions[:1]


def _images(draft: Draft, values: dict[str, Any]) -> list[str]:
    if draft.kind == Kind.MULTI_MODEL:
        return [image_uri(values["framework"], values["framework_version"])]
    if draft.kind == Kind.MULTI_CONTAINER:
        return [package.image_uri for _, package in draft.members if package]
    return [draft.model_package.image_uri] if draft.model_package else []


def deployment_plan(*, draft: Draft, deployment: Deployment | None = None) -> Plan:
    """The plan of creating `draft` (or, with `deployment`, of changing it); RuleError when invalid."""
    values = draft_check(draft, creating=deployment is None or deployment.status == Status.DELETED)
    after = pricing.deployment_monthly(draft.kind, values)
    base = resources.aws_base_name(tenant=draft.tenant, kind=draft.kind, uid_hex=draft.uid.hex)
    if deployment is None or deployment.status == Status.DELETED:
        actions = _member_copies(draft, base)
        actions += _endpoint_actions(draft.kind, f"{base}-g1", values, _images(draft, values))
        if draft.kind != Kind.BATCH:
            actions.append(ResourceAction("create", "Endpoint", base, Kind(draft.kind).label))
        actions += _extras(draft, base, values)
        return Plan(actions, Decimal("0"), after.monthly, after.basis)
    before = pricing.deployment_monthly(deployment.kind, resources.values(deployment))
    new = resources.generation_name(deployment, deployment.generation + 1)
    actions = _endpoint_actions(draft.kind, new, values, _images(draft, values))
    if draft.kind != Kind.BATCH:
        actions.append(ResourceAction("update", "Endpoint", deployment.aws_name, f"onto {new}"))
        actions.append(ResourceAction("delete", "EndpointConfig", deployment.live_config_name, "replaced"))
    actions.append(ResourceAction("delete", "Model", deployment.live_model_name, "replaced"))
    return Plan(actions, before.monthly, after.monthly, after.basis)


def _extras(draft: Draft, base: str, values: dict[str, Any]) -> list[ResourceAction]:
    extras = []
    if draft.kind == Kind.ASYNC:
        extras.append(
            ResourceAction(
                "create",
                "ScalableTarget",
                f"endpoint/{base}/variant/AllTraffic",
                f"{values['min_capacity']}–{values['max_capacity']} instances",
            )
        )
    if draft.kind == Kind.BATCH:
        extras.append(
            ResourceAction(
                "create",
                "TransformJob",
                f"{base}-r<n>",
                f"{values['schedule']} on {values['instance_count']} × {values['instance_type']}",
            )
        )
    return extras


def _member_copies(draft: Draft, base: str) -> list[ResourceAction]:
    """A new multi-model endpoint's first models, copied under its prefix before CreateModel."""
    copies = []
    for tenant, package in draft.members:
        if draft.kind == Kind.MULTI_MODEL and package:
            name = resources.member_target(draft.kind, tenant, package, 1)  # the first generation's
            target = resources.bucket_uri("mme", base, name)
            copies.append(ResourceAction("copy", "S3Object", target, package.model_data_url))
    return copies


def deletion_plan(*, deployment: Deployment) -> Plan:
    """The plan of deleting a deployment: its endpoint, configs and models, and the cost it saves."""
    before = pricing.deployment_monthly(deployment.kind, resources.values(deployment))
    actions = []
    if deployment.kind != Kind.BATCH:
        actions.append(ResourceAction("delete", "Endpoint", deployment.aws_name))
    for name in {deployment.config_name, deployment.live_config_name} - {""}:
        actions.append(ResourceAction("delete", "EndpointConfig", name))
    for name in {deployment.model_name, deployment.live_model_name} - {""}:
        actions.append(ResourceAction("delete", "Model", name))
    return Plan(actions, before.monthly, Decimal("0"), before.basis)

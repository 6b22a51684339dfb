"""Members of shared deployments on the worker's side: multi-model artifacts in S3, settling joins/leaves."""

from __future__ import annotations

from deployments import resources
from deployments.aws import storage
from deployments.models import Deployment, DeploymentMember, Kind, MemberState


def _target_uri(deployment: Deployment, member: DeploymentMember) -> str:
    return resources.multi_model_prefix(deployment) + member.target


def multi_model_copy(deployment: Deployment) -> None:
    """Copy joining members' artifacts under the endpoint's prefix (before CreateModel: see provision).

    A multi-model endpoint loads `TargetModel` from its prefix on first use, so joining needs no
    UpdateEndpoint; copying again after a crash just writes the same bytes to the same object.
    """
    for member in deployment.members.select_related("model_package"):
        if member.state == MemberState.JOINING and member.model_package:
            storage.object_copy(member.model_package.model_data_url, _target_uri(deployment, member))


def multi_model_remove(deployment: Deployment) -> None:
    """Delete leaving members' artifacts from the prefix (once the rollout that drops them is live)."""
    for member in deployment.members.filter(state=MemberState.LEAVING):
        storage.object_delete(_target_uri(deployment, member))


def members_settle(deployment: Deployment) -> None:
    """After a rollout: joining members are active, leaving members are gone (and may finish offboarding)."""
    if not deployment.is_shared:
        return  # a tenant's own deployment has no members
    deployment.members.filter(state=MemberState.JOINING).update(state=MemberState.ACTIVE)
    if deployment.kind == Kind.MULTI_MODEL:
        multi_model_remove(deployment)
    leaving = deployment.members.filter(state=MemberState.LEAVING)
    tenant_ids = set(leaving.values_list("tenant_id", flat=True))
    if not tenant_ids:
        return
    leaving.delete()
    from deployments.services.teardown import tenants_offboard_if_clear

    tenants_offboard_if_clear(tenant_ids=tenant_ids)

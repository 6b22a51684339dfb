"""Members of shared deployments on the worker's side: multi-model artifacts in S3, settling joins/leaves."""

from __future__ import annotations

from deployments import resources
from deployments.aws import storage
from deployments.models import Deployment, DeploymentMember, MemberState


def _target_uri(deployment: Deployment, member: DeploymentMember) -> str:
    return resources.multi_model_prefix(deployment) + member.target


def multi_model_sync(deployment: Deployment) -> None:
    """Copy joining members' artifacts under the endpoint's prefix and remove leaving members' ones.

    A multi-model endpoint loads `TargetModel` from its prefix on first use, so joining needs no
    UpdateEndpoint; copying again after a crash just overwrites the same object.
    """
    for member in deployment.members.select_related("model_package"):
        if member.state == MemberState.JOINING and member.model_package:
            storage.object_copy(member.model_package.model_data_url, _target_uri(deployment, member))
        elif member.state == MemberState.LEAVING:
            storage.object_delete(_target_uri(deployment, member))


def members_settle(deployment: Deployment) -> None:
    """After a rollout: joining members are active, leaving members are gone (and may finish offboarding)."""
    if not deployment.is_shared:
        return  # a tenant's own deployment has no members
    deployment.members.filter(state=MemberState.JOINING).update(state=MemberState.ACTIVE)
    leaving = deployment.members.filter(state=MemberState.LEAVING)
    tenant_ids = set(leaving.values_list("tenant_id", flat=True))
    if not tenant_ids:
        return
    leaving.delete()
    from deployments.services.teardown import tenants_offboard_if_clear

    tenants_offboard_if_clear(tenant_ids=tenant_ids)

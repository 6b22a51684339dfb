"""Members of shared deployments on the worker's side: multi-model artifacts in S3, settling joins/leaves.

A multi-model member is served as `target`, an object under the endpoint's prefix that is never
overwritten (see resources.member_target). A new package gets a new object, `pending_target`: it is
copied, the member is switched to it, and only then is the old object removed.
"""

from __future__ import annotations

from deployments import resources
from deployments.aws import storage
from deployments.models import Deployment, DeploymentMember, Kind, MemberState


def _serving(deployment: Deployment) -> list[DeploymentMember]:
    return list(deployment.members.exclude(state=MemberState.LEAVING).select_related("model_package"))


def multi_model_copy(deployment: Deployment) -> None:
    """Copy each serving member's artifact under the endpoint's prefix unless it is there already.

    Runs before CreateModel (see provision). A multi-model endpoint loads `TargetModel` from its prefix
    on first use, so joining or changing package needs no UpdateEndpoint. An object already there is
    left alone: a target is never overwritten.
    """
    prefix = resources.multi_model_prefix(deployment)
    present = set(storage.object_names(prefix))
    for member in _serving(deployment):
        wanted = member.pending_target or member.target
        if member.model_package and wanted not in present:
            storage.object_copy(member.model_package.model_data_url, prefix + wanted)


def _switch(deployment: Deployment, present: set[str]) -> None:
    """Serve members from the objects now in place: a changed package's new target, a joiner's first."""
    for member in _serving(deployment):
        changes: dict[str, str] = {}
        if member.pending_target and member.pending_target in present:
            changes.update(target=member.pending_target, pending_target="")
        if member.state == MemberState.JOINING and changes.get("target", member.target) in present:
            changes["state"] = MemberState.ACTIVE
        if changes:  # compare-and-set: a package changed again meanwhile keeps its newer pending target
            DeploymentMember.objects.filter(pk=member.pk, pending_target=member.pending_target).update(
                **changes
            )


def multi_model_settle(deployment: Deployment) -> None:
    """Switch members to their copied artifacts, then delete every object no serving member names.

    Removing after the switch is what AWS asks: stop invoking a model, then remove it from S3. Leaving
    members, replaced packages and copies left by a crash all go; a deleted deployment keeps nothing.
    """
    prefix = resources.multi_model_prefix(deployment)
    present = set(storage.object_names(prefix))
    _switch(deployment, present)
    keep = {name for member in _serving(deployment) for name in (member.target, member.pending_target)}
    for name in sorted(present - keep):
        storage.object_delete(prefix + name)


def members_settle(deployment: Deployment) -> None:
    """After a rollout: joining members are active, leaving members are gone (and may finish offboarding)."""
    if not deployment.is_shared:
        return  # a tenant's own deployment has no members
    if deployment.kind == Kind.MULTI_MODEL:
        multi_model_settle(deployment)  # a joiner is active once its artifact is in place
    else:
        deployment.members.filter(state=MemberState.JOINING).update(state=MemberState.ACTIVE)
    leaving = deployment.members.filter(state=MemberState.LEAVING)
    tenant_ids = set(leaving.values_list("tenant_id", flat=True))
    if not tenant_ids:
        return
    leaving.delete()
    from deployments.services.teardown import tenants_offboard_if_clear

    tenants_offboard_if_clear(tenant_ids=tenant_ids)

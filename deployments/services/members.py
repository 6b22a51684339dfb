"""Members of shared deployments on the worker's side: multi-model artifacts in S3, settling joins/leaves.

A multi-model member is served as `target`, an object under the endpoint's prefix that is never
overwritten (see resources.member_target). A new package gets a new object, `pending_target`: it is
copied, the member is switched to it, and only then is the old object removed.
"""

from __future__ import annotations

from deployments import resources
from deployments.aws import storage
from deployments.models import Deployment, DeploymentMember, Kind, MemberState
from deployments.states import event_record


def _serving(deployment: Deployment) -> list[DeploymentMember]:
    return list(
        deployment.members.exclude(state=MemberState.LEAVING).select_related("model_package", "tenant")
    )


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
            switched = DeploymentMember.objects.filter(
                pk=member.pk, pending_target=member.pending_target
            ).update(**changes)
            if switched and changes.get("state") == MemberState.ACTIVE:
                _member_event(deployment, member.tenant_id, member.tenant.slug, "joined")


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


def _member_event(deployment: Deployment, tenant_id: object, slug: str, outcome: str) -> None:
    """A timeline line for a member that starts or stops being served: the cost split counts its hours
    present from these."""
    event_record(
        deployment,
        action="Member",
        outcome=outcome,
        resource=f"{slug} {outcome} the endpoint",
        tenant_id=tenant_id,
        detail={"tenant": str(tenant_id), "member": outcome},
    )


def members_settle(deployment: Deployment) -> None:
    """After a rollout: joining members are active, leaving members are gone (and may finish offboarding)."""
    if not deployment.is_shared:
        return  # a tenant's own deployment has no members
    if deployment.kind == Kind.MULTI_MODEL:
        multi_model_settle(deployment)  # a joiner is active once its artifact is in place
    else:
        joining = deployment.members.filter(state=MemberState.JOINING)
        for tenant_id, slug in list(joining.values_list("tenant_id", "tenant__slug")):
            _member_event(deployment, tenant_id, slug, "joined")
        joining.update(state=MemberState.ACTIVE)
    leaving = deployment.members.filter(state=MemberState.LEAVING)
    leavers = sorted(leaving.values_list("tenant_id", "tenant__slug"), key=lambda pair: pair[1])
    tenant_ids = {tenant_id for tenant_id, _slug in leavers}
    if not tenant_ids:
        return
    for tenant_id, slug in leavers:
        _member_event(deployment, tenant_id, slug, "left")
    leaving.delete()
    from deployments.services.teardown import tenants_offboard_if_clear

    tenants_offboard_if_clear(tenant_ids=tenant_ids)

"""The worker's side: advance one deployment one step along its state machine, idempotently.

Each step first saves the AWS names it is about to use, then creates (an "already exists" means an
earlier attempt got there: carry on), then describes. Waiting is a re-enqueued poll with backoff.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.utils import timezone

from deployments import conf, resources
from deployments.aws import AlreadyExists, AwsError, InProgress, NotFound, Transient, autoscaling, recording
from deployments.aws import sagemaker as sm
from deployments.models import Deployment, Kind, MemberState, Status
from deployments.queueing import ADVANCE, enqueue_on_commit
from deployments.services.members import members_settle, multi_model_copy, multi_model_settle
from deployments.states import (
    StateConflict,
    call_recorder,
    event_record,
    fields_save,
    timeline_batch,
    transition,
)
from tenants.models import TenantStatus

log = logging.getLogger(__name__)
NEXT = -1.0  # a step's answer: the status changed, run the next step now
Step = Callable[[Deployment], float | None]


def deployment_advance(*, deployment_id: int, tenant_id: UUID | str | None) -> str:
    """Run steps until the deployment is settled or must wait; returns the status it is left in.

    The job re-checks the tenant it was enqueued for: a row that changed owner, or whose tenant is
    offboarded while the row is not being deleted, is left alone.
    """
    deployment = _load(deployment_id)
    if deployment is None:
        return "missing"
    if str(deployment.tenant_id or "") != str(tenant_id or ""):
        event_record(deployment, action="Job", outcome="stopped", error="The deployment changed owner.")
        return deployment.status
    if _tenant_gone(deployment):
        event_record(deployment, action="Job", outcome="stopped", error="The tenant is offboarded.")
        return deployment.status
    with timeline_batch(), recording(call_recorder(deployment)):
        delay = _run_steps(deployment)
    if delay is not None:
        enqueue_on_commit(ADVANCE, deployment.pk, _tenant_arg(deployment), delay=delay)
    return deployment.status


def _load(deployment_id: int) -> Deployment | None:
    return Deployment.objects.select_related("tenant", "model_package").filter(pk=deployment_id).first()


def _tenant_arg(deployment: Deployment) -> str | None:
    return str(deployment.tenant_id) if deployment.tenant_id else None


def _tenant_gone(deployment: Deployment) -> bool:
    tenant = deployment.tenant
    return (
        tenant is not None
        and tenant.status == TenantStatus.OFFBOARDED
        and deployment.status not in (Status.DELETING, Status.DELETED)
    )


def _run_steps(deployment: Deployment) -> float | None:
    for _ in range(8):
        step = STEPS.get(deployment.status)
        if step is None:
            return None
        try:
            delay = step(deployment)
        except StateConflict as exc:
            log.info("stopping: %s", exc)
            return None
        except (Transient, InProgress) as exc:
            return _retry_later(deployment, exc)
        except AwsError as exc:
            _fail(deployment, str(exc))
            return None
        _answered(deployment)
        if delay != NEXT:
            return delay
    return _poll(deployment)  # still moving after many steps: back off rather than spin


def _retry_later(deployment: Deployment, exc: AwsError) -> float | None:
    """Back off through a transient error and try again, for conf.retry_for_seconds() from the first one.

    An AWS outage of minutes must not fail every deployment in flight; only after the whole window of
    nothing but transient errors is the deployment failed, marked so that reconcile retries it later.
    """
    now = timezone.now()
    since = deployment.retrying_since or now
    if (now - since).total_seconds() >= conf.retry_for_seconds():
        minutes = round((now - since).total_seconds() / 60)
        reason = (
            f"AWS kept failing with transient errors for {minutes} min ({deployment.retries} retries); "
            f"the last: {exc}. Reconcile retries this deployment once AWS answers again."
        )
        _fail(deployment, reason, transient=True)
        return None
    retries = deployment.retries + 1
    # polled_at: a retry is a scheduled poll too, so reconcile does not take the row for a lost job.
    fields_save(deployment, retries=retries, retrying_since=since, polled_at=now, last_error=str(exc)[:2000])
    return conf.retry_delay(retries)


def _answered(deployment: Deployment) -> None:
    """A step went through: the next transient error starts a new retry window."""
    if deployment.retrying_since is not None:
        with contextlib.suppress(StateConflict):
            fields_save(deployment, retrying_since=None, retries=0)


def _fail(deployment: Deployment, reason: str, *, transient: bool = False) -> None:
    """Mark the deployment failed; `transient` when only transient AWS errors caused it."""
    try:
        transition(
            deployment,
            Status.FAILED,
            reason=reason,
            last_error=reason[:2000],
            polls=0,
            retries=0,
            retrying_since=None,
            failed_transient=transient,
        )
    except (StateConflict, ValueError):
        log.warning("could not mark %s failed: %s", deployment, reason)


def _poll(deployment: Deployment) -> float | None:
    """Schedule the next poll of a transition, or fail it when it has taken too many polls."""
    if deployment.polls >= conf.max_polls():
        _fail(deployment, f"Still {deployment.status} after {deployment.polls} polls.")
        return None
    delay = conf.poll_delay(deployment.polls)
    fields_save(deployment, polls=deployment.polls + 1, polled_at=timezone.now())
    return delay


def _target_names(deployment: Deployment) -> dict[str, Any]:
    name = resources.generation_name(deployment, deployment.generation)
    config = "" if deployment.kind == Kind.BATCH else name
    return {
        "target_generation": deployment.generation,
        "model_name": name,
        "config_name": config,
        "target_spec": resources.desired_spec(deployment),
    }


def _set_target(deployment: Deployment) -> None:
    """Save the names of the generation being rolled out, before any create call uses them."""
    fields_save(deployment, **_target_names(deployment))


def _ensure(create: Callable[[Any], None], spec: Any) -> None:
    with contextlib.suppress(AlreadyExists):  # an earlier attempt (crashed or timed out) created it
        create(spec)


def _ensure_model_and_config(deployment: Deployment) -> None:
    if deployment.kind == Kind.MULTI_MODEL:
        # CreateModel refuses a MultiModel ModelDataUrl prefix with no model under it ("Could not find
        # model data at s3://…"): the members' artifacts go there first (a multi-model deployment always
        # has a member: see plans.draft_problems and deployment_member_leave).
        multi_model_copy(deployment)
    _ensure(sm.model_create, resources.model_spec(deployment, deployment.model_name))
    if deployment.kind != Kind.BATCH:
        spec = resources.endpoint_config_spec(deployment, deployment.config_name, deployment.model_name)
        _ensure(sm.endpoint_config_create, spec)


def _step_pending(deployment: Deployment) -> float:
    if deployment.live_model_name:
        transition(deployment, Status.UPDATING, polls=0, retries=0, last_error="")
        return NEXT
    # The names of the first generation are saved with the move to creating, before any create call.
    target = _target_names(deployment) if not deployment.model_name else {}
    transition(deployment, Status.CREATING, polls=0, retries=0, last_error="", **target)
    return NEXT


def _step_creating(deployment: Deployment) -> float | None:
    if not deployment.model_name:
        _set_target(deployment)  # a newer generation is rolled out as an update once this one is live
    existed = False
    if deployment.polls == 0:
        _ensure_model_and_config(deployment)
        if deployment.kind == Kind.BATCH:
            return _settle(deployment)
        try:
            sm.endpoint_create(deployment.aws_name, deployment.config_name, resources.tags(deployment))
        except AlreadyExists:
            existed = True
    try:
        state = sm.endpoint_describe(deployment.aws_name)
    except NotFound:
        fields_save(deployment, polls=0)  # polled an endpoint that was never created: create it
        return NEXT
    if existed and state.status == "Failed":
        sm.endpoint_delete(deployment.aws_name)  # a retry after a failure: replace the failed endpoint
        return _poll(deployment)
    return _on_endpoint_state(deployment, state)


def _step_updating(deployment: Deployment) -> float | None:
    unchanged = resources.desired_spec(deployment) == deployment.live_spec
    if unchanged and deployment.model_name == deployment.live_model_name:
        if deployment.kind == Kind.MULTI_MODEL:
            multi_model_copy(deployment)
        fields_save(deployment, target_generation=deployment.generation)  # caught up without a new config
        return _settle(deployment)
    if (
        deployment.model_name == deployment.live_model_name
        or deployment.target_generation < deployment.generation
    ) and deployment.polls == 0:
        _set_target(deployment)
    if deployment.polls == 0:
        _ensure_model_and_config(deployment)
        if deployment.kind == Kind.BATCH:
            return _settle(deployment)
        if deployment.kind == Kind.ASYNC:  # AWS refuses to update a variant under auto scaling
            autoscaling.scaling_remove(deployment.aws_name)
        try:
            sm.endpoint_update(deployment.aws_name, deployment.config_name)
        except InProgress:
            pass
        except NotFound:
            sm.endpoint_create(deployment.aws_name, deployment.config_name, resources.tags(deployment))
    return _on_endpoint_state(deployment, sm.endpoint_describe(deployment.aws_name))


def _on_endpoint_state(deployment: Deployment, state: sm.EndpointState) -> float | None:
    if state.status == "Failed":
        _fail(deployment, f"SageMaker reports the endpoint Failed: {state.failure_reason}")
        return None
    if state.status == "InService" and state.config_name == deployment.config_name:
        return _settle(deployment)
    if state.status == "InService" and state.failure_reason:
        _scaling_on(deployment)  # the previous config serves on: let it scale again
        _fail(deployment, f"The update was rolled back: {state.failure_reason}")
        return None
    if state.status == "InService" and deployment.status == Status.CREATING:
        transition(deployment, Status.UPDATING, polls=0)  # it exists on another config: update it onto ours
        return NEXT
    if state.status == "InService":
        fields_save(deployment, polls=0)  # still on the old config: issue the update again
        return NEXT
    return _poll(deployment)


def _scaling_on(deployment: Deployment) -> None:
    """An async endpoint's scalable target, policies and wake alarm (upserts; off during updates)."""
    if deployment.kind == Kind.ASYNC:
        values = resources.values(deployment)
        autoscaling.scaling_apply(deployment.aws_name, values["min_capacity"], values["max_capacity"])


def _settle(deployment: Deployment) -> float | None:
    """The target generation is live: clean the previous one, settle members, mark in service."""
    old_model, old_config = deployment.live_model_name, deployment.live_config_name
    _scaling_on(deployment)  # on every settle: after an update or a recreate, scaling is back
    if old_config and old_config != deployment.config_name:
        sm.endpoint_config_delete(old_config)
    if old_model and old_model != deployment.model_name:
        sm.model_delete(old_model)
    members_settle(deployment)
    transition(
        deployment,
        Status.IN_SERVICE,
        live_model_name=deployment.model_name,
        live_config_name=deployment.config_name,
        live_spec=deployment.target_spec,
        observed_generation=deployment.target_generation,
        polls=0,
        retries=0,
        last_error="",
        drift="",
    )
    if deployment.generation > deployment.observed_generation:
        transition(deployment, Status.UPDATING)  # desired state moved on while we worked
        return NEXT
    if deployment.kind == Kind.BATCH:
        from deployments.services.runs import transform_runs_start_due

        transform_runs_start_due(deployment=deployment)
    return None


def _endpoint_gone(deployment: Deployment) -> bool:
    """Delete the endpoint (again, once an earlier delete was refused); True when it no longer exists.

    SageMaker refuses DeleteEndpoint while the endpoint is Creating or Updating ("Cannot update
    in-progress endpoint"), which lasts minutes: a wait to poll through, not a retry of a flaky call.
    """
    if deployment.polls == 0 and deployment.kind == Kind.ASYNC:
        autoscaling.scaling_remove(deployment.aws_name)
    try:
        if deployment.polls == 0:
            sm.endpoint_delete(deployment.aws_name)
        if sm.endpoint_describe(deployment.aws_name).status != "Deleting":
            sm.endpoint_delete(deployment.aws_name)  # the last delete was refused; it may be accepted now
    except NotFound:
        return True
    except InProgress:
        pass  # still Creating or Updating: poll, then delete again
    return False


def _step_deleting(deployment: Deployment) -> float | None:
    if deployment.kind != Kind.BATCH and not _endpoint_gone(deployment):
        return _poll(deployment)
    for name in {deployment.config_name, deployment.live_config_name} - {""}:
        sm.endpoint_config_delete(name)
    for name in {deployment.model_name, deployment.live_model_name} - {""}:
        sm.model_delete(name)
    deployment.members.update(state=MemberState.LEAVING)
    if deployment.kind == Kind.MULTI_MODEL:
        multi_model_settle(deployment)  # nobody is served any more: every object under the prefix goes
    tenant_ids = {*deployment.members.values_list("tenant_id", flat=True), deployment.tenant_id} - {None}
    deployment.members.all().delete()
    transition(deployment, Status.DELETED, polls=0, retries=0, live_spec={})
    from deployments.services.teardown import tenants_offboard_if_clear

    tenants_offboard_if_clear(tenant_ids=tenant_ids)
    return None


STEPS: dict[str, Step] = {
    Status.PENDING: _step_pending,
    Status.CREATING: _step_creating,
    Status.UPDATING: _step_updating,
    Status.DELETING: _step_deleting,
}

"""Reconcile: compare desired rows with what SageMaker reports, resume what stalled, repair drift,
list orphans, start due batch runs and finish offboardings. Run periodically (saasadmin/cron.py)."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import django_rq
from django.db.models import F
from django.utils import timezone
from redis.exceptions import RedisError

from deployments import conf, resources
from deployments.aws import AwsError, NotFound, recording
from deployments.aws import sagemaker as sm
from deployments.models import Deployment, Kind, Status
from deployments.queueing import ADVANCE, QUEUE, rows_with_live_jobs
from deployments.services.desired import deployment_enqueue
from deployments.services.runs import transform_runs_resume, transform_runs_start_all_due
from deployments.services.teardown import offboardings_continue, tenants_offboard_if_clear
from deployments.states import StateConflict, call_recorder, event_record, resume_status, transition
from tenants.models import Tenant, TenantStatus

log = logging.getLogger(__name__)
REPORT_KEY = "saasadmin:deployments:reconcile"
ALERT_KEY = "saasadmin:deployments:drift-alert"
# Left in Redis by every pass, without expiry: missing means Redis restarted empty (or was flushed).
QUEUE_KEPT_KEY = "saasadmin:deployments:queue-kept"
MOVING = (Status.CREATING, Status.UPDATING, Status.DELETING)


@dataclass
class ReconcileReport:
    """What one reconcile pass did; the last one is kept in Redis for the fleet page."""

    at: str = ""
    resumed: list[int] = field(default_factory=list)
    drifted: list[str] = field(default_factory=list)
    orphans: list[dict[str, str]] = field(default_factory=list)
    runs_started: int = 0
    runs_resumed: list[int] = field(default_factory=list)  # batch runs whose poll was lost
    offboarded: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # For a person: reconcile saw a picture of AWS it will not act on (e.g. most of the fleet missing).
    alerts: list[str] = field(default_factory=list)


def deployments_reconcile(*, deep: bool = False, repair_missing: bool = False) -> ReconcileReport:
    """One reconcile pass (see the module docstring).

    Every pass lists endpoints in bulk (deleted or Failed out of band); a `deep` pass (hourly) also
    describes each endpoint for config drift and lists orphans, which costs a call per resource.
    `repair_missing` is a person's word that the endpoints missing from the listing are really gone.
    """
    report = ReconcileReport(at=timezone.now().isoformat())
    report.resumed = _resume_stalled()
    serving = list(Deployment.objects.filter(status=Status.IN_SERVICE).exclude(kind=Kind.BATCH))
    try:
        statuses = sm.endpoint_statuses(resources.NAME_PREFIX)
    except AwsError as exc:
        report.errors.append(f"ListEndpoints: {exc}")
    else:
        if _listing_plausible(serving, statuses, report, repair_missing=repair_missing):
            report.resumed += _retry_transient_failures()  # AWS answers again
            _serving_check(serving, statuses, report, deep=deep)
    report.runs_resumed = transform_runs_resume()
    report.runs_started += transform_runs_start_all_due()
    if deep:
        try:
            report.orphans = orphans_list()
        except AwsError as exc:
            report.errors.append(f"orphans: {exc}")
    offboardings_continue()  # an endpoint that held a tenant back may let it leave now
    offboarding = Tenant.objects.filter(status=TenantStatus.OFFBOARDING).values_list("pk", flat=True)
    report.offboarded = [t.slug for t in tenants_offboard_if_clear(tenant_ids=list(offboarding))]
    _report_store(report)
    return report


def _resume_stalled() -> list[int]:
    """Enqueue rows whose job was lost: pending too long, a poll overdue, or behind their desired state."""
    resumed = []
    for deployment in _without_live_job(_late_rows(timezone.now())):
        event_record(deployment, action="Reconcile", outcome="resumed", resource=deployment.status)
        deployment_enqueue(deployment)
        resumed.append(deployment.pk)
    behind = Deployment.objects.filter(status=Status.IN_SERVICE, generation__gt=F("observed_generation"))
    for deployment in behind:
        try:
            transition(deployment, Status.PENDING, reason="Desired state is ahead of SageMaker")
        except StateConflict:
            continue
        deployment_enqueue(deployment)
        resumed.append(deployment.pk)
    return resumed


def _late_rows(now: datetime) -> list[Deployment]:
    """Rows pending past their grace, and moving rows whose next poll is overdue; all of them at once
    when Redis lost its data since the last pass (restarted empty: their jobs went with it)."""
    if _queue_lost_its_jobs():
        return list(Deployment.objects.filter(status__in=[Status.PENDING, *MOVING]))
    pending_before = now - timedelta(seconds=conf.pending_grace_seconds())
    pending = Deployment.objects.filter(status=Status.PENDING, updated_at__lt=pending_before)
    soonest = min(conf.overdue_grace_seconds(), conf.stale_seconds())  # no row is late before this
    moving = Deployment.objects.filter(status__in=MOVING, updated_at__lt=now - timedelta(seconds=soonest))
    return [*pending, *(deployment for deployment in moving if _overdue(deployment, now))]


def _queue_lost_its_jobs() -> bool:
    """Whether Redis lost its data since the last pass: the mark each pass leaves there is gone."""
    try:
        return bool(django_rq.get_connection(QUEUE).set(QUEUE_KEPT_KEY, "1", nx=True))
    except RedisError:
        return False


def _overdue(deployment: Deployment, now: datetime) -> bool:
    """Whether the row's next job is late by a few times the delay it was enqueued with.

    Each step saves the row (updated_at) as it enqueues the next poll, after conf.poll_delay(polls - 1),
    or the next retry, after conf.retry_delay(retries). Late is capped by stale_seconds.
    """
    waits = [conf.poll_delay(deployment.polls - 1) if deployment.polls else 0.0]
    waits.append(conf.retry_delay(deployment.retries) if deployment.retries else 0.0)
    late_after = conf.overdue_factor() * max(waits) + conf.overdue_grace_seconds()
    return (now - deployment.updated_at).total_seconds() > min(late_after, conf.stale_seconds())


def _without_live_job(candidates: list[Deployment]) -> list[Deployment]:
    """Leave out the rows whose job is only waiting its turn: a long queue has not lost it."""
    if not candidates:
        return []
    try:
        live = rows_with_live_jobs(ADVANCE)
    except RedisError as exc:
        log.warning("reconcile cannot see the queue (%s); resuming nothing this time", exc)
        return []
    return [deployment for deployment in candidates if str(deployment.pk) not in live]


def _listing_plausible(
    serving: list[Deployment], statuses: dict[str, str], report: ReconcileReport, *, repair_missing: bool
) -> bool:
    """False, with an alert for a person, when too much of the fleet is missing from ListEndpoints.

    A fleet that vanishes at once is a wrong AWS_REGION, another account's credentials or an emulator
    restarted without its data, not drift: recreating it all would be the outage.
    """
    missing = sum(deployment.aws_name not in statuses for deployment in serving)
    limit = max(1, min(conf.drift_max_missing(), conf.drift_max_share() * len(serving)))
    if missing <= limit or repair_missing:
        _alert_store(None)
        return True
    message = (
        f"ListEndpoints does not show {missing} of the {len(serving)} in-service endpoints, more than "
        f"reconcile repairs on its own ({int(limit)}): nothing was repaired. Check AWS_REGION, the "
        "account of the credentials and the emulator's data; if the endpoints really are gone, run "
        "`manage.py deployments_reconcile --repair-missing`."
    )
    log.warning("reconcile alert: %s", message)
    report.alerts.append(message)
    _alert_store(message)
    return False


def _serving_check(
    serving: list[Deployment], statuses: dict[str, str], report: ReconcileReport, *, deep: bool
) -> None:
    """Check each in-service endpoint; one missing from the listing is described before it is repaired."""
    for deployment in serving:
        status = statuses.get(deployment.aws_name)
        if status is None:
            try:
                status = _described_status(deployment)
            except AwsError as exc:
                report.errors.append(f"{deployment.aws_name}: {exc}")
                continue
        _status_check(deployment, status, report, deep=deep)


def _described_status(deployment: Deployment) -> str | None:
    """The endpoint's status per DescribeEndpoint; None only when SageMaker confirms it does not exist."""
    with recording(call_recorder(deployment)):
        try:
            return sm.endpoint_describe(deployment.aws_name).status
        except NotFound:
            return None


def _retry_transient_failures() -> list[int]:
    """Start again the deployments failed only because AWS kept failing transiently (outage, throttling),
    toward what is desired: a delete cut short by the outage resumes deleting."""
    retried = []
    for deployment in Deployment.objects.filter(status=Status.FAILED, failed_transient=True):
        to = resume_status(deployment)
        what = "delete" if to == Status.DELETING else "deployment"
        try:
            transition(
                deployment,
                to,
                reason=f"AWS answers again: reconcile retries the {what}.",
                polls=0,
                retries=0,
                last_error="",
                failed_transient=False,
            )
        except StateConflict:
            continue
        deployment_enqueue(deployment)
        retried.append(deployment.pk)
    return retried


def _status_check(deployment: Deployment, status: str | None, report: ReconcileReport, *, deep: bool) -> None:
    """Repair an endpoint deleted or Failed out of band; in a deep pass, one moved to another config."""
    if status is None:
        _repair(
            deployment, "The endpoint was deleted outside saasadmin; recreating it.", Status.CREATING, report
        )
    elif status == "Failed":
        _repair(
            deployment,
            "SageMaker reports the endpoint Failed outside a change by saasadmin.",
            Status.FAILED,
            report,
        )
    elif deep and status == "InService":
        with recording(call_recorder(deployment)):
            try:
                state = sm.endpoint_describe(deployment.aws_name)
            except AwsError as exc:
                report.errors.append(f"{deployment.aws_name}: {exc}")
                return
        if state.config_name != deployment.live_config_name:
            message = (
                f"The endpoint was moved to {state.config_name} outside saasadmin; "
                f"restoring {deployment.live_config_name}."
            )
            _repair(deployment, message, Status.UPDATING, report)


def _repair(deployment: Deployment, message: str, to: str, report: ReconcileReport) -> None:
    report.drifted.append(f"{deployment.aws_name}: {message}")
    event_record(deployment, action="Reconcile", outcome="drift", resource=deployment.aws_name, error=message)
    fields: dict[str, object] = {"drift": message[:300], "polls": 0, "retries": 0}
    if to == Status.FAILED:
        fields.update(last_error=message, failed_transient=False)
    elif to == Status.UPDATING:
        # A new generation: its config is created afresh and the endpoint updated back onto it.
        fields.update(generation=deployment.generation + 1, live_spec={})
    try:
        transition(deployment, to, reason=message, **fields)
    except StateConflict:
        return
    if to != Status.FAILED:
        deployment_enqueue(deployment)


def orphans_list() -> list[dict[str, str]]:
    """Resources named like ours that no live deployment row accounts for, and that carry our tags."""
    known: set[str] = set()
    live = Deployment.objects.exclude(status=Status.DELETED).values_list(
        "aws_name", "model_name", "config_name", "live_model_name", "live_config_name"
    )
    for names in live:
        known.update(name for name in names if name)
    orphans = []
    for resource in sm.resources_list(resources.NAME_PREFIX):
        if resource.name in known:
            continue
        tags = sm.tags_of(resource.arn)  # only for unknown names: one call each
        if resources.TAG_DEPLOYMENT in tags:
            orphans.append({"type": resource.type, "name": resource.name, "arn": resource.arn, **tags})
    return orphans


def _report_store(report: ReconcileReport) -> None:
    try:
        django_rq.get_connection(QUEUE).set(REPORT_KEY, json.dumps(asdict(report)), ex=24 * 3600)
    except RedisError:
        log.warning("could not store the reconcile report")


def _alert_store(message: str | None) -> None:
    """Keep the alert for the fleet page until a pass sees a plausible listing again (then drop it)."""
    try:
        connection = django_rq.get_connection(QUEUE)
        if message is None:
            connection.delete(ALERT_KEY)
        else:
            alert = {"at": timezone.now().isoformat(), "message": message}
            connection.set(ALERT_KEY, json.dumps(alert), ex=24 * 3600)
    except RedisError:
        log.warning("could not store the reconcile alert")


def reconcile_last_report() -> ReconcileReport | None:
    """The last reconcile pass's report, or None when none ran in the last day."""
    try:
        raw = django_rq.get_connection(QUEUE).get(REPORT_KEY)
    except RedisError:
        return None
    return ReconcileReport(**json.loads(raw)) if raw else None

"""The isolation check as background work: asked for from the tenant page, run by an RQ job.

`isolation_check_request` queues a check (or returns the one already queued or running: one at a time
per tenant). The job, `isolation_check_execute`, makes the attempts (deployments/services/isolation.py),
saving them one by one so that the tenant page shows its progress, then records the evidence and marks
the check done in one transaction.

Run twice or killed half-way, it leaves exactly one evidence event: a check already done is left alone,
and a rerun of one that was running first revokes the token its predecessor made (each run's token is
new, as a token's secret is shown once and never stored), then makes every attempt again. A run whose
attempts raise revokes its token, records why on the check and stops (the operator can run it again).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from deployments.models import IsolationCheck
from deployments.models_isolation import ACTIVE_CHECK_STATES, CheckState
from deployments.queueing import enqueue_on_commit
from deployments.services.isolation import (
    ATTEMPTS_TOTAL,
    Attempt,
    isolation_attempts_make,
    isolation_evidence_record,
)
from tenants.models import Tenant, TenantToken
from tenants.tokens import token_revoke

log = logging.getLogger(__name__)
JOB = "deployments.tasks.isolation_check_advance"
# A check takes seconds; one still queued or running after this lost its job, and a new one may start.
ABANDONED_AFTER = timedelta(minutes=10)


def isolation_check_request(*, actor: Any, tenant: Tenant, host: str, secure: bool) -> IsolationCheck:
    """Queue an isolation check of `tenant`, or return the one queued or running already.

    ValidationError when the tenant is being offboarded (it can get no token).
    """
    if tenant.is_leaving:
        raise ValidationError(f"{tenant.name} is being offboarded: it can get no token to check with.")
    running = isolation_check_active(tenant)
    if running is not None and timezone.now() - running.created_at < ABANDONED_AFTER:
        return running
    if running is not None:  # its job was lost (or its worker killed for good): let a new one start
        isolation_check_abandon(running, "it did not finish within ten minutes")
    try:
        with transaction.atomic():
            check = IsolationCheck.objects.create(
                tenant=tenant,
                requested_by=actor if getattr(actor, "pk", None) else None,
                host=host,
                secure=secure,
                total=ATTEMPTS_TOTAL,
            )
            enqueue_on_commit(JOB, check.pk, str(tenant.pk))
    except IntegrityError:  # asked twice at once: the other request's check runs
        return IsolationCheck.objects.get(tenant=tenant, state__in=ACTIVE_CHECK_STATES)
    return check


def isolation_check_active(tenant: Tenant) -> IsolationCheck | None:
    return IsolationCheck.objects.filter(tenant=tenant, state__in=ACTIVE_CHECK_STATES).first()


def isolation_check_abandon(check: IsolationCheck, why: str) -> None:
    """Mark a queued or running check failed (`why` completes "The check was abandoned: …")."""
    _token_retire(check)
    IsolationCheck.objects.filter(pk=check.pk, state__in=ACTIVE_CHECK_STATES).update(
        state=CheckState.FAILED, finished_at=timezone.now(), error=f"The check was abandoned: {why}."
    )


def isolation_check_latest_run(tenant: Tenant) -> IsolationCheck | None:
    return IsolationCheck.objects.filter(tenant=tenant).select_related("requested_by").first()


def isolation_check_execute(*, check_id: int, tenant_id: str) -> str:
    """The job: run the check `check_id` of tenant `tenant_id` to its end (see the module)."""
    check = (
        IsolationCheck.objects.filter(pk=check_id, tenant_id=tenant_id)
        .select_related("tenant", "requested_by", "token")
        .first()
    )
    if check is None or not check.active:
        return "nothing to do"
    _token_retire(check)
    IsolationCheck.objects.filter(pk=check.pk).update(
        state=CheckState.RUNNING, started_at=timezone.now(), attempts=[], total=ATTEMPTS_TOTAL, error=""
    )
    actor, tenant = check.requested_by, check.tenant
    try:
        token, attempts = isolation_attempts_make(
            actor=actor,
            tenant=tenant,
            host=check.host,
            secure=check.secure,
            token_made=lambda made: _token_save(check.pk, made),
            progress=lambda done: _progress_save(check.pk, done),
        )
    except Exception as exc:
        log.exception("isolation check %s of %s stopped", check.pk, tenant.slug)
        IsolationCheck.objects.filter(pk=check.pk, state=CheckState.RUNNING).update(
            state=CheckState.FAILED,
            finished_at=timezone.now(),
            error=f"The check stopped before its end ({type(exc).__name__}: {exc}); its token was revoked.",
        )
        return "failed"
    return _finish(check.pk, actor=actor, tenant=tenant, token=token, attempts=attempts)


@transaction.atomic
def _finish(check_id: int, *, actor: Any, tenant: Tenant, token: TenantToken, attempts: list[Attempt]) -> str:
    """Record the evidence and mark the check done, both or neither (a rerun then records it once)."""
    check = IsolationCheck.objects.select_for_update().get(pk=check_id)
    if check.state != CheckState.RUNNING:
        return "already finished"
    event = isolation_evidence_record(actor=actor, tenant=tenant, token=token, attempts=attempts)
    check.state, check.event, check.finished_at = CheckState.DONE, event, timezone.now()
    check.attempts = [asdict(attempt) for attempt in attempts]
    check.save(update_fields=["state", "event", "finished_at", "attempts"])
    return "done"


def _token_save(check_id: int, token: TenantToken) -> None:
    IsolationCheck.objects.filter(pk=check_id).update(token=token)


def _progress_save(check_id: int, attempts: list[Attempt]) -> None:
    IsolationCheck.objects.filter(pk=check_id).update(attempts=[asdict(attempt) for attempt in attempts])


def _token_retire(check: IsolationCheck) -> None:
    """Revoke the token an earlier, interrupted run of this check left behind (if any and still active)."""
    token = check.token
    if token is None or token.revoked_at is not None:
        return
    with contextlib.suppress(ValidationError):  # revoked meanwhile: what we wanted
        token_revoke(actor=check.requested_by, token=token, reason="the isolation check was interrupted")

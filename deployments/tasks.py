"""RQ jobs: each takes ids, loads nothing itself and calls one service (which re-checks the tenant)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from deployments.services.provision import deployment_advance as _advance
from deployments.services.reconcile import deployments_reconcile as _reconcile
from deployments.services.run_control import transform_run_notify as _run_notify
from deployments.services.runs import transform_run_advance as _run_advance
from deployments.services.usage_flush import usage_flush as _usage_flush


class JobInterrupted(BaseException):
    """SIGTERM reached a job's process: not an error of the job's own, so no `except Exception` takes it."""


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Turn a SIGTERM that would end the process on the spot into an exception that unwinds the job.

    RQ's work horse leaves SIGTERM at its default (die at once), and a service manager stopping the
    workers signals the horse too: unwinding lets the job write its timeline and RQ retry it.
    """
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield  # a worker with its own SIGTERM handling (warm shutdown) keeps it
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise JobInterrupted("The worker was stopped (SIGTERM) during the job.")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def deployment_advance(deployment_id: int, tenant_id: str | None) -> str:
    """Advance one deployment along its state machine (enqueued by services and by itself to poll)."""
    with _sigterm_unwinds():
        return _advance(deployment_id=deployment_id, tenant_id=tenant_id)


def transform_run_advance(run_id: int, tenant_id: str, once: bool = False) -> str:
    """Create or poll one batch transform run (`once`: one step, e.g. a stop, without polling on)."""
    with _sigterm_unwinds():
        return _run_advance(run_id=run_id, tenant_id=tenant_id, once=once)


def transform_run_notify(run_id: int, tenant_id: str) -> int:
    """Tell the tenant's admins and the operators that a run ended."""
    return _run_notify(run_id=run_id, tenant_id=tenant_id)


def deployments_reconcile(deep: bool = False) -> dict[str, int]:
    """The periodic reconcile pass (saasadmin/cron.py); returns counts for the job's result."""
    report = _reconcile(deep=deep)
    return {"resumed": len(report.resumed), "drifted": len(report.drifted), "orphans": len(report.orphans)}


def usage_flush() -> dict[str, int]:
    """Move metered API usage from Redis into UsageMinute rows (saasadmin/cron.py, every minute)."""
    report = _usage_flush()
    return {"taken": report.taken, "applied": report.applied, "already_applied": report.already_applied}

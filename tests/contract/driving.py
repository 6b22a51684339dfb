"""Driving the product as an operator would, through the real RQ worker, one labelled step at a time."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from django.test import TestCase
from rq import SimpleWorker
from rq.exceptions import NoSuchJobError
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from deployments.models import Deployment, ModelPackage, RunStatus, Status, TransformRun
from deployments.services import (
    Draft,
    deployment_apply,
    deployment_delete,
    deployment_member_join,
    deployment_member_leave,
    draft_problems,
    model_package_upload,
    transform_run_start,
    transform_run_stop,
)
from tenants.models import Tenant
from tests.contract.capture import CallLog

IN_SERVICE, DELETED, COMPLETED = Status.IN_SERVICE.value, Status.DELETED.value, RunStatus.COMPLETED.value


@dataclass(frozen=True)
class Outcome:
    """Where a step left the deployment (or run); `expected` None marks a probe whose outcome is free."""

    scenario: str
    step: str
    expected: str | None
    actual: str
    detail: str = ""


def queue_clean(queue: Any) -> None:
    queue.empty()
    for registry in (FailedJobRegistry(queue=queue), ScheduledJobRegistry(queue=queue)):
        for job_id in registry.get_job_ids():
            with contextlib.suppress(NoSuchJobError):
                registry.remove(job_id, delete_job=True)


class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker without the pub/sub thread it starts for remote commands.

    Stopping that thread waits on its socket for a quarter of a second per burst; a burst worker in
    tests takes no remote commands.
    """

    def subscribe(self) -> None:
        return None

    def unsubscribe(self) -> None:
        return None


def queue_drain(queue: Any) -> list[str]:
    """Run burst workers (sharing this connection, hence the open transaction) until nothing is left.

    Jobs enqueue their polls on commit, so the callbacks are run after each burst, as the
    `run_worker` fixture of tests/deployments does. Returns the failed jobs' tracebacks.
    """
    for _ in range(200):
        with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
            BurstWorker([queue], connection=queue.connection).work(burst=True)
        if not callbacks and queue.count == 0:
            break
    failed = FailedJobRegistry(queue=queue)
    traces = [str(queue.fetch_job(job_id).exc_info) for job_id in failed.get_job_ids()]
    queue_clean(queue)
    return traces


def accepted(draft: Draft, *alternatives: dict[str, Any]) -> Draft:
    """`draft` with the first settings the product accepts among `alternatives` (unchanged if none is).

    The probe scenarios ask the product for the riskiest choice it still offers: the contract is that
    every choice the product accepts makes a request AWS accepts.
    """
    for settings in alternatives:
        trial = replace(draft, settings={**draft.settings, **settings})
        if not draft_problems(trial):
            return trial
    return draft


def accepted_each(draft: Draft, *choices: list[dict[str, Any]]) -> Draft:
    """`accepted` for each group of alternatives in turn (instance type, then payload, …)."""
    for alternatives in choices:
        draft = accepted(draft, *alternatives)
    return draft


@dataclass
class World:
    """The operator, tenants and model packages the scenarios use.

    `artifacts` holds real model archives to upload; `sagemaker` is a client of the test's own (its
    calls are not captured) for what happens outside the product, such as an orphan left in the account.
    """

    operator: Any
    tenants: dict[str, Tenant]
    packages: dict[str, ModelPackage]
    artifacts: dict[str, bytes]
    sagemaker: Any
    emulator: Any = None  # the emulator's handle: its transform jobs can be paced for a stop


class Driver:
    """Runs one scenario's steps: each labels the calls it captures and records where it left things."""

    def __init__(self, log: CallLog, queue: Any, world: World) -> None:
        self.log, self.queue, self.world = log, queue, world
        self.outcomes: list[Outcome] = []
        self.scenario, self.kind = "", ""

    def begin(self, scenario: str, kind: str) -> None:
        self.scenario, self.kind = scenario, kind
        self.log.at(scenario, kind, "")

    def _do(self, step: str, action: Callable[[], Any]) -> tuple[Any, list[str]]:
        self.log.at(self.scenario, self.kind, step)
        with TestCase.captureOnCommitCallbacks(execute=True):
            result = action()
        return result, queue_drain(self.queue)

    def broke(self, exc: Exception) -> None:
        """The scenario stopped on an exception: its outcome test fails, saying where and why."""
        self._record(self.log.step or "start", "done", "raised", f"{type(exc).__name__}: {exc}")

    def _record(self, step: str, expected: str | None, actual: str, detail: str) -> None:
        self.outcomes.append(Outcome(self.scenario, step, expected, actual, detail))

    def deployment_step(
        self, step: str, action: Callable[[], Any], deployment: Deployment | None, expected: str | None
    ) -> Deployment:
        result, failures = self._do(step, action)
        deployment = deployment or result
        deployment.refresh_from_db()
        self._record(step, expected, deployment.status, " | ".join([deployment.last_error, *failures]))
        return deployment

    def apply(self, step: str, draft: Draft, expected: str | None = IN_SERVICE) -> Deployment:
        action = partial(deployment_apply, actor=self.world.operator, draft=draft)
        return self.deployment_step(step, action, None, expected)

    def change(self, step: str, deployment: Deployment, **changes: Any) -> None:
        draft = Draft.of(deployment, **changes)
        action = partial(deployment_apply, actor=self.world.operator, draft=draft, deployment=deployment)
        self.deployment_step(step, action, deployment, IN_SERVICE)

    def join(self, step: str, deployment: Deployment, tenant: str, package: str) -> None:
        action = partial(
            deployment_member_join,
            actor=self.world.operator,
            deployment=deployment,
            tenant=self.world.tenants[tenant],
            model_package=self.world.packages[package],
        )
        self.deployment_step(step, action, deployment, IN_SERVICE)

    def leave(self, step: str, deployment: Deployment, tenant: str, expected: str = IN_SERVICE) -> None:
        tenant_row = self.world.tenants[tenant]
        action = partial(
            deployment_member_leave, actor=self.world.operator, deployment=deployment, tenant=tenant_row
        )
        self.deployment_step(step, action, deployment, expected)

    def delete(self, step: str, deployment: Deployment, expected: str | None = DELETED) -> None:
        action = partial(deployment_delete, actor=self.world.operator, deployment=deployment)
        self.deployment_step(step, action, deployment, expected)

    def run(self, step: str, deployment: Deployment, expected: str | None = COMPLETED) -> None:
        action = partial(transform_run_start, actor=self.world.operator, deployment=deployment)
        run, failures = self._do(step, action)
        run = TransformRun.objects.get(pk=run.pk)
        self._record(step, expected, run.status, " | ".join([run.failure_reason, *failures]))

    def stop(self, step: str, deployment: Deployment) -> None:
        """Start a run, let the worker create its job (paced, so it is still running), then stop it."""
        knobs = self.world.emulator.ctx.store.settings
        # Long enough that a loaded machine cannot finish the job before the stop; a stop ends the wait.
        knobs.transform_seconds_per_object = 30.0
        try:
            self.log.at(self.scenario, self.kind, step)
            with TestCase.captureOnCommitCallbacks(execute=True):
                run = transform_run_start(actor=self.world.operator, deployment=deployment)
            with TestCase.captureOnCommitCallbacks(execute=True):
                BurstWorker([self.queue], connection=self.queue.connection).work(burst=True)
            run.refresh_from_db()
            failures: list[str] = []
            if run.is_active:
                _, failures = self._do(step, partial(transform_run_stop, actor=self.world.operator, run=run))
        finally:
            knobs.transform_seconds_per_object = 0.0
        run = TransformRun.objects.get(pk=run.pk)
        self._record(step, "stopped", run.status, " | ".join([run.failure_reason, *failures]))

    def upload(self, step: str, tenant: str, framework: str, version: str) -> ModelPackage:
        action = partial(
            model_package_upload,
            actor=self.world.operator,
            tenant=self.world.tenants[tenant],
            framework=framework,
            version=version,
            fileobj=io.BytesIO(self.world.artifacts[tenant]),
        )
        package, failures = self._do(step, action)
        self._record(step, "uploaded", "uploaded", " | ".join([package.model_data_url, *failures]))
        return package

    def call(self, step: str, action: Callable[[], Any]) -> None:
        result, failures = self._do(step, action)
        self._record(step, None, "done", " | ".join([repr(result), *failures]))

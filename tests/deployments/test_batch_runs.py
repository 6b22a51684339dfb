"""Batch runs per file through real RQ workers and the emulator: each input file tracked from the input
area to its `.out`, a bad file failing alone with its reason, retry of the failed files only, stop while
in progress, a run skipped when the input area is empty, one run at a time, and who is told."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry

from deployments.models import (
    Deployment,
    DeploymentEvent,
    FileStatus,
    RunStatus,
    RunTrigger,
    Status,
    TransformRun,
)
from deployments.services import (
    Draft,
    deployment_apply,
    transform_run_now,
    transform_run_retry,
    transform_run_stop,
)
from deployments.services.run_control import transform_run_notify
from deployments.services.run_files import STOPPED_REASON
from deployments.services.runs import transform_run_advance
from deployments.signals import transform_run_finished
from emulator import artifacts
from emulator.artifacts import input_csv
from emulator.testing import scores
from tenants.models import Notice
from tenants.roles import Role
from tests.deployments.conftest import BUCKET, client_for
from tests.factories import make_tenant, make_user

Capture = Callable[..., Any]


def prefix_empty(aws: Any, prefix: str) -> None:
    listed = aws.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    for item in listed:
        aws.s3.delete_object(Bucket=BUCKET, Key=item["Key"])


@pytest.fixture
def batch(
    world: SimpleNamespace,
    aws: Any,
    package: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Capture,
) -> SimpleNamespace:
    """A tenant of its own (its S3 prefix emptied), its admin, and its batch deployment in service."""
    tenant = make_tenant(name="Runs Corp", slug=f"runs-{time.monotonic_ns() % 10**8}")
    prefix_empty(aws, f"datasets/{tenant.slug}/")
    admin = make_user(Role.TENANT_ADMIN, tenant, username=f"admin-{tenant.slug}")
    draft = Draft(
        name="Runs nightly",
        kind="batch",
        isolation="silo",
        tenant=tenant,
        model_package=package(None),
        settings={"schedule": "manual", "input_columns": 6},
    )
    with django_capture_on_commit_callbacks(execute=True):
        deployment = deployment_apply(actor=world.operator, draft=draft)
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    return SimpleNamespace(
        tenant=tenant, admin=admin, deployment=deployment, input=f"datasets/{tenant.slug}/input/"
    )


def put(aws: Any, key: str, body: bytes) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=body)


@pytest.fixture
def finished() -> Iterator[list[dict[str, Any]]]:
    """What receivers of transform_run_finished saw: the run's status and its files' at that moment."""
    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, run: TransformRun, **kwargs: Any) -> None:
        files = {f.input_key.rsplit("/", 1)[-1]: f.status for f in run.files.all()}
        seen.append({"run": run.pk, "status": run.status, "files": files})

    transform_run_finished.connect(receiver, dispatch_uid="test-batch-runs")
    yield seen
    transform_run_finished.disconnect(dispatch_uid="test-batch-runs")


def start(batch: SimpleNamespace, capture: Capture, actor: Any = None) -> TransformRun:
    with capture(execute=True):
        return transform_run_now(actor=actor or batch.admin, deployment=batch.deployment)


def test_each_file_gets_its_out_and_a_bad_file_fails_alone_with_its_line(
    batch: SimpleNamespace,
    aws: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Capture,
    finished: list[dict[str, Any]],
) -> None:
    put(aws, batch.input + "a.csv", input_csv("alpha", 20))
    put(aws, batch.input + "b.csv", input_csv("beta", 30))
    put(aws, batch.input + "c.csv", b"1,2,3,4,5,6\n1,2,oops,4,5,6\n")  # arrived in S3 without a check
    run = start(batch, django_capture_on_commit_callbacks)
    run_worker()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    job = aws.sagemaker.describe_transform_job(TransformJobName=run.job_name)["TransformResources"]
    assert (run.instance_type, run.instance_count) == (job["InstanceType"], job["InstanceCount"])  # its cost
    files = {f.input_key.rsplit("/", 1)[-1]: f for f in run.files.all()}
    assert set(files) == {"a.csv", "b.csv", "c.csv"}
    assert files["a.csv"].status == files["b.csv"].status == FileStatus.SUCCEEDED
    assert files["c.csv"].status == FileStatus.FAILED
    assert "c.csv at line 2" in files["c.csv"].reason
    assert "a.csv" not in files["c.csv"].reason
    assert files["a.csv"].size_bytes == len(input_csv("alpha", 20))
    # One .out per transformed file, one line per input row; none for the bad file.
    outputs = aws.s3.list_objects_v2(Bucket=BUCKET, Prefix=run.output_prefix.split(f"{BUCKET}/")[1])
    names = sorted(o["Key"].rsplit("/", 1)[-1] for o in outputs["Contents"])
    assert names == ["a.csv.out", "b.csv.out"]
    body = aws.s3.get_object(Bucket=BUCKET, Key=files["b.csv"].output_key.split(f"{BUCKET}/")[1])[
        "Body"
    ].read()
    assert len(body.decode().splitlines()) == 30
    # The job read exactly the recorded files, through the run's manifest.
    job = aws.sagemaker.describe_transform_job(TransformJobName=run.job_name)
    assert job["TransformInput"]["DataSource"]["S3DataSource"] == {
        "S3DataType": "ManifestFile",
        "S3Uri": run.manifest_uri,
    }
    # Receivers heard once, with every file's outcome already recorded.
    assert finished == [
        {
            "run": run.pk,
            "status": "failed",
            "files": {"a.csv": "succeeded", "b.csv": "succeeded", "c.csv": "failed"},
        }
    ]
    summary = DeploymentEvent.objects.get(deployment=batch.deployment, action="Run files")
    assert summary.resource.endswith("2 of 3 files transformed")


def test_a_retry_runs_only_the_failed_files_and_completes(
    batch: SimpleNamespace, aws: Any, run_worker: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    put(aws, batch.input + "good.csv", input_csv("alpha", 10))
    put(aws, batch.input + "bad.csv", b"1,2,3\n")
    run = start(batch, django_capture_on_commit_callbacks)
    run_worker()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    put(aws, batch.input + "bad.csv", input_csv("beta", 5))  # the tenant fixed the file
    with django_capture_on_commit_callbacks(execute=True):
        retry = transform_run_retry(actor=batch.admin, run=run)
    run_worker()
    retry.refresh_from_db()
    assert retry.status == RunStatus.COMPLETED, retry.failure_reason
    assert retry.trigger == RunTrigger.RETRY
    assert retry.retry_of == run
    assert [f.input_key.rsplit("/", 1)[-1] for f in retry.files.all()] == ["bad.csv"]
    assert retry.files.get().status == FileStatus.SUCCEEDED
    # The first run's good file keeps its result; the failed run cannot be retried twice.
    assert run.files.get(input_key__endswith="good.csv").status == FileStatus.SUCCEEDED
    with pytest.raises(ValidationError, match="retried already"):
        transform_run_retry(actor=batch.admin, run=run)


def test_a_completion_delivered_twice_changes_nothing(
    batch: SimpleNamespace,
    aws: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Capture,
    finished: list[dict[str, Any]],
    world: SimpleNamespace,
) -> None:
    put(aws, batch.input + "a.csv", input_csv("alpha", 5))
    run = start(batch, django_capture_on_commit_callbacks)
    run_worker()
    events = DeploymentEvent.objects.filter(deployment=batch.deployment).count()
    with django_capture_on_commit_callbacks(execute=True):
        assert transform_run_advance(run_id=run.pk, tenant_id=str(run.tenant_id)) == RunStatus.COMPLETED
    run_worker()
    assert DeploymentEvent.objects.filter(deployment=batch.deployment).count() == events
    assert len(finished) == 1
    # The notice job delivered twice tells nobody twice.
    assert transform_run_notify(run_id=run.pk, tenant_id=str(run.tenant_id)) == 0
    told = Notice.objects.filter(key=f"run:{run.pk}:completed")
    assert sorted(n.user.username for n in told) == sorted([batch.admin.username, world.operator.username])
    assert sorted(m.to[0] for m in mail.outbox) == sorted([batch.admin.email, world.operator.email])
    assert "finished" in mail.outbox[0].subject
    assert f"/runs/{run.pk}/" in mail.outbox[0].body


def test_a_run_with_an_empty_input_area_is_skipped_and_told(
    batch: SimpleNamespace, aws: Any, run_worker: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    run = start(batch, django_capture_on_commit_callbacks)
    run_worker()
    run.refresh_from_db()
    assert run.status == RunStatus.SKIPPED
    assert "holds no files" in run.failure_reason
    assert not aws.sagemaker.list_transform_jobs(NameContains=run.job_name)["TransformJobSummaries"]
    assert Notice.objects.filter(user=batch.admin, key=f"run:{run.pk}:skipped").exists()


def test_a_schedule_firing_on_an_empty_area_tells_people_once_until_a_run_happens(
    batch: SimpleNamespace, aws: Any, run_worker: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    skips = []
    for _ in range(3):  # three days of a daily schedule with nothing uploaded
        skips.append(start(batch, django_capture_on_commit_callbacks))
        run_worker()
    assert [Notice.objects.filter(key=f"run:{run.pk}:skipped").count() for run in skips] == [2, 0, 0]
    put(aws, batch.input + "a.csv", input_csv("alpha", 5))
    ran = start(batch, django_capture_on_commit_callbacks)
    run_worker()
    prefix_empty(aws, batch.input)
    skipped = start(batch, django_capture_on_commit_callbacks)
    run_worker()
    ran.refresh_from_db()
    assert ran.status != RunStatus.SKIPPED
    assert Notice.objects.filter(key=f"run:{skipped.pk}:skipped").count() == 2  # told again after a run


def test_never_two_runs_of_one_deployment_at_once(
    batch: SimpleNamespace, aws: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    put(aws, batch.input + "a.csv", input_csv("alpha", 5))
    first = start(batch, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match=f"{first.label} is still pending"):
        transform_run_now(actor=batch.admin, deployment=batch.deployment)
    assert TransformRun.objects.filter(deployment=batch.deployment).count() == 1


@pytest.fixture
def paced_emulator(aws: Any, settings: Any) -> Iterator[Any]:
    """An emulator whose transform jobs take 0.4 s per input object (S3 is the shared one)."""
    import emulator

    handle = emulator.start(port=0, transform_seconds_per_object=0.4)
    settings.EMULATOR_URL = handle.url
    yield handle
    handle.stop()


def _first_output(aws: Any, run: TransformRun) -> None:
    prefix = run.output_prefix.split(f"{BUCKET}/")[1]
    for _ in range(100):
        if aws.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("KeyCount"):
            return
        time.sleep(0.05)
    raise AssertionError("the job wrote no output")


def test_a_stopped_job_ends_stopped_keeps_its_finished_files_and_nobody_polls_on(
    paced_emulator: Any,
    batch: SimpleNamespace,
    aws: Any,
    queue: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    for name in ("a", "b", "c", "d", "e"):
        put(aws, batch.input + f"{name}.csv", input_csv("alpha", 5))
    run = start(batch, django_capture_on_commit_callbacks)
    # One step of the worker: the job is created, and in progress.
    with django_capture_on_commit_callbacks(execute=True):
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    run.refresh_from_db()
    assert run.status == RunStatus.IN_PROGRESS, run.failure_reason
    _first_output(aws, run)
    with django_capture_on_commit_callbacks(execute=True):
        transform_run_stop(actor=batch.admin, run=run)
    assert TransformRun.objects.get(pk=run.pk).status == RunStatus.STOPPING
    run_worker()
    run.refresh_from_db()
    assert run.status == RunStatus.STOPPED
    files = list(run.files.all())
    done = [f for f in files if f.status == FileStatus.SUCCEEDED]
    stopped = [f for f in files if f.status == FileStatus.FAILED]
    assert done
    assert stopped
    assert len(done) + len(stopped) == 5
    assert all(f.reason == STOPPED_REASON for f in stopped)
    paced = client_for(paced_emulator.url, "sagemaker")
    assert paced.describe_transform_job(TransformJobName=run.job_name)["TransformJobStatus"] == "Stopped"
    assert DeploymentEvent.objects.filter(deployment=batch.deployment, action="StopTransformJob").exists()
    # Nothing left to poll it: no job waiting, none scheduled.
    assert queue.count == 0
    assert ScheduledJobRegistry(queue=queue).count == 0
    # What was stopped can be retried: a new job over the files it did not reach.
    with django_capture_on_commit_callbacks(execute=True):
        retry = transform_run_retry(actor=batch.admin, run=run)
    assert retry.files.count() == len(stopped)


def test_stopping_a_run_that_ended_is_refused(
    batch: SimpleNamespace, aws: Any, run_worker: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    run = start(batch, django_capture_on_commit_callbacks)
    run_worker()
    run.refresh_from_db()
    with pytest.raises(ValidationError, match="nothing to stop"):
        transform_run_stop(actor=batch.admin, run=run)
    assert Deployment.objects.get(pk=batch.deployment.pk).status == Status.IN_SERVICE


def test_uploaded_files_are_transformed_when_the_schedule_fires(
    batch: SimpleNamespace,
    aws: Any,
    client: Any,
    queue: Any,
    run_worker: Any,
    finished: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    """Upload from the page → the schedule fires (reconcile's pass, a job of its own) → one `.out` per file
    holding the model's predictions → the run is told finished with every file transformed. Ingestion
    of the `.out` files and the dashboard's numbers continue from the signal (insights)."""
    client.force_login(batch.admin)
    bodies = {"monday.csv": input_csv("alpha", 40), "tuesday.csv": input_csv("gamma", 25)}
    for name, body in bodies.items():
        handle = io.BytesIO(body)
        handle.name = name
        url = reverse("dataset_upload", kwargs={"tenant_id": batch.tenant.pk})
        assert client.post(url, {"file": handle}).status_code == 302
    Deployment.objects.filter(pk=batch.deployment.pk).update(
        settings={**batch.deployment.settings, "schedule": "daily", "schedule_timezone": "Europe/Paris"}
    )
    with django_capture_on_commit_callbacks(execute=True):  # django-rq enqueues once the test's work commits
        queue.enqueue("deployments.tasks.deployments_reconcile")
    run_worker()
    run = TransformRun.objects.get(deployment=batch.deployment)
    assert run.trigger == RunTrigger.SCHEDULE
    assert run.status == RunStatus.COMPLETED, run.failure_reason
    model = artifacts.train_xgboost("shared")
    for item in run.files.all():
        name = item.input_key.rsplit("/", 1)[-1]
        assert item.status == FileStatus.SUCCEEDED
        assert item.rows_in == len(bodies[name].splitlines())
        body = aws.s3.get_object(Bucket=BUCKET, Key=item.output_key.split(f"{BUCKET}/")[1])["Body"].read()
        features = np.loadtxt(io.BytesIO(bodies[name]), delimiter=",", ndmin=2)
        np.testing.assert_allclose(scores(body), model.inplace_predict(features), rtol=1e-5)
    assert finished == [
        {
            "run": run.pk,
            "status": "completed",
            "files": {"monday.csv": "succeeded", "tuesday.csv": "succeeded"},
        }
    ]
    page = client.get(
        reverse("transform_run_detail", kwargs={"tenant_id": batch.tenant.pk, "run_id": run.pk})
    )
    text = page.content.decode()
    assert "2 of 2 files transformed" in text
    assert "monday.csv" in text
    assert "tuesday.csv" in text


def test_reconcile_resumes_a_run_whose_poll_was_lost(
    batch: SimpleNamespace, aws: Any, queue: Any, run_worker: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from deployments.services.runs import transform_runs_resume

    put(aws, batch.input + "a.csv", input_csv("alpha", 5))
    with django_capture_on_commit_callbacks(execute=False):  # its enqueue is lost (Redis was down)
        run = transform_run_now(actor=batch.admin, deployment=batch.deployment)
    assert transform_runs_resume() == []  # within its grace: the enqueue may still be on its way
    later = timezone.now() + timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):  # django-rq enqueues once the test's work commits
        assert transform_runs_resume(now=later) == [run.pk]
    run_worker()
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert transform_runs_resume(now=later) == []


def test_a_run_stopped_before_its_job_started_leaves_no_job_running(
    batch: SimpleNamespace, aws: Any, run_worker: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    put(aws, batch.input + "a.csv", input_csv("alpha", 5))
    with django_capture_on_commit_callbacks(execute=True):
        run = transform_run_now(actor=batch.admin, deployment=batch.deployment)
        transform_run_stop(actor=batch.admin, run=run)
    run_worker()
    run.refresh_from_db()
    assert run.status == RunStatus.STOPPED
    jobs = aws.sagemaker.list_transform_jobs(NameContains=run.job_name)["TransformJobSummaries"]
    assert [job["TransformJobStatus"] for job in jobs] in ([], ["Stopped"], ["Completed"])
    # The deployment is free again.
    with django_capture_on_commit_callbacks(execute=True):
        again = transform_run_now(actor=batch.admin, deployment=batch.deployment)
    run_worker()
    again.refresh_from_db()
    assert again.status == RunStatus.COMPLETED

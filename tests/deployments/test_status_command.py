"""manage.py deployments_status: progress in the terminal, and what to do about failures."""

from __future__ import annotations

import io
from types import SimpleNamespace

from django.core.management import call_command

from deployments.models import Deployment, Kind, Status


def _deployment(world: SimpleNamespace, name: str, status: str, **fields: object) -> Deployment:
    return Deployment.objects.create(
        tenant=world.tenant_a, name=name, kind=Kind.REALTIME, isolation="silo", aws_name=f"sa-{name}",
        status=status, **fields,
    )  # fmt: skip


def test_it_shows_progress_and_says_what_to_do_about_a_failure(world: SimpleNamespace) -> None:
    _deployment(world, "alpha-ok", Status.IN_SERVICE)
    failed = _deployment(world, "alpha-bad", Status.FAILED, last_error="Could not find model data")
    out = io.StringIO()
    call_command("deployments_status", stdout=out)
    text = out.getvalue()
    assert "alpha-ok" in text
    assert "100%" in text
    assert "why: Could not find model data" in text
    assert f"/deployments/{failed.pk}/" in text
    assert text.rstrip().endswith("0 moving")


def test_watch_stops_once_nothing_moves(world: SimpleNamespace) -> None:
    _deployment(world, "alpha-ok", Status.IN_SERVICE)
    out = io.StringIO()
    call_command("deployments_status", "--watch", "--interval", "0", stdout=out)
    assert out.getvalue().count("moving") == 1


def test_it_filters_by_tenant(world: SimpleNamespace) -> None:
    _deployment(world, "alpha-ok", Status.IN_SERVICE)
    Deployment.objects.create(
        tenant=world.tenant_b, name="beta-ok", kind=Kind.REALTIME, isolation="silo", aws_name="sa-beta-ok"
    )
    out = io.StringIO()
    call_command("deployments_status", "--tenant", "beta", stdout=out)
    assert "beta-ok" in out.getvalue()
    assert "alpha-ok" not in out.getvalue()


def test_a_batch_deployment_shows_its_latest_run_and_what_to_do(world: SimpleNamespace) -> None:
    from deployments.models import TransformRun, TransformRunFile

    batch = Deployment.objects.create(
        tenant=world.tenant_a, name="alpha-batch", kind=Kind.BATCH, isolation="silo", aws_name="sa-alpha-bt",
        status=Status.IN_SERVICE,
    )  # fmt: skip
    run = TransformRun.objects.create(
        deployment=batch, tenant=world.tenant_a, sequence=2, job_name="sa-alpha-bt-r2", input_prefix="s3://b/i/",
        output_prefix="s3://b/o/", status="failed", failure_reason="ClientError: Bad input in s3://b/i/x.csv",
    )  # fmt: skip
    for name, status in (("a.csv", "succeeded"), ("x.csv", "failed")):
        TransformRunFile.objects.create(
            run=run, tenant=world.tenant_a, input_key=f"s3://b/i/{name}", status=status
        )
    out = io.StringIO()
    call_command("deployments_status", stdout=out)
    text = out.getvalue()
    assert "run 2: Failed · 1 of 2 files transformed, 1 failed" in text
    assert "why: ClientError: Bad input in s3://b/i/x.csv" in text
    assert f"/tenants/{world.tenant_a.pk}/datasets/runs/{run.pk}/" in text
    assert text.rstrip().endswith("0 moving")
    TransformRun.objects.filter(pk=run.pk).update(status="in_progress")
    out = io.StringIO()
    call_command("deployments_status", stdout=out)
    assert out.getvalue().rstrip().endswith("1 moving")

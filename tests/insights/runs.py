"""Batch runs for insights tests: a deployment, its ended runs, and each file's `.out` in S3 — the
records `deployments` keeps of a run (TransformRunFile) made by hand, as the run side would make them."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.utils import timezone

from deployments.models import Deployment, TransformRun, TransformRunFile
from deployments.rules import settings_normalise
from tenants.models import Tenant

BUCKET = "saasadmin-tests"
_seq = itertools.count(1)


def out_body(rows: list[tuple[list[float], float]]) -> bytes:
    """`.out` content with JoinSource=Input: each input row with its score appended."""
    return b"".join(
        ",".join([*(format(v, "g") for v in inputs), format(score, "g")]).encode() + b"\n"
        for inputs, score in rows
    )


def rows_of(n: int, seed: int = 0, width: int = 3) -> list[tuple[list[float], float]]:
    """`n` rows of `width` inputs with scores spread over [0, 1)."""
    return (
        [([float(seed + i), float(i % 7), 0.5 * i], ((i * 37 + seed) % 100) / 100) for i in range(n)][:n]
        if width == 3
        else [([float(i)] * width, (i % 100) / 100) for i in range(n)]
    )


class RunMaker:
    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def deployment(self, tenant: Tenant, **settings: Any) -> Deployment:
        found = Deployment.objects.filter(tenant=tenant, kind="batch").first()
        if found:
            return found
        n = next(_seq)
        return Deployment.objects.create(
            tenant=tenant,
            name=f"{tenant.slug} scoring",
            kind="batch",
            isolation="silo",
            aws_name=f"sa-{tenant.slug}-batch-{n}",
            status="in_service",
            settings=settings_normalise("batch", {"join_source": "Input", **settings}),
        )

    def run(
        self,
        tenant: Tenant,
        files: dict[str, bytes | None],
        *,
        status: str = "completed",
        created_at: datetime | None = None,
        rows_in: dict[str, int] | None = None,
        failed: dict[str, str] | None = None,
    ) -> TransformRun:
        """An ended run whose files are `files` (name → `.out` bytes; None: the `.out` is missing)."""
        deployment = self.deployment(tenant)
        sequence = deployment.runs.count() + 1
        job = f"{deployment.aws_name}-r{sequence}"
        run = TransformRun.objects.create(
            deployment=deployment,
            tenant=tenant,
            sequence=sequence,
            job_name=job,
            input_prefix=f"s3://{BUCKET}/datasets/{tenant.slug}/input/",
            output_prefix=f"s3://{BUCKET}/datasets/{tenant.slug}/output/{job}/",
            status=status,
            started_at=timezone.now(),
            finished_at=None if status == "in_progress" else timezone.now(),
        )
        if created_at:
            TransformRun.objects.filter(pk=run.pk).update(created_at=created_at)
            run.refresh_from_db()
        for name, body in files.items():
            output = f"{run.output_prefix}{name}.out"
            if body is not None:
                self.s3.put_object(Bucket=BUCKET, Key=output[len(f"s3://{BUCKET}/") :], Body=body)
            reason = (failed or {}).get(name, "")
            TransformRunFile.objects.create(
                run=run,
                tenant=tenant,
                input_key=f"{run.input_prefix}{name}",
                output_key=output,
                size_bytes=len(body or b""),
                status="failed" if reason else ("pending" if status == "in_progress" else "succeeded"),
                reason=reason,
                rows_in=(rows_in or {}).get(name, body.count(b"\n") if body else None),
            )
        return run

"""The dashboard's prepared reads return what the plain scoped ORM querysets return, stay in the
tenant's scope, and are compiled once per process."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from django.db.models.sql.compiler import SQLCompiler

from deployments.models import Deployment, Kind, TransformRun, TransformRunFile
from insights import dashboard as sel
from insights.ingestion import transform_run_ingest
from insights.models import InsightSettings, RunSummary
from saasadmin.prepared import Prepared, PrepareError
from tests.insights.runs import RunMaker, out_body, rows_of

pytestmark = pytest.mark.django_db


def _fields(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.fixture
def ingested(world: SimpleNamespace, runs: RunMaker) -> SimpleNamespace:
    made = []
    for seed in (1, 2):
        run = runs.run(world.tenant_a, {"part-1.csv": out_body(rows_of(20, seed=seed))})
        transform_run_ingest(run_id=run.pk, tenant_id=str(world.tenant_a.pk))
        made.append(run)
    theirs = runs.run(world.tenant_b, {"part-1.csv": out_body(rows_of(5))})
    transform_run_ingest(run_id=theirs.pk, tenant_id=str(world.tenant_b.pk))
    InsightSettings.objects.update_or_create(tenant=world.tenant_a, defaults={"threshold": 0.7})
    return SimpleNamespace(ours=made, theirs=theirs, tenant=world.tenant_a)


def test_the_runs_read_as_the_orm_reads_them_summaries_included(ingested: SimpleNamespace) -> None:
    tenant = ingested.tenant
    expected = list(
        TransformRun.objects.for_tenant(tenant).select_related("summary").order_by("-created_at", "-id")
    )
    found = sel.runs_recent(tenant)
    assert [_fields(r) for r in found] == [_fields(r) for r in expected]
    assert [_fields(r.summary) for r in found] == [_fields(r.summary) for r in expected]
    assert found[0].summary.run is found[0]
    one = sel.run_of_tenant(tenant, ingested.ours[0].pk)
    assert _fields(one) == _fields(ingested.ours[0])
    assert one.summary.histogram == RunSummary.objects.get(run=ingested.ours[0]).histogram


def test_files_settings_names_and_trend_read_as_the_orm_reads_them(ingested: SimpleNamespace) -> None:
    tenant, run = ingested.tenant, ingested.ours[0]
    files = sel.run_files(run)
    expected = list(TransformRunFile.objects.filter(run=run).select_related("result").order_by("input_key"))
    assert [_fields(f) for f in files] == [_fields(f) for f in expected]
    assert [_fields(f.result) for f in files] == [_fields(f.result) for f in expected]
    assert _fields(sel.settings_of(tenant)) == _fields(InsightSettings.objects.get(tenant=tenant))
    names = list(Deployment.objects.filter(tenant=tenant, kind=Kind.BATCH).values_list("name", flat=True))
    assert sel.batch_deployments(tenant) == sorted(names)
    assert [p.label for p in sel.trend_points(tenant)] == [f"Run {r.sequence}" for r in ingested.ours]


def test_another_tenants_run_is_not_found_and_a_malformed_id_is_no_run(
    ingested: SimpleNamespace, world: SimpleNamespace
) -> None:
    assert sel.run_of_tenant(world.tenant_a, ingested.theirs.pk) is None
    assert sel.run_of_tenant(world.tenant_b, ingested.ours[0].pk) is None
    assert sel.run_of_tenant(world.tenant_a, "drop table") is None
    assert sel.run_of_tenant(world.tenant_a, 10**30) is None
    assert sel.run_files(ingested.theirs) != []
    assert all(f.tenant_id == world.tenant_b.pk for f in sel.run_files(ingested.theirs))
    assert sel.settings_of(world.tenant_b).tenant_id == world.tenant_b.pk  # theirs, never ours


def test_a_prepared_read_is_compiled_once(ingested: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    prepared = Prepared(lambda tenant_id: TransformRun.objects.filter(tenant_id=tenant_id), tenant_id=UUID)
    compiled = []
    real = SQLCompiler.as_sql

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        compiled.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    assert len(prepared(tenant_id=ingested.tenant.pk)) == 2
    assert len(prepared(tenant_id=ingested.theirs.tenant_id)) == 1
    assert len(compiled) == 1


def test_a_value_the_query_does_not_carry_cannot_be_prepared(ingested: SimpleNamespace) -> None:
    ignores_it = Prepared(lambda tenant_id: TransformRun.objects.all(), tenant_id=UUID)
    with pytest.raises(PrepareError):
        ignores_it(tenant_id=ingested.tenant.pk)

"""Allocation by hand-computed numbers: every case below is worked out in its docstring, and every day
adds up to its ledger to the cent."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from insights.costs.runs import costs_run
from insights.models_costs import AllocationLine, CapacitySample, CostRule, LedgerLine, StorageSample
from tests.insights.costs.world import (
    DAY,
    at,
    billed,
    day_total,
    endpoint,
    live,
    member,
    prices,
    reconciles,
    tenants,
    then,
    usage,
)

pytestmark = pytest.mark.django_db
LARGE = {"instance_type": "ml.m5.large", "instance_count": 1}


@pytest.fixture(autouse=True)
def _prices() -> None:
    prices(then(DAY, -400))


def _shared(kind: str = "multi_model", *members: object, basis: str = "", idle: str = "", **weights: int):
    deployment = endpoint(kind, isolation="bridge")
    live(deployment, at(then(DAY, -1)), **LARGE)
    for tenant in members:
        member(deployment, tenant, at(then(DAY, -1)))
    if basis or idle:
        CostRule.objects.create(
            deployment=deployment,
            basis=basis or "invocations",
            idle_policy=idle or "overhead",
            weights={str(t.pk): weights[t.slug] for t in members if t.slug in weights},
        )
    return deployment


def test_a_silo_endpoint_costs_its_tenant_every_hour() -> None:
    """24 h × 1 × ml.m5.large at $0.10 = $2.40, all to the tenant."""
    (acme,) = tenants("acme")
    deployment = endpoint(tenant=acme)
    live(deployment, at(then(DAY, -3)), **LARGE)
    costs_run(DAY, DAY)
    line = LedgerLine.objects.get(day=DAY)
    assert (line.quantity, line.unit, line.usage_type) == (D("24"), "Hrs", "USE1-Host:ml.m5.large")
    assert line.resource_id == f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{deployment.aws_name}"
    assert billed() == {"acme": D("2.40")}
    assert AllocationLine.objects.get().basis == "silo"
    assert reconciles()


def test_a_multi_model_endpoint_is_split_by_invocations() -> None:
    """$2.40 used every hour; 600 : 288 : 96 invocations of 984 → 146.34 ¢, 70.24 ¢, 23.41 ¢: the floors
    make 239 ¢ and the last cent goes to the largest remainder (c's .41) → $1.46, $0.70, $0.24."""
    a, b, c = tenants("a", "b", "c")
    deployment = _shared("multi_model", a, b, c)
    for tenant, n in ((a, 25), (b, 12), (c, 4)):
        usage(deployment, tenant, DAY, range(24), n)
    costs_run(DAY, DAY)
    assert billed() == {"a": D("1.46"), "b": D("0.70"), "c": D("0.24")}
    line = AllocationLine.objects.get(tenant=a)
    assert (line.share_numerator, line.share_denominator, line.invocations) == (600, 984, 600)
    assert line.hours_present == 24
    assert reconciles()


def test_hours_nobody_invoked_are_idle_overhead() -> None:
    """Invocations in 18 of 24 hours: $1.80 used, split 2 : 1 → $1.20 and $0.60; $0.60 idle, no tenant."""
    a, b = tenants("a", "b")
    deployment = _shared("multi_model", a, b)
    usage(deployment, a, DAY, range(18), 20)
    usage(deployment, b, DAY, range(18), 10)
    costs_run(DAY, DAY)
    assert billed() == {"a": D("1.20"), "b": D("0.60"), "idle": D("0.60")}
    idle = AllocationLine.objects.get(is_idle=True)
    assert (idle.tenant, idle.share_numerator, idle.share_denominator) == (None, 6, 24)
    assert reconciles()


def test_idle_spread_goes_to_the_tenants_by_the_same_rule() -> None:
    """As above with idle spread: a gets 1.20 + 0.40, b 0.60 + 0.20; no overhead line."""
    a, b = tenants("a", "b")
    deployment = _shared("multi_model", a, b, idle="spread")
    usage(deployment, a, DAY, range(18), 20)
    usage(deployment, b, DAY, range(18), 10)
    costs_run(DAY, DAY)
    assert billed() == {"a": D("1.20"), "b": D("0.60"), "a idle": D("0.40"), "b idle": D("0.20")}
    assert reconciles()


def test_an_even_split_shares_the_odd_cent_by_largest_remainder() -> None:
    """$1.00 a day (ml.m5.large at $1/24 an hour) over three members: 33⅓ ¢ each, so 34 + 33 + 33 ¢,
    the extra cent to the first in order (tenant id) on the tie."""
    prices(then(DAY, -1), large="0.0416666667")
    members = tenants("a", "b", "c")
    _shared("multi_container", *members, basis="even")
    costs_run(DAY, DAY)
    assert day_total() == D("1.00")
    first = min(members, key=lambda t: str(t.pk))
    expected = {t.slug: D("0.34") if t == first else D("0.33") for t in members}
    assert billed() == expected
    assert reconciles()


def test_fixed_weights_split_by_weight() -> None:
    """Weights 3 : 1 over $2.40 → $1.80 and $0.60, whatever the invocations."""
    a, b = tenants("a", "b")
    deployment = _shared("multi_model", a, b, basis="weights", a=3, b=1)
    usage(deployment, b, DAY, range(24), 100)
    costs_run(DAY, DAY)
    assert billed() == {"a": D("1.80"), "b": D("0.60")}
    assert reconciles()


def test_a_day_with_zero_invocations_is_all_idle() -> None:
    a, b = tenants("a", "b")
    _shared("multi_model", a, b)
    costs_run(DAY, DAY)
    assert billed() == {"idle": D("2.40")}
    assert reconciles()


def test_a_tenant_joining_mid_day_pays_for_its_hours_only() -> None:
    """Even split, a there all day, b from noon: 24 h and 12 h present → $1.60 and $0.80."""
    a, b = tenants("a", "b")
    deployment = endpoint("realtime", isolation="pool")
    live(deployment, at(then(DAY, -1)), **LARGE)
    member(deployment, a, at(then(DAY, -1)))
    member(deployment, b, at(DAY, 12))
    CostRule.objects.create(deployment=deployment, basis="even")
    costs_run(DAY, DAY)
    assert billed() == {"a": D("1.60"), "b": D("0.80")}
    assert AllocationLine.objects.get(tenant=b).hours_present == 12
    assert reconciles()


def test_a_tenant_leaving_mid_day_leaves_the_rest_idle_when_alone() -> None:
    """Even split, one member leaving at 06:00: it pays 6 h ($0.60), the 18 h after are idle ($1.80)."""
    (a,) = tenants("a")
    deployment = endpoint("multi_model", isolation="bridge")
    live(deployment, at(then(DAY, -1)), **LARGE)
    member(deployment, a, at(then(DAY, -1)), left=at(DAY, 6))
    CostRule.objects.create(deployment=deployment, basis="even")
    costs_run(DAY, DAY)
    assert billed() == {"a": D("0.60"), "idle": D("1.80")}
    assert reconciles()


def test_an_instance_type_change_mid_day_bills_each_type_for_its_hours() -> None:
    """ml.m5.large until noon ($0.10 × 12) then ml.m5.xlarge ($0.20 × 12): two lines, $1.20 + $2.40."""
    (acme,) = tenants("acme")
    deployment = endpoint(tenant=acme)
    live(deployment, at(then(DAY, -1)), **LARGE)
    live(deployment, at(DAY, 12), instance_type="ml.m5.xlarge", instance_count=1)
    costs_run(DAY, DAY)
    lines = {line.instance_type: line.billed_cost for line in LedgerLine.objects.filter(day=DAY)}
    assert lines == {"ml.m5.large": D("1.20"), "ml.m5.xlarge": D("2.40")}
    assert billed() == {"acme": D("3.60")}
    assert reconciles()


def test_a_shared_endpoint_changing_type_splits_each_line_by_the_hours_it_ran() -> None:
    """a invokes only in the morning, b only in the afternoon; the type changes at noon: a pays the
    ml.m5.large line ($1.20), b the ml.m5.xlarge line ($2.40)."""
    a, b = tenants("a", "b")
    deployment = _shared("multi_model", a, b)
    live(deployment, at(DAY, 12), instance_type="ml.m5.xlarge", instance_count=1)
    usage(deployment, a, DAY, range(12), 10)
    usage(deployment, b, DAY, range(12, 24), 10)
    costs_run(DAY, DAY)
    assert billed() == {"a": D("1.20"), "b": D("2.40")}
    on_large = AllocationLine.objects.get(tenant=a, usage_type="USE1-Host:ml.m5.large")
    assert (on_large.invocations, on_large.share_numerator, on_large.share_denominator) == (120, 120, 120)
    assert reconciles()


def test_serverless_bills_gb_seconds_and_data_processed() -> None:
    """2,048 MB × 50,000 s of model time = 100,000 GB-s at $0.00002 = $2.00; 2 GiB processed at $0.016
    = $0.032 → $0.03."""
    (globex,) = tenants("globex")
    deployment = endpoint("serverless", tenant=globex, settings={"memory_mb": 2048})
    live(deployment, at(then(DAY, -1)), memory_mb=2048, max_concurrency=5)
    usage(deployment, globex, DAY, range(10), 1000, latency_ms=5000.0, bytes_each=214748)
    costs_run(DAY, DAY)
    lines = {line.usage_type: line for line in LedgerLine.objects.filter(day=DAY)}
    compute = lines["USE1-ServerlessInf:Mem-2GB"]
    assert (compute.quantity, compute.unit, compute.billed_cost, compute.invocations) == (
        D("100000"),
        "GB-Second",
        D("2.00"),
        10000,
    )
    assert lines["USE1-ServerlessInf-DataProcessing-Bytes"].billed_cost == D("0.03")
    assert billed() == {"globex": D("2.03")}
    assert reconciles()


def test_async_bills_its_instances_over_time_with_hours_at_zero() -> None:
    """1 instance until 06:00, none until 18:00, 2 after: 6 + 0 + 12 = 18 instance-hours at $0.12."""
    (globex,) = tenants("globex")
    deployment = endpoint("async", tenant=globex)
    live(deployment, at(then(DAY, -2)), **LARGE)
    for when, count in ((at(then(DAY, -1), 12), 1), (at(DAY, 6), 0), (at(DAY, 18), 2)):
        CapacitySample.objects.create(deployment=deployment, at=when, instance_count=count)
    costs_run(DAY, DAY)
    line = LedgerLine.objects.get(day=DAY)
    assert (line.usage_type, line.quantity, line.seconds, line.instance_count) == (
        "USE1-AsyncInf:ml.m5.large",
        D("18"),
        12 * 3600,
        2,
    )
    assert billed() == {"globex": D("2.16")}
    assert reconciles()


def test_a_price_change_between_two_days_prices_each_day_by_its_version() -> None:
    """$0.10 an hour on the day, $0.11 from the next: $2.40 then $2.64."""
    (acme,) = tenants("acme")
    prices(DAY)  # same prices, from the day
    prices(then(DAY, 1), large="0.11")
    deployment = endpoint(tenant=acme)
    live(deployment, at(then(DAY, -1)), **LARGE)
    costs_run(DAY, then(DAY, 1))
    assert billed(DAY) == {"acme": D("2.40")}
    assert billed(then(DAY, 1)) == {"acme": D("2.64")}
    assert reconciles(DAY)
    assert reconciles(then(DAY, 1))


def _batch_run(settings: dict[str, object], **recorded: object) -> object:
    """Acme's batch deployment with `settings`, and a 90-minute run of it on DAY (02:00–03:30)."""
    from deployments.models import TransformRun

    (acme,) = tenants("acme")
    deployment = endpoint("batch", tenant=acme, settings=settings)
    return TransformRun.objects.create(
        deployment=deployment,
        tenant=acme,
        sequence=1,
        job_name="sa-acme-run-1",
        status="completed",
        started_at=at(DAY, 2),
        finished_at=at(DAY, 3, 30),
        **recorded,
    )


def test_batch_runs_bill_instances_times_duration_and_s3_its_bytes() -> None:
    """A 90-minute run on 2 × ml.m5.large at $0.20 = $0.60; 31 GiB stored in March at $0.03 a GB-month
    = $0.03 a day."""
    run: Any = _batch_run({"instance_type": "ml.m5.large", "instance_count": 2})
    acme = run.tenant
    StorageSample.objects.create(
        tenant=acme, day=DAY, prefix="s3://bucket/datasets/acme/", bytes=31 * 1024**3
    )
    costs_run(DAY, DAY)
    lines = {line.kind: line.billed_cost for line in LedgerLine.objects.filter(day=DAY)}
    assert lines == {"batch": D("0.60"), "s3": D("0.03")}
    assert billed() == {"acme": D("0.63")}
    assert reconciles()


def test_a_batch_run_is_billed_on_what_its_job_ran_on_after_the_deployment_moved() -> None:
    """The run's job was created on 2 × ml.m5.large ($0.20/h): 90 minutes = $0.60, also when the day is
    run again after the deployment moved to 1 × ml.m5.xlarge ($0.40/h)."""
    _batch_run(
        {"instance_type": "ml.m5.xlarge", "instance_count": 1}, instance_type="ml.m5.large", instance_count=2
    )
    costs_run(DAY, DAY)
    line = LedgerLine.objects.get(day=DAY, kind="batch")
    assert (line.instance_type, line.instance_count, line.billed_cost) == ("ml.m5.large", 2, D("0.60"))


def test_a_deleted_endpoint_stops_costing_when_deleted() -> None:
    from tests.insights.costs.world import deleted

    (acme,) = tenants("acme")
    deployment = endpoint(tenant=acme)
    live(deployment, at(then(DAY, -1)), **LARGE)
    deleted(deployment, at(DAY, 6))
    costs_run(DAY, then(DAY, 1))
    assert billed(DAY) == {"acme": D("0.60")}
    assert billed(then(DAY, 1)) == {}

"""The demo seed's API usage history: for the served demo deployments and their tenants, written once."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import Sum

from deployments.demo_usage import DAYS, demo_usage_seed
from deployments.models import Deployment, DeploymentMember, UsageMinute
from tests.factories import make_tenant

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


def _fleet() -> None:
    acme, stark, wayne = make_tenant(slug="acme"), make_tenant(slug="stark"), make_tenant(slug="wayne")
    Deployment.objects.create(
        tenant=acme, name="Acme real-time", kind="realtime", isolation="silo", aws_name="a"
    )
    Deployment.objects.create(
        tenant=acme, name="Acme nightly scoring", kind="batch", isolation="silo", aws_name="b"
    )
    pool = Deployment.objects.create(name="Pool real-time", kind="realtime", isolation="pool", aws_name="p")
    for tenant in (stark, wayne):
        DeploymentMember.objects.create(deployment=pool, tenant=tenant, target="")


def test_it_writes_a_few_days_for_served_deployments_once(db: None) -> None:
    _fleet()
    written = demo_usage_seed(now=NOW)
    assert written == UsageMinute.objects.count() > 0
    assert set(UsageMinute.objects.values_list("tenant__slug", "deployment__name").distinct()) == {
        ("acme", "Acme real-time"),
        ("stark", "Pool real-time"),
        ("wayne", "Pool real-time"),
    }
    first, last = UsageMinute.objects.order_by("minute").values_list("minute", flat=True)[:: written - 1]
    assert (last - first).days == DAYS - 1
    assert last < NOW.replace(minute=0)
    totals = UsageMinute.objects.aggregate(n=Sum("invocations"), e=Sum("errors_throttled"))
    assert 0 < totals["e"] < totals["n"]
    assert demo_usage_seed(now=NOW) == 0
    assert UsageMinute.objects.count() == written


def test_it_waits_for_the_fleet(db: None) -> None:
    assert demo_usage_seed(now=NOW) == 0
    _fleet()
    assert demo_usage_seed(now=NOW) > 0

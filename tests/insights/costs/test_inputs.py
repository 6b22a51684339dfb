"""What the ledger reads: the timeline's details, member joins and leaves, dated catalogue versions."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from deployments.catalogue import catalogue_version_record, prices_on
from deployments.models import DeploymentEvent, DeploymentMember, MemberState
from deployments.services.members import members_settle
from deployments.states import transition
from insights.costs.runs import costs_run
from tests.insights.costs.world import DAY, at, billed, endpoint, live, prices, tenants, then

pytestmark = pytest.mark.django_db
VARIANT = {"instance_type": "ml.m5.large", "instance_count": 2, "memory_mb": 0, "max_concurrency": 0}


def test_a_generation_going_live_records_its_variant_and_a_delete_records_nothing_live() -> None:
    deployment = endpoint()
    deployment.status = "updating"
    deployment.save()
    transition(deployment, "in_service", live_spec={"model": {}, "config": {"variant": VARIANT}})
    transition(deployment, "deleting")
    transition(deployment, "deleted", live_spec={})
    details = list(DeploymentEvent.objects.filter(action="Status").values_list("outcome", "detail"))
    assert details == [
        ("in_service", {"live": True, "variant": VARIANT}),
        ("deleting", {}),
        ("deleted", {"live": False}),
    ]


def test_settling_members_records_their_joins_and_leaves() -> None:
    a, b = tenants("a", "b")
    deployment = endpoint("multi_container", isolation="bridge")
    DeploymentMember.objects.create(deployment=deployment, tenant=a, target="a", state=MemberState.JOINING)
    DeploymentMember.objects.create(deployment=deployment, tenant=b, target="b", state=MemberState.LEAVING)
    members_settle(deployment)
    lines = set(
        DeploymentEvent.objects.filter(action="Member").values_list("tenant__slug", "outcome", "resource")
    )
    assert lines == {("a", "joined", "a joined the endpoint"), ("b", "left", "b left the endpoint")}


def test_a_member_without_timeline_lines_counts_from_its_membership() -> None:
    """Members from before the timeline recorded joins: present since their row was created (all day)."""
    prices(then(DAY, -10))
    a, b = tenants("a", "b")
    deployment = endpoint("multi_model", isolation="bridge")
    live(deployment, at(then(DAY, -1)), instance_type="ml.m5.large", instance_count=1)
    for tenant in (a, b):
        member = DeploymentMember.objects.create(deployment=deployment, tenant=tenant, target=tenant.slug)
        DeploymentMember.objects.filter(pk=member.pk).update(created_at=at(then(DAY, -5)))
    from insights.models_costs import CostRule

    CostRule.objects.create(deployment=deployment, basis="even")
    costs_run(DAY, DAY)
    assert billed() == {"a": D("1.20"), "b": D("1.20")}


def test_the_catalogue_is_kept_once_per_content_and_priced_by_day() -> None:
    first = catalogue_version_record()
    assert catalogue_version_record() == first  # unchanged file: the same version
    later = prices(date.today() + timedelta(days=3))
    assert prices_on(date.today() + timedelta(days=5)) == later
    assert prices_on(date.today()) == first
    assert prices_on(first.valid_from - timedelta(days=900)) == first  # before any version: the first
    assert first.valid_from <= timezone.now().date()

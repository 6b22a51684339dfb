"""Every URL pattern x anonymous and each role x own and other tenant.

The patterns come from the URLconf itself, so a new URL cannot be left out: a pattern whose
parameters no builder here knows fails the test until it is taught how to build them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import django_rq
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rq import Queue, SimpleWorker

from deployments.models import Deployment, DeploymentMember, Kind, TransformRun, TransformRunFile
from deployments.rules import settings_normalise
from insights.ingestion import run_summary_refresh
from insights.models import ResultRow
from insights.partitions import partition_ensure
from tenants.models import Invitation, Tenant
from tenants.roles import CAPABILITIES, TENANT_ROLES, Role
from tenants.tokens import token_create

ROLES = [Role.OPERATOR, Role.FINANCE, Role.TENANT_ADMIN, Role.TENANT_VIEWER]
Builder = Callable[[SimpleNamespace, Tenant], Any]


def _invitation(tenant: Tenant) -> Invitation:
    invitation, _ = Invitation.objects.get_or_create(
        tenant=tenant,
        email=f"new@{tenant.slug}.example.com",
        defaults={
            "role": "tenant_viewer",
            "token": f"token-{tenant.slug}",
            "expires_at": timezone.now() + timedelta(days=1),
        },
    )
    return invitation


def _deployment(tenant: Tenant, *, shared: bool = False) -> Deployment:
    """A tenant's own real-time endpoint, or a shared multi-model endpoint with the tenant as member."""
    kind, isolation = (Kind.MULTI_MODEL, "bridge") if shared else (Kind.REALTIME, "silo")
    deployment = Deployment.objects.create(
        tenant=None if shared else tenant,
        name=f"{tenant.slug}-{kind}",
        kind=kind,
        isolation=isolation,
        aws_name=f"sa-{tenant.slug}-{kind}".replace("_", "-"),
        settings=settings_normalise(kind, {}),
    )
    if shared:
        DeploymentMember.objects.create(deployment=deployment, tenant=tenant, target=f"{tenant.slug}.tar.gz")
    return deployment


def _failed_delete(tenant: Tenant) -> int:
    """The tenant's deployment whose delete failed: what an operator may mark removed by hand."""
    deployment = _deployment(tenant)
    Deployment.objects.filter(pk=deployment.pk).update(status="failed", desired="absent")
    return deployment.pk


def _batch(tenant: Tenant) -> Deployment:
    deployment, _ = Deployment.objects.get_or_create(
        aws_name=f"sa-{tenant.slug}-bt",
        defaults={
            "tenant": tenant,
            "name": f"{tenant.slug}-batch",
            "kind": Kind.BATCH,
            "isolation": "silo",
            "settings": settings_normalise(Kind.BATCH, {}),
        },
    )
    return deployment


def _run(tenant: Tenant) -> int:
    """A finished batch run of the tenant, with one failed file (what the run page shows)."""
    deployment = _batch(tenant)
    run = TransformRun.objects.create(
        deployment=deployment,
        tenant=tenant,
        sequence=deployment.runs.count() + 1,
        job_name=f"{deployment.aws_name}-r{deployment.runs.count() + 1}",
        input_prefix=f"s3://bucket/datasets/{tenant.slug}/input/",
        output_prefix=f"s3://bucket/datasets/{tenant.slug}/output/r1/",
        status="failed",
        failure_reason="ClientError: Bad input",
    )
    TransformRunFile.objects.create(
        run=run, tenant=tenant, input_key=f"{run.input_prefix}a.csv", output_key="x.out", status="failed"
    )
    # and one file transformed and ingested: one scored row (what the dashboard and its CSV show)
    file = TransformRunFile.objects.create(
        run=run, tenant=tenant, input_key=f"{run.input_prefix}b.csv", output_key="y.out", status="succeeded"
    )
    partition_ensure(run.created_at.date())  # PostgreSQL: the month's partition, as ingestion makes it
    ResultRow.objects.create(
        tenant=tenant, run_month=run.created_at.date().replace(day=1), run=run, file=file, line=1, score=0.9
    )
    run_summary_refresh(run=run)
    return run.pk


def _cost_shared(tenant: Tenant) -> Any:
    """The tenant, with its cost shown to its admins (else its own cost pages are a 404 to them too)."""
    from insights.finance.services import cost_sharing_set

    cost_sharing_set(actor=None, tenant=tenant, visible=True)
    return tenant.pk


def _finished_job() -> Any:
    """A job that ran, so that the queue dashboard has a job and a result to show."""
    # A plain rq Queue: django-rq's own would wait for the test's transaction to commit.
    queue = Queue("default", connection=django_rq.get_connection("default"))
    job = queue.enqueue("builtins.len", [1, 2, 3])
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    return job


def _worker_key() -> str:
    queue = django_rq.get_queue("default")
    worker = SimpleWorker([queue], connection=queue.connection)
    worker.register_birth()
    return worker.key


# What each URL parameter is, for a given tenant. Later issues add their objects here.
PARAM_BUILDERS: dict[str, Builder] = {
    "tenant_id": lambda world, tenant: tenant.pk,
    "user_id": lambda world, tenant: (world.viewer_a if tenant == world.tenant_a else world.viewer_b).pk,
    "invitation_id": lambda world, tenant: _invitation(tenant).pk,
    "token": lambda world, tenant: _invitation(tenant).token,
    "deployment_id": lambda world, tenant: _deployment(tenant).pk,
    "token_id": lambda world, tenant: token_create(actor=None, tenant=tenant, name="matrix")[0].pk,
    "run_id": lambda world, tenant: _run(tenant),
    # the django-rq dashboard (vendor-wide, no tenant)
    "queue_index": lambda world, tenant: 0,
    "connection_index": lambda world, tenant: 0,
    "job_id": lambda world, tenant: world.rq_job.id,
    "result_id": lambda world, tenant: world.rq_job.latest_result().id,
    "key": lambda world, tenant: _worker_key(),
    "scheduler_name": lambda world, tenant: "none",
    "cron_job_name": lambda world, tenant: "none",
    # insights: a run of the tenant (its results) and the dashboard's charts
    "chart": lambda world, tenant: "distribution",
}
# Per-pattern builders where the generic one does not fit.
PATTERN_BUILDERS: dict[str, dict[str, Builder]] = {
    "member_leave": {"deployment_id": lambda world, tenant: _deployment(tenant, shared=True).pk},
    "member_change": {"deployment_id": lambda world, tenant: _deployment(tenant, shared=True).pk},
    "deployment_mark_removed": {"deployment_id": lambda world, tenant: _failed_delete(tenant)},
    "transform_run_now": {"deployment_id": lambda world, tenant: _batch(tenant).pk},
    "tenant_costs": {"tenant_id": lambda world, tenant: _cost_shared(tenant)},
    "tenant_costs_export": {"tenant_id": lambda world, tenant: _cost_shared(tenant)},
    "tenant_costs_shared": {"tenant_id": lambda world, tenant: _cost_shared(tenant)},
    "deployment_cost_rule": {"deployment_id": lambda world, tenant: _deployment(tenant, shared=True).pk},
}
# Views whose answer to an allowed GET is not the plain 200.
SPECIAL_GET: dict[str, Callable[[str | None], int]] = {
    "home": lambda role: 302,  # sends each role to its start page
    "admin:index": lambda role: 302,  # the queue dashboard's "Home" link: the same start page
    "login": lambda role: 302 if role else 200,  # signed-in users are sent on
    "logout": lambda role: 405,  # POST only
    "deployment_retry": lambda role: 405,
    "deployment_cancel": lambda role: 405,
    "transform_run_start": lambda role: 405,
    "invitation_renew": lambda role: 405,  # POST only: a new link
    "tenant_isolation_check": lambda role: 405,  # POST only: runs the check
    "insights_run_reingest": lambda role: 405,  # POST only: loads the run again
    # POST only: batch runs and the tenant's input files
    "transform_run_stop": lambda role: 405,
    "transform_run_retry": lambda role: 405,
    "transform_run_now": lambda role: 405,
    "dataset_upload": lambda role: 405,
    "dataset_delete": lambda role: 405,
    "input_area_point": lambda role: 405,
    "notices_read": lambda role: 405,
    "cost_tenant_budget": lambda role: 405,  # POST only: the form is on the tenant's cost page
    "cost_sharing": lambda role: 405,
    # django-rq answers 404 for a cron scheduler that is not running, and sends GETs of its
    # POST-only actions back to the queue page.
    "django_rq:cron_scheduler_detail": lambda role: 404,
    "django_rq:cron_job_detail": lambda role: 404,
    "django_rq:actions": lambda role: 302,
    "django_rq:confirm_action": lambda role: 302,
    "django_rq:stop_job": lambda role: 405,
}


def _patterns(resolver: URLResolver | None = None, namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    """(the name to reverse, the pattern) for every pattern, with namespaces applied."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, inner)
        else:
            yield f"{namespace}{entry.name}", entry


# The tenant inference API answers Bearer tokens, never sessions: every one of its URLs is run against
# every role and tenant in tests/deployments/test_inference_api_access.py instead.
API_NAMESPACE = "api_v1:"
ALL_PATTERNS = sorted(
    (named for named in _patterns() if not named[0].startswith(API_NAMESPACE)), key=lambda named: named[0]
)


def build_kwargs(pattern: URLPattern, world: SimpleNamespace, tenant: Tenant) -> dict[str, Any]:
    missing = set(pattern.pattern.converters) - set(PARAM_BUILDERS)
    if hasattr(pattern.pattern, "regex"):
        missing |= set(pattern.pattern.regex.groupindex) - set(PARAM_BUILDERS)
    assert not missing, f"teach PARAM_BUILDERS to build {missing} for {pattern.name}"
    builders = {**PARAM_BUILDERS, **PATTERN_BUILDERS.get(pattern.name or "", {})}
    return {name: builders[name](world, tenant) for name in pattern.pattern.converters}


def test_every_pattern_is_named_and_guarded() -> None:
    for name, pattern in ALL_PATTERNS:
        assert pattern.name, f"unnamed URL pattern {pattern.pattern}"
        callback = pattern.callback
        capability = getattr(callback, "capability", None)
        assert capability in CAPABILITIES or getattr(callback, "public", False), (
            f"{name} is neither wrapped by requires(...) nor marked public"
        )


def _expected(name: str, pattern: URLPattern, role: str | None, own: bool) -> int:
    callback = pattern.callback
    public = getattr(callback, "public", False)
    allowed = public or (role is not None and role in CAPABILITIES[callback.capability])
    if name in SPECIAL_GET and allowed:
        return SPECIAL_GET[name](role)
    if public:
        return 200
    if role is None:
        return 302
    if role not in CAPABILITIES[callback.capability]:
        return 403
    if role in TENANT_ROLES and "tenant_id" in pattern.pattern.converters and not own:
        return 404
    return 200


CASES = [
    pytest.param(name, pattern, role, own, id=f"{name}-{role or 'anonymous'}-{'own' if own else 'other'}")
    for name, pattern in ALL_PATTERNS
    for role in [None, *ROLES]
    for own in (True, False)
]


@pytest.mark.parametrize(("name", "pattern", "role", "own"), CASES)
def test_access_matrix(
    client: Any, world: SimpleNamespace, name: str, pattern: URLPattern, role: str | None, own: bool
) -> None:
    users = {
        Role.OPERATOR: world.operator,
        Role.FINANCE: world.finance,
        Role.TENANT_ADMIN: world.admin_a,
        Role.TENANT_VIEWER: world.viewer_a,
    }
    if {"job_id", "result_id"} & set(pattern.pattern.converters):
        world.rq_job = _finished_job()
    kwargs = build_kwargs(pattern, world, world.tenant_a if own else world.tenant_b)
    if role is not None:
        client.force_login(users[role])
    response = client.get(reverse(name, kwargs=kwargs))
    expected = _expected(name, pattern, role, own)
    assert response.status_code == expected, f"{name} as {role}: {response.status_code} != {expected}"
    if expected == 302 and role is None:
        assert response["Location"].startswith(reverse("login"))

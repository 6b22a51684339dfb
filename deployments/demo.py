"""The demo fleet `seed_deployments` declares: every kind, on the demo tenants of tenants/demo.py.

Artifacts come from `python -m emulator.artifacts` (s3://<bucket>/models/<tenant>/model.tar.gz, the
shared and scikit-learn models, datasets/<tenant>/input/). Soylent's model is deliberately missing, so
its deployment fails with SageMaker's own reason (CreateModel: "Could not find model data at …").
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from deployments.aws import AwsError, storage
from deployments.models import Deployment, ModelPackage
from deployments.resources import bucket_uri
from deployments.rules import containers_problem
from deployments.services import Draft, deployment_apply, model_package_register
from tenants.models import LEAVING_STATUSES, Tenant

XGBOOST, SKLEARN = ("xgboost", "3.0-5"), ("sklearn", "1.4-2")
# name, kind, isolation, owner slug (None: shared), model key, settings, members [(slug, model key)].
# The API serves a tenant from its newest deployment in service (deployments/services/inference.py), so
# each tenant with a demo token has one kind only, and every kind serves someone (tenants/demo.py).
DEMO_DEPLOYMENTS: list[
    tuple[str, str, str, str | None, str | None, dict[str, Any], list[tuple[str, str | None]]]
] = [
    ("Acme real-time", "realtime", "silo", "acme", "acme", {"instance_type": "ml.m5.large"}, []),
    (
        "Acme nightly scoring",
        "batch",
        "silo",
        "acme",
        "acme",
        {"schedule": "daily", "instance_type": "ml.m5.large", "join_source": "Input"},
        [],
    ),
    (
        "Globex weekly scoring",
        "batch",
        "silo",
        "globex",
        "globex",
        {"schedule": "weekly", "instance_type": "ml.m5.large", "join_source": "Input"},
        [],
    ),
    (
        "Globex serverless",
        "serverless",
        "silo",
        "globex",
        "globex",
        {"memory_mb": 2048, "max_concurrency": 5},
        [],
    ),
    (
        "Cyberdyne async",
        "async",
        "silo",
        "cyberdyne",
        "cyberdyne",
        {"instance_type": "ml.m5.large"},
        [],
    ),
    (
        "Bridge multi-model",
        "multi_model",
        "bridge",
        None,
        None,
        {"instance_type": "ml.m5.xlarge"},
        [("initech", "initech"), ("umbrella", "umbrella"), ("hooli", "hooli")],
    ),
    (
        "Bridge multi-container",
        "multi_container",
        "bridge",
        None,
        None,
        {"instance_type": "ml.m5.large"},
        [("initech", "initech"), ("hooli", "sklearn")],
    ),
    (
        "Pool real-time",
        "realtime",
        "pool",
        None,
        "shared",
        {"instance_type": "ml.m5.large", "instance_count": 2},
        [("stark", None), ("wayne", None), ("wonka", None)],
    ),
    ("Soylent real-time", "realtime", "silo", "soylent", "soylent", {"instance_type": "ml.m5.large"}, []),
    # GPU endpoints are slow to create (the emulator of `make run` takes ten minutes): one to watch. Acme's
    # CPU endpoint serves until it is in service; then this one, real-time too.
    ("Acme GPU real-time", "realtime", "silo", "acme", "acme", {"instance_type": "ml.g5.xlarge"}, []),
]
ALWAYS_DECLARED = {"soylent"}  # its artifact is missing on purpose: the demo's failure


def _artifact(key: str) -> str:
    return bucket_uri("models", key, "model.tar.gz")


def _artifact_present(key: str) -> bool:
    try:
        return storage.object_exists(_artifact(key))
    except AwsError:
        return True  # cannot tell (emulator not up yet): declare it; the worker reports what AWS says


def _package(owner: Tenant | None, key: str) -> ModelPackage:
    framework, version = SKLEARN if key == "sklearn" else XGBOOST
    found = ModelPackage.objects.filter(tenant=owner, model_data_url=_artifact(key)).first()
    return found or model_package_register(
        actor=None,
        tenant=owner,
        framework=framework,
        version=version,
        model_data_url=_artifact(key),
        notes="Demo model from python -m emulator.artifacts",
    )


def _members(
    entries: list[tuple[str, str | None]], tenants: dict[str, Tenant]
) -> tuple[tuple[Tenant, Any], ...]:
    members = []
    for slug, key in entries:
        if slug not in tenants:
            continue
        if key is not None and key not in ALWAYS_DECLARED and not _artifact_present(key):
            continue
        members.append((tenants[slug], _package(tenants[slug], key) if key else None))
    return tuple(members)


@transaction.atomic
def demo_deployments_seed() -> dict[str, int]:
    """Declare the demo deployments not there yet and enqueue them; running it twice changes nothing."""
    operator = get_user_model().objects.filter(username="operator").first()
    tenants = {t.slug: t for t in Tenant.objects.exclude(status__in=LEAVING_STATUSES)}
    counts = {"created": 0, "existing": 0, "unavailable": 0}
    for name, kind, isolation, owner, key, settings, member_entries in DEMO_DEPLOYMENTS:
        if Deployment.objects.filter(name=name).exists():
            counts["existing"] += 1
            continue
        tenant = tenants.get(owner) if owner else None
        members = _members(member_entries, tenants)
        short = containers_problem(kind, len(members))  # a multi-container endpoint starts with two
        if (owner and tenant is None) or (member_entries and not members) or short:
            counts["unavailable"] += 1  # its tenants are not seeded, or too few have their artifact in S3
            continue
        package = _package(tenant if key != "shared" else None, key) if key else None
        draft = Draft(
            name=name,
            kind=kind,
            isolation=isolation,
            tenant=tenant,
            model_package=package,
            settings=settings,
            members=members,
        )
        deployment_apply(actor=operator, draft=draft)
        counts["created"] += 1
    return counts

"""Every deployment kind through every step the product takes on AWS, as an operator drives it.

A scenario is a function of a `Driver`; its steps (create, update, member join/leave, delete, transform
runs, autoscaling on settle, reconcile) each label the calls they send. The probe scenarios pick, among
the settings the product accepts, the ones AWS is most likely to refuse (see `driving.accepted`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from deployments.models import ModelPackage
from deployments.resources import NAME_PREFIX, TAG_DEPLOYMENT
from deployments.services import Draft, deployments_reconcile
from insights.costs.reconcile import aws_costs_fetch
from insights.costs.samples import capacity_sample, storage_sample
from tests.contract.driving import Driver, accepted_each
from tests.contract.shapes import enum_of

RECORDIO = "application/x-recordio-protobuf"


def _own(
    driver: Driver, name: str, kind: str, package: ModelPackage | None = None, **settings: object
) -> Draft:
    """A draft of the silo tenant's own deployment of `kind`, with its own model."""
    tenant = driver.world.tenants["alpha"]
    package = package or driver.world.packages["alpha"]
    return Draft(
        name=name, kind=kind, isolation="silo", tenant=tenant, model_package=package, settings=settings
    )


def _shared(driver: Driver, name: str, kind: str, first: str, package: str, **settings: object) -> Draft:
    """A draft of a Bridge deployment shared by member tenants, starting with `first`."""
    members = ((driver.world.tenants[first], driver.world.packages[package]),)
    return Draft(name=name, kind=kind, isolation="bridge", members=members, settings=settings)


def realtime(driver: Driver) -> None:
    # The operator uploads the tenant's model archive first (HeadBucket, PutObject with tags).
    package = driver.upload("model upload", "alpha", "xgboost", "3.0-5")
    draft = _own(driver, "Contract real-time", "realtime", package, instance_type="ml.m5.large")
    deployment = driver.apply("create", draft)
    driver.change("update", deployment, settings={**deployment.settings, "instance_count": 2})
    driver.delete("delete", deployment)


def asynchronous(driver: Driver) -> None:
    # Settling registers the scalable target, its two policies and the wake-up alarm.
    deployment = driver.apply("create and autoscaling", _own(driver, "Contract async", "async"))
    driver.change(
        "update instance type", deployment, settings={**deployment.settings, "instance_type": "ml.m5.xlarge"}
    )
    # The cost ledger samples its instance count (DescribeEndpoint's CurrentInstanceCount).
    driver.call("capacity sample", capacity_sample)
    driver.delete("delete", deployment)


def serverless(driver: Driver) -> None:
    draft = _own(driver, "Contract serverless", "serverless", memory_mb=2048, max_concurrency=5)
    deployment = driver.apply("create", draft)
    driver.change("update memory", deployment, settings={**deployment.settings, "memory_mb": 3072})
    driver.delete("delete", deployment)


def batch(driver: Driver) -> None:
    # A daily schedule starts the first run as soon as the deployment settles.
    deployment = driver.apply(
        "create and first run", _own(driver, "Contract batch", "batch", schedule="daily")
    )
    driver.run("transform run", deployment)
    driver.change("update", deployment, settings={**deployment.settings, "instance_count": 2})
    driver.delete("delete", deployment)


def batch_limits(driver: Driver) -> None:
    endpoint_only = sorted(
        enum_of("sagemaker", "ProductionVariantInstanceType") - enum_of("sagemaker", "TransformInstanceType")
    )
    draft = _own(driver, "Contract batch limits", "batch", schedule="manual")
    draft = accepted_each(
        draft,
        [{"instance_type": chosen} for chosen in endpoint_only],
        [{"max_payload_mb": 0}, {"max_payload_mb": 1}],
        [
            {"content_type": RECORDIO, "split_type": "Line"},
            {"content_type": RECORDIO, "split_type": "RecordIO"},
        ],
    )
    deployment = driver.apply("create", draft)
    driver.run("transform run", deployment, expected=None)
    driver.delete("delete", deployment)


def multi_model(driver: Driver) -> None:
    draft = _shared(
        driver, "Contract multi-model", "multi_model", "gamma", "gamma", instance_type="ml.m5.large"
    )
    deployment = driver.apply("create", draft)
    driver.join("member join", deployment, "delta", "delta")
    driver.leave("member leave", deployment, "delta")
    driver.join("member rejoin with a new package", deployment, "delta", "delta-v2")
    driver.delete("delete", deployment)


def multi_model_accelerated(driver: Driver) -> None:
    accelerated = sorted(
        t
        for t in enum_of("sagemaker", "ProductionVariantInstanceType")
        if t.startswith(("ml.g", "ml.p", "ml.inf", "ml.trn"))
    )
    draft = _shared(driver, "Contract multi-model GPU", "multi_model", "gamma", "gamma")
    deployment = driver.apply(
        "create", accepted_each(draft, [{"instance_type": t} for t in accelerated]), expected=None
    )
    driver.delete("delete", deployment, expected=None)


def multi_container(driver: Driver) -> None:
    # Two containers at every step, so the scenario holds whether or not one container is allowed.
    members = ((driver.world.tenants["gamma"], driver.world.packages["gamma"]),)
    members += ((driver.world.tenants["delta"], driver.world.packages["delta-sklearn"]),)
    draft = Draft(
        name="Contract multi-container", kind="multi_container", isolation="bridge", members=members
    )
    deployment = driver.apply("create", draft)
    driver.join("member join", deployment, "beta", "beta")
    driver.leave("member leave", deployment, "beta")
    driver.delete("delete", deployment)


def reconcile(driver: Driver) -> None:
    # Someone left a model carrying the product's tags but no deployment row: a deep pass lists it.
    package = driver.world.packages["alpha"]
    driver.world.sagemaker.create_model(
        ModelName=f"{NAME_PREFIX}orphan-rt-0000cafe-g1",
        ExecutionRoleArn=settings.SAGEMAKER_EXECUTION_ROLE_ARN,
        PrimaryContainer={"Image": package.image_uri, "ModelDataUrl": package.model_data_url},
        Tags=[{"Key": TAG_DEPLOYMENT, "Value": "0"}],
    )
    driver.call("deep reconcile", lambda: deployments_reconcile(deep=True))


def costs(driver: Driver) -> None:
    # The daily cost job: each tenant's bytes in S3 (ListObjectsV2), then Cost Explorer's daily figures.
    yesterday = timezone.now().date() - timedelta(days=1)
    driver.call("storage sample", lambda: storage_sample(yesterday))
    driver.call("cost explorer", lambda: aws_costs_fetch(yesterday - timedelta(days=2), yesterday))


# scenario → (deployment kind, steps)
SCENARIOS: dict[str, tuple[str, Callable[[Driver], None]]] = {
    "realtime": ("realtime", realtime),
    "async": ("async", asynchronous),
    "serverless": ("serverless", serverless),
    "batch": ("batch", batch),
    "batch-limits": ("batch", batch_limits),
    "multi-model": ("multi_model", multi_model),
    "multi-model-accelerated": ("multi_model", multi_model_accelerated),
    "multi-container": ("multi_container", multi_container),
    "reconcile": ("", reconcile),
    "costs": ("", costs),
}

"""From a deployment row to the AWS resources it should have: deterministic names, tags, specs, S3 paths.

Plans, workers and reconcile all read these, so what is planned is what gets created.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from deployments.aws.sagemaker import (
    AsyncSpec,
    Container,
    EndpointConfigSpec,
    ModelSpec,
    TransformJobSpec,
    VariantSpec,
    spec_dict,
)
from deployments.images import image_uri
from deployments.models import (
    Deployment,
    DeploymentMember,
    InputArea,
    Kind,
    MemberState,
    ModelPackage,
    TransformRun,
)
from deployments.rules import settings_normalise
from tenants.models import Tenant

NAME_PREFIX = "sa-"
KIND_CODES = {
    Kind.BATCH: "bt",
    Kind.REALTIME: "rt",
    Kind.ASYNC: "as",
    Kind.SERVERLESS: "sl",
    Kind.MULTI_MODEL: "mm",
    Kind.MULTI_CONTAINER: "mc",
}
TAG_TENANT, TAG_DEPLOYMENT, TAG_KIND = "saasadmin:tenant", "saasadmin:deployment", "saasadmin:kind"


def aws_base_name(*, tenant: Tenant | None, kind: str, uid_hex: str) -> str:
    """The deployment's fixed AWS name, e.g. `sa-acme-rt-1a2b3c4d` (≤ 63 characters, SageMaker's limit)."""
    owner = tenant.slug[:24] if tenant else "shared"
    return f"{NAME_PREFIX}{owner}-{KIND_CODES[Kind(kind)]}-{uid_hex[:8]}"


def generation_name(deployment: Deployment, generation: int) -> str:
    """The model and endpoint-config name of one generation (configs are immutable: a change is a new one)."""
    return f"{deployment.aws_name}-g{generation}"


def tags(deployment: Deployment) -> tuple[tuple[str, str], ...]:
    return (
        (TAG_TENANT, deployment.owner_label),
        (TAG_DEPLOYMENT, str(deployment.pk)),
        (TAG_KIND, deployment.kind),
    )


def bucket_uri(*parts: str) -> str:
    return "s3://" + "/".join([settings.SAASADMIN_BUCKET, *parts])


def multi_model_prefix(deployment: Deployment) -> str:
    return bucket_uri("mme", deployment.aws_name) + "/"


def member_target(kind: str, tenant: Tenant, package: ModelPackage | None, generation: int) -> str:
    """The TargetModel path (multi-model) or container hostname (multi-container) of a member.

    A multi-model target names the tenant, its package's version and the deployment generation that
    brought it (`acme-v3-g5.tar.gz`), so a new package or a rejoin is a new object. SageMaker's "Add or
    Remove Models" page (multi-model endpoints): to update a model use a new, unique name and never
    overwrite the artifact, as instances may keep serving the old version cached under that name.
    """
    if kind != Kind.MULTI_MODEL:
        return tenant.slug
    version = f"-v{package.version}" if package else ""
    return f"{tenant.slug}{version}-g{generation}.tar.gz"


def values(deployment: Deployment) -> dict[str, Any]:
    """The deployment's settings with the table's defaults filled in."""
    return settings_normalise(deployment.kind, deployment.settings)


def serving_members(deployment: Deployment) -> list[DeploymentMember]:
    """Members that should be served (joining or active), in a stable order."""
    members = [m for m in deployment.members.all() if m.state != MemberState.LEAVING]
    return sorted(members, key=lambda m: m.target)


def _package_container(package: ModelPackage, hostname: str = "") -> Container:
    return Container(image=package.image_uri, model_data_url=package.model_data_url, hostname=hostname)


def model_spec(deployment: Deployment, name: str) -> ModelSpec:
    """The SageMaker model the deployment's endpoint (or transform jobs) run."""
    if deployment.kind == Kind.MULTI_CONTAINER:
        containers = tuple(
            _package_container(m.model_package, m.target)
            for m in serving_members(deployment)
            if m.model_package
        )
        return ModelSpec(name, containers, direct=True, tags=tags(deployment))
    if deployment.kind == Kind.MULTI_MODEL:
        settings_values = values(deployment)
        image = image_uri(settings_values["framework"], settings_values["framework_version"])
        container = Container(image=image, model_data_url=multi_model_prefix(deployment), multi_model=True)
        return ModelSpec(name, (container,), tags=tags(deployment))
    if deployment.model_package is None:
        raise ValueError(f"{deployment} has no model package")
    return ModelSpec(name, (_package_container(deployment.model_package),), tags=tags(deployment))


def _async_spec(deployment: Deployment, settings_values: dict[str, Any]) -> AsyncSpec:
    owner = deployment.owner_label
    return AsyncSpec(
        output_path=settings_values["output_path"] or bucket_uri("async", owner, "output") + "/",
        failure_path=settings_values["failure_path"] or bucket_uri("async", owner, "failures") + "/",
        success_topic=settings_values["success_topic"],
        error_topic=settings_values["error_topic"],
        max_concurrent_invocations=settings_values["max_concurrent_invocations"],
    )


def endpoint_config_spec(deployment: Deployment, name: str, model_name: str) -> EndpointConfigSpec:
    """The endpoint config: one variant of instances or serverless capacity, async output when async."""
    settings_values = values(deployment)
    if deployment.kind == Kind.SERVERLESS:
        variant = VariantSpec(
            memory_mb=settings_values["memory_mb"], max_concurrency=settings_values["max_concurrency"]
        )
    else:
        variant = VariantSpec(settings_values["instance_type"], settings_values["instance_count"])
    async_config = _async_spec(deployment, settings_values) if deployment.kind == Kind.ASYNC else None
    return EndpointConfigSpec(name, model_name, variant, async_config, tags(deployment))


def desired_spec(deployment: Deployment) -> dict[str, Any]:
    """What the live model + config should look like, without names (equal dicts: no new config needed)."""
    spec: dict[str, Any] = {"model": spec_dict(model_spec(deployment, ""))}
    if deployment.kind != Kind.BATCH:
        spec["config"] = spec_dict(endpoint_config_spec(deployment, "", ""))
    return json.loads(json.dumps(spec))  # as the JSONField stores it (tuples become lists)


def transform_job_spec(run: TransformRun) -> TransformJobSpec:
    deployment = run.deployment
    settings_values = values(deployment)
    return TransformJobSpec(
        name=run.job_name,
        model_name=deployment.live_model_name,
        input_prefix=run.input_prefix,
        output_prefix=run.output_prefix,
        instance_type=settings_values["instance_type"],
        instance_count=settings_values["instance_count"],
        max_payload_mb=settings_values["max_payload_mb"],
        max_concurrent_transforms=settings_values["max_concurrent_transforms"],
        split_type=settings_values["split_type"],
        batch_strategy=settings_values["batch_strategy"],
        content_type=settings_values["content_type"],
        join_source=settings_values["join_source"],
        tags=tags(deployment),
        invocations_timeout_seconds=settings_values["invocations_timeout_seconds"],
        invocations_max_retries=settings_values["invocations_max_retries"],
        manifest_uri=run.manifest_uri,
    )


def default_input_prefix(tenant: Tenant) -> str:
    """Where a tenant's input area is unless an operator points it elsewhere."""
    return bucket_uri("datasets", tenant.slug, "input") + "/"


def input_prefix(tenant: Tenant) -> str:
    """The tenant's input area: the prefix an operator pointed it at, or its own under the bucket."""
    area = InputArea.objects.filter(tenant=tenant).only("prefix").first()
    return area.prefix if area else default_input_prefix(tenant)


def dataset_prefixes(tenant: Tenant, job_name: str) -> tuple[str, str]:
    """A tenant's batch input prefix and the output prefix of one run (the insights issue reads it)."""
    return input_prefix(tenant), bucket_uri("datasets", tenant.slug, "output", job_name) + "/"


def manifest_uri(tenant: Tenant, job_name: str) -> str:
    """The manifest listing the objects one run's job reads (kept beside its output)."""
    return bucket_uri("datasets", tenant.slug, "manifests", f"{job_name}.manifest")


def output_uri(run: TransformRun, input_uri: str) -> str:
    """Where the job writes an input object's result: its path below the input prefix, plus `.out`."""
    return run.output_prefix + input_uri.removeprefix(run.input_prefix) + ".out"

"""Model packages: checking an uploaded `model.tar.gz` and registering it with its serving image."""

from __future__ import annotations

import hashlib
import io
import tarfile
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from deployments import conf
from deployments.aws import storage
from deployments.images import ARTIFACT_FILE, FRAMEWORK_VERSIONS, UnknownImage, image_uri
from deployments.models import ModelPackage
from deployments.resources import bucket_uri
from tenants.audit import audit_record
from tenants.models import Tenant


def artifact_check(data: bytes, framework: str) -> None:
    """Refuse what SageMaker's container could not load: not a tar.gz, or without the framework's file."""
    limit = conf.max_upload_bytes()
    if len(data) > limit:
        raise ValidationError(f"The archive is {len(data):,} bytes; the limit is {limit:,} bytes.")
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            names = {member.name.lstrip("./") for member in archive.getmembers() if member.isfile()}
    except (tarfile.TarError, OSError, EOFError):
        raise ValidationError("This is not a model.tar.gz: upload a gzip-compressed tar archive.") from None
    wanted = ARTIFACT_FILE[framework]
    if wanted not in names:
        found = ", ".join(sorted(names)[:5]) or "no files"
        raise ValidationError(
            f"The {framework} container loads `{wanted}` from the archive's top level; "
            f"this archive holds {found}."
        )


def _next_version(tenant: Tenant | None, framework: str) -> int:
    """The owner's next package version of `framework` (the unique constraint refuses a duplicate)."""
    owned = ModelPackage.objects.filter(tenant=tenant, framework=framework)
    return (owned.aggregate(top=Max("version"))["top"] or 0) + 1


def _read_limited(fileobj: IO[bytes]) -> bytes:
    data = fileobj.read(conf.max_upload_bytes() + 1)
    return data if isinstance(data, bytes) else bytes(data)


def _image_for_upload(tenant: Tenant | None, framework: str, version: str) -> str:
    if framework not in FRAMEWORK_VERSIONS:
        raise ValidationError({"framework": "Choose XGBoost or scikit-learn."})
    if tenant is not None and tenant.is_leaving:
        raise ValidationError("An offboarded tenant cannot get new models.")
    try:
        return image_uri(framework, version)
    except UnknownImage as exc:
        raise ValidationError({"version": str(exc)}) from None


@transaction.atomic
def model_package_upload(
    *,
    actor: Any,
    tenant: Tenant | None,
    framework: str,
    version: str,
    fileobj: IO[bytes],
    notes: str = "",
) -> ModelPackage:
    """Check the archive, upload it under the owner's S3 prefix and register the next package version.

    `version` is the framework version (e.g. XGBoost "3.0-5"); the package's own version number is
    assigned here. Raises ValidationError with a message that says what to upload instead.
    """
    image = _image_for_upload(tenant, framework, version)
    data = _read_limited(fileobj)
    artifact_check(data, framework)
    number = _next_version(tenant, framework)
    slug = tenant.slug if tenant else "shared"
    uri = bucket_uri("models", slug, framework, f"v{number}", "model.tar.gz")
    package = ModelPackage(
        tenant=tenant,
        framework=framework,
        framework_version=version or FRAMEWORK_VERSIONS[framework][0],
        image_uri=image,
        model_data_url=uri,
        version=number,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        notes=notes,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    package.full_clean()
    storage.bucket_ensure(settings.SAASADMIN_BUCKET, settings.AWS_REGION)
    storage.object_put(uri, data, tags={"saasadmin:tenant": slug})
    package.save()
    audit_record(actor=actor, action="model_package.upload", obj=package, tenant=tenant, after={"uri": uri})
    return package


@transaction.atomic
def model_package_register(
    *, actor: Any, tenant: Tenant | None, framework: str, version: str, model_data_url: str, notes: str = ""
) -> ModelPackage:
    """Register an artifact already in S3 (e.g. the demo's) without uploading it again."""
    image = image_uri(framework, version)
    number = _next_version(tenant, framework)
    package = ModelPackage(
        tenant=tenant,
        framework=framework,
        framework_version=version,
        image_uri=image,
        model_data_url=model_data_url,
        version=number,
        notes=notes,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    package.full_clean()
    package.save()
    audit_record(
        actor=actor,
        action="model_package.register",
        obj=package,
        tenant=tenant,
        after={"uri": model_data_url},
    )
    return package

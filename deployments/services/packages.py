"""Model packages: uploading a checked `model.tar.gz` and registering it with its serving image."""

from __future__ import annotations

import contextlib
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from deployments.aws import storage
from deployments.aws.errors import AlreadyExists, AwsError, Transient
from deployments.images import FRAMEWORK_VERSIONS, UnknownImage, image_uri
from deployments.models import ModelPackage
from deployments.resources import bucket_uri
from deployments.services.archives import ArchiveFacts, archive_inspect
from tenants.audit import audit_record
from tenants.models import Tenant

# Versions tried past the next free one when other uploads take them at the same moment.
VERSION_ATTEMPTS = 10


def _next_version(tenant: Tenant | None, framework: str) -> int:
    """The owner's next package version of `framework` (the unique constraint refuses a duplicate)."""
    owned = ModelPackage.objects.filter(tenant=tenant, framework=framework)
    return (owned.aggregate(top=Max("version"))["top"] or 0) + 1


def _image_for_upload(tenant: Tenant | None, framework: str, version: str) -> str:
    if framework not in FRAMEWORK_VERSIONS:
        raise ValidationError({"framework": "Choose XGBoost or scikit-learn."})
    if tenant is not None and tenant.is_leaving:
        raise ValidationError("An offboarded tenant cannot get new models.")
    try:
        return image_uri(framework, version)
    except UnknownImage as exc:
        raise ValidationError({"version": str(exc)}) from None


def upload_refusal(exc: AwsError) -> ValidationError:
    if isinstance(exc, Transient):
        return ValidationError(
            f"Amazon S3 could not be reached ({exc.message}), so nothing was uploaded. "
            "Try again in a few minutes."
        )
    return ValidationError(f"Amazon S3 refused the upload ({exc.message}), so nothing was uploaded.")


def _archive_store(fileobj: IO[bytes], tenant: Tenant | None, framework: str) -> tuple[int, str]:
    """Stream the archive to the next free version's key: (version, URI); AWS errors as ValidationError.

    The key is written only if absent, so two uploads at once take two versions instead of one
    overwriting the other's object.
    """
    slug = tenant.slug if tenant else "shared"
    try:
        storage.bucket_ensure(settings.SAASADMIN_BUCKET, settings.AWS_REGION)
        first = _next_version(tenant, framework)
        for number in range(first, first + VERSION_ATTEMPTS):
            uri = bucket_uri("models", slug, framework, f"v{number}", "model.tar.gz")
            fileobj.seek(0)
            with contextlib.suppress(AlreadyExists):
                storage.object_create(uri, fileobj, tags={"saasadmin:tenant": slug})
                return number, uri
    except AwsError as exc:
        raise upload_refusal(exc) from None
    raise ValidationError("Other uploads are taking this model's next versions right now: upload again.")


@transaction.atomic
def _package_save(package: ModelPackage, actor: Any) -> ModelPackage:
    package.save()
    audit_record(
        actor=actor,
        action="model_package.upload",
        obj=package,
        tenant=package.tenant,
        after={"uri": package.model_data_url},
    )
    return package


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
    assigned here. The archive is checked in one streaming pass (deployments.services.archives) and sent
    to S3 from the file as it is, with no database transaction open while it travels. Raises
    ValidationError with a message that says what to upload instead, or that S3 could not be reached.
    """
    image = _image_for_upload(tenant, framework, version)
    facts: ArchiveFacts = archive_inspect(fileobj, framework)
    package = ModelPackage(
        tenant=tenant,
        framework=framework,
        framework_version=version or FRAMEWORK_VERSIONS[framework][0],
        image_uri=image,
        size_bytes=facts.size_bytes,
        sha256=facts.sha256,
        notes=notes,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    package.full_clean(exclude=["version", "model_data_url"], validate_constraints=False)
    package.version, package.model_data_url = _archive_store(fileobj, tenant, framework)
    try:
        return _package_save(package, actor)
    except IntegrityError:  # another upload registered this version after we stored the object
        with contextlib.suppress(AwsError):  # the object would be an orphan: take it back
            storage.object_delete(package.model_data_url)
        raise ValidationError(
            f"Version {package.version} was registered by another upload meanwhile: upload again."
        ) from None


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

"""A tenant's input area: CSV uploads checked against its batch model's input and streamed to S3, files
deleted, and operators pointing a tenant at an S3 prefix it already has."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from deployments import resources
from deployments.aws import storage
from deployments.aws.errors import AlreadyExists, AwsError
from deployments.csvcheck import CsvRefused, Expectation, csv_check
from deployments.models import (
    ACTIVE_RUN_STATUSES,
    DatasetFile,
    Deployment,
    InputArea,
    Kind,
    Status,
    TransformRunFile,
)
from deployments.services.packages import upload_refusal
from tenants.audit import audit_record
from tenants.models import Tenant

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.csv$")
SPOOL_BYTES = 4 * 1024 * 1024  # the checked copy stays in memory up to this, then goes to disk
LISTED_FILES = 1000


@dataclass(frozen=True)
class InputObject:
    """One file of the input area as the page lists it (rows unknown for files that arrived by S3)."""

    name: str
    uri: str
    size: int
    arrived: datetime
    rows: int | None
    uploaded_by: str


def dataset_expectation(tenant: Tenant) -> Expectation:
    """What the tenant's batch model reads (its batch deployment's settings); any numeric CSV without a
    header when it has none yet."""
    batch = Deployment.objects.filter(tenant=tenant, kind=Kind.BATCH).exclude(status=Status.DELETED)
    for deployment in batch.order_by("-created_at"):
        values = resources.values(deployment)
        return Expectation(columns=values["input_columns"], header=values["input_header"] == "present")
    return Expectation()


def _checked_name(tenant: Tenant, name: str) -> str:
    if tenant.is_leaving:
        raise ValidationError("An offboarded tenant cannot get new files.")
    base = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if not NAME_PATTERN.match(base):
        raise ValidationError(
            {"file": "Name the file with letters, digits, dots, dashes or underscores, ending in .csv."}
        )
    return base


def dataset_upload(*, actor: Any, tenant: Tenant, name: str, fileobj: IO[bytes]) -> DatasetFile:
    """Check a CSV against the tenant's model input, then stream it into the input area.

    The file is read once, row by row, into a checked copy (memory up to SPOOL_BYTES, then disk); only a
    file that fits is sent, in one PutObject, so S3 never holds part of a refused or broken upload.
    Raises ValidationError saying the line and the reason, or that S3 could not be reached.
    """
    base = _checked_name(tenant, name)
    uri = resources.input_prefix(tenant) + base
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as checked_copy:
        fileobj.seek(0)
        try:
            checked = csv_check(fileobj, dataset_expectation(tenant), checked_copy)
        except CsvRefused as exc:
            raise ValidationError({"file": f"{base} was not uploaded. {exc}"}) from None
        size = checked_copy.tell()
        checked_copy.seek(0)
        try:
            storage.object_create(uri, checked_copy, tags={"saasadmin:tenant": tenant.slug})
        except AlreadyExists:
            raise ValidationError(
                {"file": f"The input area already has a file named {base}: delete it first, or rename yours."}
            ) from None
        except AwsError as exc:
            raise upload_refusal(exc) from None
    return _dataset_save(actor, tenant, uri, base, size, checked.rows, checked.names)


def _dataset_save(
    actor: Any, tenant: Tenant, uri: str, name: str, size: int, rows: int, names: list[str]
) -> DatasetFile:
    try:
        with transaction.atomic():
            item = DatasetFile.objects.create(
                tenant=tenant,
                uri=uri,
                name=name,
                size_bytes=size,
                rows=rows,
                columns=names,
                uploaded_by=actor if getattr(actor, "pk", None) else None,
            )
            audit_record(
                actor=actor,
                action="dataset.upload",
                obj=item,
                tenant=tenant,
                after={"rows": rows, "uri": uri},
            )
    except IntegrityError:
        storage.object_delete(uri)  # not recorded: the object would be a file nobody listed as uploaded
        raise ValidationError(
            {"file": f"{name} was uploaded by someone else meanwhile: upload again."}
        ) from None
    return item


def dataset_delete(*, actor: Any, tenant: Tenant, uri: str) -> None:
    """Delete a file of the tenant's input area (not while a running job reads it)."""
    prefix = resources.input_prefix(tenant)
    if not uri.startswith(prefix) or "/" in uri[len(prefix) :]:
        raise ValidationError("That file is not in this tenant's input area.")
    busy = TransformRunFile.objects.filter(
        tenant=tenant, input_key=uri, run__status__in=ACTIVE_RUN_STATUSES
    ).exists()
    if busy:
        raise ValidationError("A running batch job is reading this file: delete it once the run has ended.")
    try:
        storage.object_delete(uri)
    except AwsError as exc:
        raise ValidationError(f"Amazon S3 could not delete the file ({exc.message}): try again.") from None
    name = uri[len(prefix) :]
    with transaction.atomic():
        DatasetFile.objects.filter(tenant=tenant, uri=uri).delete()
        audit_record(
            actor=actor, action="dataset.delete", obj=tenant, tenant=tenant, after={"uri": uri, "name": name}
        )


def input_area_point(*, actor: Any, tenant: Tenant, prefix: str) -> InputArea | None:
    """Point the tenant's runs at an existing S3 prefix (empty: back to its own); checked by listing it."""
    prefix = prefix.strip()
    if not prefix or prefix == resources.default_input_prefix(tenant):
        with transaction.atomic():
            InputArea.objects.filter(tenant=tenant).delete()
            audit_record(actor=actor, action="input_area.point", obj=tenant, tenant=tenant,
                         after={"uri": resources.default_input_prefix(tenant)})  # fmt: skip
        return None
    if not re.match(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/(\S+/)?$", prefix):
        raise ValidationError(
            {"prefix": "Give an S3 prefix such as s3://my-bucket/exports/ (ending with /)."}
        )
    try:
        storage.objects_list(prefix, limit=1)
    except AwsError as exc:
        raise ValidationError(
            {
                "prefix": f"The prefix cannot be listed ({exc.message}): check the bucket and the "
                "role's s3:ListBucket permission."
            }
        ) from None
    with transaction.atomic():
        area, _ = InputArea.objects.update_or_create(
            tenant=tenant, defaults={"prefix": prefix, "updated_by": actor}
        )
        audit_record(actor=actor, action="input_area.point", obj=tenant, tenant=tenant, after={"uri": prefix})
    return area


def input_objects(tenant: Tenant) -> list[InputObject]:
    """The files in the tenant's input area, newest first: S3's listing, with what uploads recorded."""
    prefix = resources.input_prefix(tenant)
    found = storage.objects_list(prefix, limit=LISTED_FILES)
    uploads = {
        item.uri: item
        for item in DatasetFile.objects.filter(tenant=tenant, uri__startswith=prefix).select_related(
            "uploaded_by"
        )
    }
    listed = []
    for obj in found:
        upload = uploads.get(obj.uri)
        listed.append(
            InputObject(
                name=obj.uri.removeprefix(prefix),
                uri=obj.uri,
                size=obj.size,
                arrived=obj.modified,
                rows=upload.rows if upload else None,
                uploaded_by=str(upload.uploaded_by or "") if upload else "",
            )
        )
    return sorted(listed, key=lambda o: o.arrived, reverse=True)

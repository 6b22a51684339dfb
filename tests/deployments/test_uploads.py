"""Uploads are bounded: an oversized request is refused from its headers, a file is never written past the
limit, the archive goes to S3 from its file, and S3 being unreachable is a sentence on the form."""

from __future__ import annotations

import io
import random
import tarfile
from types import SimpleNamespace
from typing import Any
from wsgiref.util import is_hop_by_hop

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test.client import FakePayload
from django.urls import reverse

from deployments.aws.clients import client as aws_client
from deployments.models import ModelPackage
from deployments.uploads import DISCARD_BLOCK
from tests.deployments.test_pages import _tarball


@pytest.fixture
def operator_client(client: Any, world: SimpleNamespace) -> Any:
    client.force_login(world.operator)
    return client


def _upload_data(world: SimpleNamespace, archive: bytes) -> dict[str, Any]:
    return {"tenant": str(world.tenant_a.pk), "framework": "xgboost", "version": "3.0-5",
            "archive": SimpleUploadedFile("model.tar.gz", archive)}  # fmt: skip


def test_an_oversized_request_is_refused_from_its_headers(
    operator_client: Any, world: SimpleNamespace, settings: Any, monkeypatch: Any
) -> None:
    settings.MODEL_PACKAGE_MAX_BYTES = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    reads: list[int] = []
    real_read = FakePayload.read
    monkeypatch.setattr(
        FakePayload, "read", lambda self, size=-1: reads.append(size) or real_read(self, size)
    )
    body = b"x" * 300_000
    response = operator_client.post(
        reverse("model_package_upload"), body, content_type="multipart/form-data; boundary=zzz"
    )
    assert response.status_code == 413
    # A WSGI server refuses hop-by-hop headers from the application (runserver answers a 500 instead).
    assert not [name for name, _ in response.items() if is_hop_by_hop(name)]
    assert "the largest accepted is 2.0\xa0KB" in response.content.decode()
    assert reads
    assert all(0 < size <= DISCARD_BLOCK for size in reads)
    assert not ModelPackage.objects.exists()


def test_a_file_past_the_limit_is_never_written_past_it(
    operator_client: Any, world: SimpleNamespace, settings: Any, monkeypatch: Any
) -> None:
    settings.MODEL_PACKAGE_MAX_BYTES = 10_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # straight to a temporary file, as a large upload goes
    written: list[int] = []
    monkeypatch.setattr(
        TemporaryUploadedFile,
        "write",
        property(lambda self: lambda data: written.append(len(data)) or self.file.write(data)),
    )
    archive = _tarball({"xgboost-model": random.Random(8).randbytes(50_000)})  # incompressible: ~50 KB
    response = operator_client.post(reverse("model_package_upload"), _upload_data(world, archive))
    assert response.status_code == 200
    assert f"The archive is {len(archive):,} bytes; the limit is 10,000 bytes" in response.content.decode()
    assert sum(written) <= 10_000
    assert not ModelPackage.objects.exists()


def test_the_archive_is_read_once_and_travels_to_s3_from_its_file(
    operator_client: Any, world: SimpleNamespace, aws: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    archive = _tarball({"xgboost-model": b"{}"})
    opened: list[str] = []
    real_open = tarfile.open
    monkeypatch.setattr(
        tarfile, "open", lambda *a, **k: opened.append(k.get("mode", "")) or real_open(*a, **k)
    )
    bodies: list[Any] = []

    def seen(params: dict[str, Any], **_: Any) -> None:
        bodies.append(params["Body"])

    s3 = aws_client("s3")
    s3.meta.events.register("provide-client-params.s3.PutObject", seen, unique_id="upload-body")
    try:
        response = operator_client.post(reverse("model_package_upload"), _upload_data(world, archive))
    finally:
        s3.meta.events.unregister("provide-client-params.s3.PutObject", unique_id="upload-body")
    assert response.status_code == 302
    assert len(opened) == 1  # checked in one pass, not once by the form and again by the service
    assert len(bodies) == 1
    assert not isinstance(bodies[0], bytes | bytearray)
    assert ModelPackage.objects.get().size_bytes == len(archive)


def test_an_upload_while_s3_is_unreachable_answers_a_form_error(
    operator_client: Any, world: SimpleNamespace, settings: Any
) -> None:
    settings.AWS_MODE = "emulated"
    settings.EMULATOR_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT = 0.5
    archive = _tarball({"xgboost-model": b"{}"})
    response = operator_client.post(reverse("model_package_upload"), _upload_data(world, archive))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Amazon S3 could not be reached" in body
    assert "nothing was uploaded" in body
    assert not ModelPackage.objects.exists()


def test_two_uploads_of_one_version_at_once_take_two_versions(world: SimpleNamespace, aws: Any) -> None:
    """Another upload stored v1 but has not registered it yet: this one takes v2, never overwriting v1."""
    from deployments.services import model_package_upload
    from tests.deployments.conftest import BUCKET

    aws.s3.put_object(Bucket=BUCKET, Key="models/alpha/xgboost/v1/model.tar.gz", Body=b"the other upload")
    package = model_package_upload(
        actor=None, tenant=world.tenant_a, framework="xgboost", version="3.0-5",
        fileobj=io.BytesIO(_tarball({"xgboost-model": b"{}"})),
    )  # fmt: skip
    assert package.version == 2
    assert aws.s3.get_object(Bucket=BUCKET, Key="models/alpha/xgboost/v1/model.tar.gz")["Body"].read() == (
        b"the other upload"
    )

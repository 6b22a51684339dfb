"""An uploaded model.tar.gz is hostile input: paths out of the model folder, links, devices, bombs and
oversized headers are refused on the upload page, each with a sentence, before anything reaches S3."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from deployments.models import ModelPackage

MODEL = b'{"learner": {}}'


def _pack(*members: tarfile.TarInfo, data: dict[str, bytes] | None = None, **options: Any) -> bytes:
    """A tar.gz of `members` (a regular member's content from `data`, else MODEL)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz", **options) as archive:
        for info in members:
            content = (data or {}).get(info.name, MODEL) if info.isfile() else b""
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content) if info.isfile() else None)
    return raw.getvalue()


def _file(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def _special(name: str, kind: bytes, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "climbing out": (lambda: _pack(_file("../../xgboost-model")), "climbs out of the model folder"),
    "absolute path": (lambda: _pack(_file("/xgboost-model")), "an absolute path"),
    "symlink beside the model": (
        lambda: _pack(_file("xgboost-model"), _special("passwd", tarfile.SYMTYPE, "/etc/passwd")),
        "a link (to `/etc/passwd`)",
    ),
    "hard link": (
        lambda: _pack(_file("xgboost-model"), _special("copy", tarfile.LNKTYPE, "xgboost-model")),
        "a link",
    ),
    "device": (lambda: _pack(_file("xgboost-model"), _special("null", tarfile.CHRTYPE)), "a device"),
    "pipe": (
        lambda: _pack(_file("xgboost-model"), _special("queue", tarfile.FIFOTYPE)),
        "a device or a pipe",
    ),
}


@pytest.fixture
def upload(client: Any, world: SimpleNamespace) -> Callable[[bytes], str]:
    """Send an archive through the upload page as the operator; the page's text."""
    client.force_login(world.operator)

    def send(archive: bytes) -> str:
        data = {"tenant": str(world.tenant_a.pk), "framework": "xgboost", "version": "3.0-5",
                "archive": SimpleUploadedFile("model.tar.gz", archive)}  # fmt: skip
        response = client.post(reverse("model_package_upload"), data)
        assert response.status_code == 200
        return response.content.decode()

    return send


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_members_are_refused_with_a_reason(upload: Callable[[bytes], str], case: str) -> None:
    build, reason = HOSTILE[case]
    page = upload(build())
    assert reason in page
    assert "pack plain files and folders only" in page
    assert not ModelPackage.objects.exists()


def test_a_gzip_bomb_stops_at_the_cap_without_being_unpacked(
    upload: Callable[[bytes], str], settings: Any, monkeypatch: Any
) -> None:
    settings.MODEL_ARCHIVE_MAX_UNPACKED_BYTES = 1024 * 1024
    bomb = _pack(_file("xgboost-model"), _file("padding"), data={"padding": bytes(64 * 1024 * 1024)})
    assert len(bomb) < 100_000  # 64 MB of zeros in a few tens of KB
    unpacked: list[int] = []
    real_read = gzip.GzipFile.read
    monkeypatch.setattr(gzip.GzipFile, "read", lambda self, *a: _counted(unpacked, real_read(self, *a)))
    page = upload(bomb)
    assert "unpacks to more than 1.0\xa0MB (1,048,576 bytes)" in page
    assert sum(unpacked) < 2 * 1024 * 1024  # refused at the member's header, not after unpacking it
    assert not ModelPackage.objects.exists()


def _counted(sizes: list[int], data: bytes) -> bytes:
    sizes.append(len(data))
    return data


def test_an_oversized_pax_header_is_refused_before_it_is_read_whole(
    upload: Callable[[bytes], str], monkeypatch: Any
) -> None:
    """tar reads a pax header (or a GNU long name) whole: a 5 MB one is a bomb of its own."""
    info = _file("xgboost-model")
    info.pax_headers = {"comment": "x" * 5_000_000}
    unpacked: list[int] = []
    real_read = gzip.GzipFile.read
    monkeypatch.setattr(gzip.GzipFile, "read", lambda self, *a: _counted(unpacked, real_read(self, *a)))
    page = upload(_pack(info, format=tarfile.PAX_FORMAT))
    assert "pax header bomb" in page
    assert sum(unpacked) < 2 * 1024 * 1024
    assert not ModelPackage.objects.exists()


def test_too_many_members_are_refused(upload: Callable[[bytes], str], settings: Any) -> None:
    settings.MODEL_ARCHIVE_MAX_MEMBERS = 3
    page = upload(_pack(_file("xgboost-model"), *(_file(f"part-{i}") for i in range(5))))
    assert "more than 3 files and folders, the limit (MODEL_ARCHIVE_MAX_MEMBERS)" in page
    assert not ModelPackage.objects.exists()


def test_the_upload_page_states_the_limits(client: Any, world: SimpleNamespace, settings: Any) -> None:
    settings.MODEL_PACKAGE_MAX_BYTES = 100 * 1024 * 1024
    settings.MODEL_ARCHIVE_MAX_UNPACKED_BYTES = 300 * 1024 * 1024
    settings.MODEL_ARCHIVE_MAX_MEMBERS = 77
    client.force_login(world.operator)
    page = client.get(reverse("model_packages")).content.decode()
    assert "at most 100.0\xa0MB, unpacking to at most 300.0\xa0MB in at most 77 files and folders" in page
    assert "no links, devices, absolute paths or `..`" in page


def test_a_model_under_a_dot_folder_prefix_is_accepted(world: SimpleNamespace, aws: Any) -> None:
    """`tar -czf model.tar.gz -C model_dir .` writes `./xgboost-model`: that is the top level."""
    from deployments.services import model_package_upload

    archive = _pack(_special(".", tarfile.DIRTYPE), _file("./xgboost-model"))
    package = model_package_upload(
        actor=None, tenant=world.tenant_a, framework="xgboost", version="3.0-5", fileobj=io.BytesIO(archive)
    )
    assert package.sha256
    assert package.size_bytes == len(archive)

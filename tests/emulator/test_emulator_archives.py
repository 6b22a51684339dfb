"""A hostile model.tar.gz cannot take the emulator's memory: past its archive limits (its own flags) the
endpoint fails with the reason, and the oversized member is never decompressed."""

from __future__ import annotations

import gzip
import io
import tarfile
from typing import Any

import boto3
import pytest

import emulator
from emulator import artifacts
from emulator.models import XGBOOST, ArchiveLimits, ArchiveTooLarge, load_artifact
from emulator.testing import BUCKET, ROLE, client_kwargs, wait_endpoint, xgboost_model

LIMITS = ArchiveLimits(max_unpacked_bytes=1024 * 1024, max_members=5)


def _pack(files: dict[str, bytes], info: tarfile.TarInfo | None = None) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, content in files.items():
            member = info if info is not None and info.name == name else tarfile.TarInfo(name)
            member.size = len(content)
            archive.addfile(member, io.BytesIO(content))
    return raw.getvalue()


def _model() -> bytes:
    """A real XGBoost model, as the demo trains it."""
    with tarfile.open(fileobj=io.BytesIO(artifacts.xgboost_artifact("acme")), mode="r:gz") as archive:
        extracted = archive.extractfile("xgboost-model")
        assert extracted is not None
        return extracted.read()


def test_a_model_within_the_limits_loads() -> None:
    model = load_artifact(XGBOOST, _pack({"xgboost-model": _model()}), LIMITS)
    assert model.framework == XGBOOST


def test_a_gzip_bomb_is_refused_at_the_members_header(monkeypatch: Any) -> None:
    bomb = _pack({"padding": bytes(64 * 1024 * 1024), "xgboost-model": _model()})
    unpacked: list[int] = []
    real_read = gzip.GzipFile.read
    monkeypatch.setattr(
        gzip.GzipFile, "read", lambda self, *a: unpacked.append(len(d := real_read(self, *a))) or d
    )
    with pytest.raises(ArchiveTooLarge, match=r"unpacks to more than 1 MB.*--archive-max-unpacked-mb"):
        load_artifact(XGBOOST, bomb, LIMITS)
    assert sum(unpacked) < 2 * 1024 * 1024


def test_too_many_members_and_oversized_headers_are_refused() -> None:
    many = _pack({f"part-{i}": b"x" for i in range(6)})
    with pytest.raises(ArchiveTooLarge, match=r"more than 5 files.*--archive-max-members"):
        load_artifact(XGBOOST, many, LIMITS)
    info = tarfile.TarInfo("xgboost-model")
    info.pax_headers = {"comment": "x" * 5_000_000}
    with pytest.raises(ArchiveTooLarge, match="pax header bomb"):
        load_artifact(XGBOOST, _pack({"xgboost-model": _model()}, info), LIMITS)


def test_an_endpoint_on_a_bomb_fails_with_the_reason(demo: Any) -> None:
    """An emulator started with small limits: the endpoint fails instead of the emulator filling memory."""
    with emulator.start(port=0, archive_max_unpacked_bytes=1024 * 1024) as handle:
        sagemaker = boto3.client("sagemaker", **client_kwargs(handle.url))
        s3 = boto3.client("s3", **client_kwargs(handle.url))
        s3.put_object(
            Bucket=BUCKET, Key="bombs/model.tar.gz", Body=_pack({"xgboost-model": bytes(8 * 1024 * 1024)})
        )
        sagemaker.create_model(
            ModelName="bomb", ExecutionRoleArn=ROLE, **xgboost_model(f"s3://{BUCKET}/bombs/model.tar.gz")
        )
        variant = {"VariantName": "v", "ModelName": "bomb", "InstanceType": "ml.m5.large",
                   "InitialInstanceCount": 1}  # fmt: skip
        sagemaker.create_endpoint_config(EndpointConfigName="bomb", ProductionVariants=[variant])
        sagemaker.create_endpoint(EndpointName="bomb", EndpointConfigName="bomb")
        described = wait_endpoint(sagemaker, "bomb", "Failed")
    assert described["FailureReason"] == (
        f'Failed to extract model data archive from URL "s3://{BUCKET}/bombs/model.tar.gz". '
        "The archive unpacks to more than 1 MB, the emulator's limit (--archive-max-unpacked-mb)."
    )

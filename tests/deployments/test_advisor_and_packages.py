"""The advisor ranks valid kinds by cost with reasons; uploads are checked before they are accepted."""

from __future__ import annotations

import io
import tarfile
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from deployments.advisor import Needs, advise
from deployments.forms_catalogue import AdvisorForm
from deployments.services import model_package_upload
from tests.deployments.conftest import BUCKET


def _tarball(name: str, payload: bytes = b"model") -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    return raw.getvalue()


def test_500_tenants_are_far_cheaper_on_one_multi_model_endpoint() -> None:
    ranked = advise(
        Needs(tenants=500, own_model=True, same_container=True, cold_starts_ok=True, peak_rps=0.2)
    )
    by_kind = {a.kind: a for a in ranked}
    assert ranked[0].kind == "multi_model"
    assert ranked[0].valid
    assert by_kind["realtime"].valid
    assert by_kind["realtime"].monthly == 500 * by_kind["realtime"].per_tenant
    assert by_kind["realtime"].monthly > 50 * by_kind["multi_model"].monthly
    assert "500 × (always on: 1 × ml.m5.large × 730 h" in by_kind["realtime"].reasons[0]
    assert "34 endpoints of ≤ 15 containers" in by_kind["multi_container"].reasons[0]


def test_periodic_needs_rank_batch_first_and_refuse_with_reasons() -> None:
    ranked = advise(Needs(latency="periodic", tenants=1, requests_per_day=0, peak_rps=0))
    assert ranked[0].kind == "batch"
    refused = {a.kind: a.reasons[0] for a in ranked if not a.valid}
    assert "cold starts" in refused["serverless"]


def test_batch_advice_states_the_timeout_aws_applies() -> None:
    batch = next(a for a in advise(Needs(latency="periodic", tenants=1)) if a.kind == "batch")
    limits = next(r for r in batch.reasons if r.startswith("limits:"))
    assert "up to 3600 s per request (the InvocationsTimeoutInSeconds setting, 600 s by default)" in limits


def test_large_payloads_leave_only_async_and_batch() -> None:
    ranked = advise(Needs(latency="minutes", payload_mb=50, cold_starts_ok=True))
    assert [a.kind for a in ranked if a.valid] == ["async"]
    assert "use an asynchronous endpoint" in next(a for a in ranked if a.kind == "realtime").reasons[0]


def test_the_advisor_form_gives_needs() -> None:
    form = AdvisorForm(
        data={
            "latency": "milliseconds",
            "payload_mb": 1,
            "requests_per_day": 100,
            "peak_rps": 1,
            "traffic": "spiky",
            "tenants": 20,
            "own_model": "on",
            "inference_ms": 50,
            "isolation": "",
        }
    )
    assert form.is_valid(), form.errors
    assert form.needs().tenants == 20
    assert form.needs().isolation is None


@pytest.mark.parametrize(
    ("framework", "archive", "message"),
    [
        ("xgboost", b"not a tarball", "not a model.tar.gz"),
        ("xgboost", _tarball("model.joblib"), "loads `xgboost-model`"),
        ("sklearn", _tarball("xgboost-model"), "loads `model.joblib`"),
    ],
    ids=["not-a-tarball", "xgboost-without-its-file", "sklearn-without-its-file"],
)
def test_an_upload_the_container_cannot_load_is_refused(
    world: SimpleNamespace, client: Any, framework: str, archive: bytes, message: str
) -> None:
    version = "3.0-5" if framework == "xgboost" else "1.4-2"
    client.force_login(world.operator)
    data = {"tenant": world.tenant_a.pk, "framework": framework, "version": version}
    page = client.post("/models/upload/", {**data, "archive": SimpleUploadedFile("model.tar.gz", archive)})
    assert message in str(page.context["form"].errors["archive"])
    with pytest.raises(ValidationError, match=message.replace("`", ".")):
        model_package_upload(
            actor=None,
            tenant=world.tenant_a,
            framework=framework,
            version=version,
            fileobj=io.BytesIO(archive),
        )


def test_an_oversized_upload_is_refused(world: SimpleNamespace, settings: Any) -> None:
    settings.MODEL_PACKAGE_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="the limit is 10 bytes"):
        model_package_upload(
            actor=None,
            tenant=world.tenant_a,
            framework="xgboost",
            version="3.0-5",
            fileobj=io.BytesIO(_tarball("xgboost-model")),
        )


def test_a_good_upload_lands_under_the_tenants_prefix(world: SimpleNamespace, aws: Any) -> None:
    package = model_package_upload(
        actor=world.operator,
        tenant=world.tenant_a,
        framework="xgboost",
        version="3.0-5",
        fileobj=io.BytesIO(_tarball("xgboost-model")),
        notes="first",
    )
    assert package.model_data_url == f"s3://{BUCKET}/models/alpha/xgboost/v1/model.tar.gz"
    assert package.image_uri == "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
    assert aws.s3.head_object(Bucket=BUCKET, Key="models/alpha/xgboost/v1/model.tar.gz")["ContentLength"] > 0
    again = model_package_upload(
        actor=world.operator,
        tenant=world.tenant_a,
        framework="xgboost",
        version="1.7-1",
        fileobj=io.BytesIO(_tarball("xgboost-model")),
    )
    assert again.version == 2
    assert again.image_uri.endswith("sagemaker-xgboost:1.7-1")

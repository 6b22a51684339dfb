"""The inference API's URLs against every role and tenant (the access matrix leaves them to this file: they
answer Bearer tokens, not sessions), its OpenAPI document and docs page, and a fuzz test: no 500."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deployments.models import Deployment
from tenants.tokens import token_create
from tests.test_access_matrix import _patterns

API_NAMES = sorted(name for name, _pattern in _patterns() if name.startswith("api_v1:"))
UPSTREAM_CODES = {"sagemaker_refused", "model_error"}
PUBLIC = {"api_v1:openapi-json", "api_v1:openapi-view"}


def test_every_api_url_is_covered_here() -> None:
    assert set(API_NAMES) == {
        *PUBLIC,
        "api_v1:predict",
        "api_v1:prediction",
        "api_v1:api-root",
        "api_v1:not_found",
    }


@pytest.mark.parametrize("inference_id", ["a\x00b", "x" * 65, "nope"])
def test_a_malformed_or_unknown_inference_id_is_a_404(world: SimpleNamespace, inference_id: str) -> None:
    _token, secret = token_create(actor=None, tenant=world.tenant_a, name="ids")
    answer = Client().get(f"/api/v1/predictions/{inference_id}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert answer.status_code == 404
    assert answer.json()["code"] == "prediction_not_found"


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/predict/extra/x"])
def test_an_unknown_api_path_is_a_json_404(db: None, path: str) -> None:
    answer = Client().get(path)
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


@pytest.mark.parametrize("user", ["operator", "finance", "admin_a", "viewer_a", "admin_b", None])
def test_a_session_never_reaches_a_model_only_a_token_does(world: SimpleNamespace, user: str | None) -> None:
    client = Client()
    if user:
        client.force_login(getattr(world, user))
    answer = client.post("/api/v1/predict", data=b"1,2", content_type="text/csv")
    assert answer.status_code == 401
    assert answer.json()["code"] == "token_missing"
    answer = client.get("/api/v1/predictions/anything")
    assert answer.status_code == 401
    for name in PUBLIC:
        assert client.get(reverse(name)).status_code == 200


def test_the_openapi_document_describes_both_operations_and_the_bearer_scheme(db: None) -> None:
    document = Client().get("/api/v1/openapi.json").json()
    assert set(document["paths"]) == {"/api/v1/predict", "/api/v1/predictions/{inference_id}"}
    body = document["paths"]["/api/v1/predict"]["post"]["requestBody"]["content"]
    assert set(body) == {"text/csv", "application/json"}
    assert document["components"]["securitySchemes"]["TenantBearer"]["scheme"] == "bearer"


def test_the_docs_page_loads_local_assets_and_runs_no_inline_script(db: None) -> None:
    page = Client().get("/api/v1/docs/").content.decode()
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert "cdn" not in page.lower()
    assert "/static/ninja/swagger-ui-bundle.js" in page


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x2FFF), max_size=40)
HEADER = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(["text/csv", "application/json", "text/plain", "", "multipart/form-data"])
    | HEADER,
    auth=st.sampled_from(["valid", "", "Bearer ", "Basic abc", "Bearer sa_zz_zz"]) | HEADER,
    inference_id=TEXT,
    query=HEADER,
)
def test_no_input_makes_the_api_answer_500(
    world: SimpleNamespace,
    aws: object,
    body: bytes,
    content_type: str,
    auth: str,
    inference_id: str,
    query: str,
) -> None:
    if auth == "valid":
        if not hasattr(world, "secret"):
            _token, world.secret = token_create(actor=None, tenant=world.tenant_a, name="fuzz")
            # In service as far as the database knows, gone from SageMaker: every check runs, then a 502.
            Deployment.objects.create(
                tenant=world.tenant_a, name="Fuzz", kind="realtime", isolation="silo",
                aws_name="sa-fuzz-gone", status="in_service",
            )  # fmt: skip
        auth = f"Bearer {world.secret}"
    client = Client(raise_request_exception=False)
    headers = {"HTTP_AUTHORIZATION": auth}
    answer = client.post(f"/api/v1/predict?{query}", data=body, content_type=content_type, **headers)
    # A 5xx may only be SageMaker's refusal passed on (the fuzz deployment's endpoint is gone), never ours.
    assert answer.status_code < 500 or answer.json()["code"] in UPSTREAM_CODES, answer.content
    assert set(answer.json()) == {"code", "message"}
    safe = inference_id.replace("/", "").replace("?", "").replace("#", "") or "x"
    answer = client.get(f"/api/v1/predictions/{safe}", **headers)
    assert answer.status_code < 500, answer.content


def test_the_upload_size_middleware_leaves_api_bodies_to_the_api(
    world: SimpleNamespace, settings: Any
) -> None:
    """An async payload may be 1 GB, past the largest model package: the API applies each kind's own limit."""
    settings.MODEL_PACKAGE_MAX_BYTES = 10
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    answer = Client().post("/api/v1/predict", data=b"1," * 64, content_type="text/csv")
    assert answer.status_code == 401
    assert answer.json()["code"] == "token_missing"
